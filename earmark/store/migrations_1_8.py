"""Migrations 1 to 8, the first part of MIGRATIONS (earmark/store/schema.py, which db.py applies):
podcasts and episodes, playback, jobs and transcripts, search, snips and exports, understanding,
speakers. All released, so frozen: never edit one; a change is a new migration appended in schema.py."""

MIGRATIONS_1_TO_8: list[str] = [
    # 1: podcasts, episodes, downloads
    """
    CREATE TABLE podcasts (
        id              INTEGER PRIMARY KEY,
        url             TEXT NOT NULL UNIQUE,
        title           TEXT NOT NULL DEFAULT '',
        author          TEXT NOT NULL DEFAULT '',
        description     TEXT NOT NULL DEFAULT '',
        link            TEXT,
        image           TEXT,
        language        TEXT,
        categories      TEXT,           -- JSON list of "Top > Sub" labels
        persons         TEXT,           -- JSON list of Person
        funding         TEXT,           -- JSON list of Funding
        podcast_guid    TEXT,
        explicit        INTEGER,
        locked          INTEGER,
        added_at        REAL NOT NULL,
        status          TEXT NOT NULL DEFAULT 'new',   -- new / ok / error
        error           TEXT,
        last_checked    REAL,
        last_success    REAL,
        etag            TEXT,
        last_modified   TEXT,
        content_hash    TEXT            -- sha256 of the last parsed body: same bytes, no parse
    );

    CREATE TABLE episodes (
        id                   INTEGER PRIMARY KEY,
        podcast_id           INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        guid                 TEXT NOT NULL,
        title                TEXT NOT NULL DEFAULT '',
        published            REAL,
        duration             INTEGER,
        description          TEXT NOT NULL DEFAULT '',
        description_html     TEXT NOT NULL DEFAULT '',
        link                 TEXT,
        enclosure_url        TEXT,
        enclosure_type       TEXT,
        enclosure_length     INTEGER,
        image                TEXT,
        season               INTEGER,
        number               INTEGER,
        episode_type         TEXT,
        explicit             INTEGER,
        transcripts          TEXT,      -- JSON list of TranscriptLink
        chapters_link        TEXT,      -- JSON ChaptersLink
        chapters             TEXT,      -- JSON list of Chapter (Podlove, in the feed)
        persons              TEXT,
        soundbites           TEXT,
        funding              TEXT,
        alternate_enclosures TEXT,
        content_hash         TEXT NOT NULL,   -- of the fields above: unchanged entries are not rewritten
        first_seen           REAL NOT NULL,
        updated_at           REAL NOT NULL,
        UNIQUE (podcast_id, guid)
    );
    CREATE INDEX episodes_by_podcast_date ON episodes (podcast_id, published DESC);

    CREATE TABLE downloads (
        episode_id   INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        finished_at  REAL NOT NULL
    );
    """,
    # 2: what the listener did: play position / played per episode, and the up-next queue
    """
    CREATE TABLE playback (
        episode_id  INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        position    REAL NOT NULL DEFAULT 0,     -- seconds
        played      INTEGER NOT NULL DEFAULT 0,
        updated_at  REAL NOT NULL
    );

    CREATE TABLE queue (
        episode_id  INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL             -- 0 = up next
    );
    """,
    # 3: the job pipeline (jobs and their stages) and stored transcripts with their segments
    """
    CREATE TABLE jobs (
        id               INTEGER PRIMARY KEY,
        episode_id       INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        state            TEXT NOT NULL DEFAULT 'queued',  -- queued / running / done / failed / cancelled
        priority         INTEGER NOT NULL DEFAULT 0,      -- higher first: user-requested 10, background 0
        stage            TEXT,                            -- the stage running or last run
        progress         REAL NOT NULL DEFAULT 0,         -- 0-100 over all stages
        error            TEXT,
        attempts         INTEGER NOT NULL DEFAULT 0,      -- times claimed by a worker
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        owner            TEXT,                            -- "host:pid" of the worker running it
        heartbeat        REAL,                            -- last sign of life from that worker
        created_at       REAL NOT NULL,
        started_at       REAL,
        finished_at      REAL
    );
    CREATE INDEX jobs_queue ON jobs (state, priority DESC, id);
    -- One live job per episode: asking twice returns the queued one.
    CREATE UNIQUE INDEX jobs_one_live_per_episode ON jobs (episode_id) WHERE state IN ('queued', 'running');

    CREATE TABLE job_stages (
        job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,                       -- download / transcript / ...
        position     INTEGER NOT NULL,                    -- run order
        state        TEXT NOT NULL DEFAULT 'queued',
        progress     REAL NOT NULL DEFAULT 0,
        error        TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        engine       TEXT,                                -- what produced the result
        model        TEXT,
        checkpoint   TEXT,                                -- small JSON for resumable stages
        started_at   REAL,
        finished_at  REAL,
        PRIMARY KEY (job_id, name)
    );

    CREATE TABLE transcripts (
        episode_id  INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        source      TEXT NOT NULL,                        -- publisher / asr
        format      TEXT NOT NULL,                        -- srt / vtt / json / podlove / html / text / asr
        language    TEXT,
        engine      TEXT,
        model       TEXT,
        url         TEXT,                                 -- the podcast:transcript it came from
        complete    INTEGER NOT NULL DEFAULT 0,           -- an ASR run in progress has 0
        updated_at  REAL NOT NULL
    );

    -- Segments apart so search can index them and a resumed ASR run appends chunk by chunk;
    -- (episode_id, idx) unique: a chunk written twice replaces itself instead of duplicating.
    CREATE TABLE segments (
        episode_id  INTEGER NOT NULL REFERENCES transcripts(episode_id) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,
        start       REAL NOT NULL,
        end         REAL NOT NULL,
        speaker     TEXT,
        text        TEXT NOT NULL,
        words       TEXT,                                 -- JSON list of Word, or NULL
        PRIMARY KEY (episode_id, idx)
    );
    """,
    # 4: search — FTS5 documents (segments, titles, show notes, chapters; later summaries and
    # snips: a new kind is one more INSERT) and embedded transcript windows for semantic search.
    """
    CREATE TABLE search_docs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,        -- segment / title / notes / chapter / podcast / podcast_notes / summary / snip
        podcast_id  INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        episode_id  INTEGER REFERENCES episodes(id) ON DELETE CASCADE,   -- NULL for podcast-level docs
        ref         INTEGER,              -- the segment idx / snip id it came from
        start       REAL,                 -- seconds into the episode, where the text is heard
        text        TEXT NOT NULL
    );
    CREATE INDEX search_docs_by_episode ON search_docs (episode_id, kind);
    CREATE INDEX search_docs_by_podcast ON search_docs (podcast_id, kind);
    -- External content: the text is stored once (in search_docs); triggers keep the index in step,
    -- including rows removed by ON DELETE CASCADE when an episode or podcast goes. Prefix
    -- indexes of 2-4 characters make vort* a lookup, not a scan of every term.
    CREATE VIRTUAL TABLE search_fts USING fts5(
        text, content='search_docs', content_rowid='id', prefix='2 3 4',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
        INSERT INTO search_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
        INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;

    -- Feed metadata is indexed by triggers, so every refresh keeps it current without Python hooks.
    CREATE TRIGGER episodes_search_ai AFTER INSERT ON episodes BEGIN
        INSERT INTO search_docs (kind, podcast_id, episode_id, text)
            SELECT 'title', new.podcast_id, new.id, new.title WHERE new.title != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, text)
            SELECT 'notes', new.podcast_id, new.id, new.description WHERE new.description != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'chapter', new.podcast_id, new.id, json_extract(j.value, '$.start'), json_extract(j.value, '$.title')
            FROM json_each(CASE WHEN json_valid(new.chapters) THEN new.chapters ELSE '[]' END) AS j
            WHERE coalesce(json_extract(j.value, '$.title'), '') != '';
    END;
    CREATE TRIGGER episodes_search_au AFTER UPDATE OF title, description, chapters ON episodes BEGIN
        DELETE FROM search_docs WHERE episode_id = new.id AND kind IN ('title', 'notes', 'chapter');
        INSERT INTO search_docs (kind, podcast_id, episode_id, text)
            SELECT 'title', new.podcast_id, new.id, new.title WHERE new.title != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, text)
            SELECT 'notes', new.podcast_id, new.id, new.description WHERE new.description != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'chapter', new.podcast_id, new.id, json_extract(j.value, '$.start'), json_extract(j.value, '$.title')
            FROM json_each(CASE WHEN json_valid(new.chapters) THEN new.chapters ELSE '[]' END) AS j
            WHERE coalesce(json_extract(j.value, '$.title'), '') != '';
    END;
    CREATE TRIGGER podcasts_search_ai AFTER INSERT ON podcasts BEGIN
        INSERT INTO search_docs (kind, podcast_id, text) SELECT 'podcast', new.id, new.title WHERE new.title != '';
        INSERT INTO search_docs (kind, podcast_id, text)
            SELECT 'podcast_notes', new.id, new.description WHERE new.description != '';
    END;
    CREATE TRIGGER podcasts_search_au AFTER UPDATE OF title, description ON podcasts BEGIN
        DELETE FROM search_docs WHERE podcast_id = new.id AND episode_id IS NULL AND kind IN ('podcast', 'podcast_notes');
        INSERT INTO search_docs (kind, podcast_id, text) SELECT 'podcast', new.id, new.title WHERE new.title != '';
        INSERT INTO search_docs (kind, podcast_id, text)
            SELECT 'podcast_notes', new.id, new.description WHERE new.description != '';
    END;
    INSERT INTO search_docs (kind, podcast_id, text) SELECT 'podcast', id, title FROM podcasts WHERE title != '';
    INSERT INTO search_docs (kind, podcast_id, text)
        SELECT 'podcast_notes', id, description FROM podcasts WHERE description != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, text)
        SELECT 'title', podcast_id, id, title FROM episodes WHERE title != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, text)
        SELECT 'notes', podcast_id, id, description FROM episodes WHERE description != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
        SELECT 'chapter', e.podcast_id, e.id, json_extract(j.value, '$.start'), json_extract(j.value, '$.title')
        FROM episodes e, json_each(CASE WHEN json_valid(e.chapters) THEN e.chapters ELSE '[]' END) AS j
        WHERE coalesce(json_extract(j.value, '$.title'), '') != '';

    -- Semantic search: ~45 s windows of consecutive segments, embedded (float32, sqlite-vec's
    -- vector format) and keyed to episode + start time, so one episode is (re)indexed alone.
    -- A plain table rather than a vec0 virtual table: ON DELETE CASCADE removes an episode's
    -- vectors even on connections that never loaded the extension.
    CREATE TABLE search_windows (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL DEFAULT 'window',   -- window / snip
        podcast_id  INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        start       REAL NOT NULL,
        end         REAL NOT NULL,
        text        TEXT NOT NULL,
        model       TEXT NOT NULL,
        embedding   BLOB NOT NULL
    );
    CREATE INDEX search_windows_by_episode ON search_windows (episode_id, start);
    CREATE INDEX search_windows_by_podcast ON search_windows (podcast_id);
    -- Each process searches an in-memory copy of the vectors. Every change to search_windows
    -- (an episode (re)indexed, or its rows removed by ON DELETE CASCADE) stamps the episode with
    -- the next sequence number in the same transaction; a reader compares max(seq) with the one
    -- it loaded and reloads just the episodes stamped since. No foreign key: the stamp of a
    -- deleted episode must outlive it.
    CREATE TABLE search_windows_changes (
        episode_id  INTEGER PRIMARY KEY,
        seq         INTEGER NOT NULL
    );
    CREATE INDEX search_windows_changes_by_seq ON search_windows_changes (seq);
    CREATE TRIGGER search_windows_ai AFTER INSERT ON search_windows BEGIN
        INSERT INTO search_windows_changes (episode_id, seq)
            VALUES (new.episode_id, (SELECT coalesce(max(seq), 0) + 1 FROM search_windows_changes))
            ON CONFLICT (episode_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER search_windows_ad AFTER DELETE ON search_windows BEGIN
        INSERT INTO search_windows_changes (episode_id, seq)
            VALUES (old.episode_id, (SELECT coalesce(max(seq), 0) + 1 FROM search_windows_changes))
            ON CONFLICT (episode_id) DO UPDATE SET seq = excluded.seq;
    END;
    CREATE TRIGGER search_windows_au AFTER UPDATE ON search_windows BEGIN
        INSERT INTO search_windows_changes (episode_id, seq)
            VALUES (old.episode_id, (SELECT coalesce(max(seq), 0) + 1 FROM search_windows_changes))
            ON CONFLICT (episode_id) DO UPDATE SET seq = excluded.seq;
        INSERT INTO search_windows_changes (episode_id, seq)
            VALUES (new.episode_id, (SELECT coalesce(max(seq), 0) + 1 FROM search_windows_changes))
            ON CONFLICT (episode_id) DO UPDATE SET seq = excluded.seq;
    END;
    """,
    # 5: snips, and what each export target (Readwise, Notion, Markdown) already holds
    """
    CREATE TABLE snips (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused: exports key on them
        episode_id      INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        tapped_at       REAL NOT NULL,
        start           REAL NOT NULL,
        "end"           REAL NOT NULL,
        boundary        TEXT NOT NULL DEFAULT 'auto',
        state           TEXT NOT NULL DEFAULT 'pending',
        title           TEXT NOT NULL DEFAULT '',
        takeaways       TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
        quote           TEXT NOT NULL DEFAULT '',
        quote_speaker   TEXT,
        excerpt         TEXT NOT NULL DEFAULT '',
        note            TEXT NOT NULL DEFAULT '',
        tags            TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
        favorite        INTEGER NOT NULL DEFAULT 0,
        edited          TEXT NOT NULL DEFAULT '[]',   -- JSON list of field names the user changed
        error           TEXT,
        engine          TEXT,
        model           TEXT,
        prompt_version  TEXT,
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX snips_by_episode ON snips (episode_id, start);
    CREATE INDEX snips_by_date ON snips (created_at DESC);

    CREATE TABLE export_state (
        target        TEXT NOT NULL,      -- readwise / notion / markdown
        key           TEXT NOT NULL,      -- what was exported: "snip:12", "episode:5"
        remote_id     TEXT,               -- the target's id for it (Notion page id, file path)
        content_hash  TEXT NOT NULL,      -- of what was sent: unchanged snips are not sent again
        exported_at   REAL NOT NULL,
        PRIMARY KEY (target, key)
    );
    """,
    # 6: understanding: AI summaries, chapters (publisher's or generated) and highlights, each with what
    # made it (engine, model, prompt version)
    """
    CREATE TABLE summaries (
        episode_id      INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        paragraphs      TEXT NOT NULL,                    -- JSON list of strings
        takeaways       TEXT NOT NULL,                    -- JSON list of strings
        engine          TEXT,
        model           TEXT,
        prompt_version  TEXT,
        created_at      REAL NOT NULL
    );

    -- One row per episode saying where its chapters came from; the chapters in a table of their own.
    CREATE TABLE chapter_sets (
        episode_id      INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        source          TEXT NOT NULL,                    -- publisher / generated
        origin          TEXT NOT NULL,                    -- psc / podcast-chapters / id3 / show-notes / llm
        engine          TEXT,
        model           TEXT,
        prompt_version  TEXT,
        created_at      REAL NOT NULL
    );
    CREATE TABLE chapters (
        episode_id      INTEGER NOT NULL REFERENCES chapter_sets(episode_id) ON DELETE CASCADE,
        idx             INTEGER NOT NULL,
        start           REAL NOT NULL,
        end             REAL,
        title           TEXT NOT NULL,
        href            TEXT,
        image           TEXT,
        generated       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (episode_id, idx)
    );

    CREATE TABLE highlights (
        id              INTEGER PRIMARY KEY,
        episode_id      INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        start           REAL NOT NULL,
        end             REAL NOT NULL,
        title           TEXT NOT NULL,
        why             TEXT NOT NULL,
        quote           TEXT NOT NULL DEFAULT '',
        engine          TEXT,
        model           TEXT,
        prompt_version  TEXT,
        created_at      REAL NOT NULL
    );
    CREATE INDEX highlights_by_episode ON highlights (episode_id, start);
    CREATE INDEX highlights_by_date ON highlights (created_at DESC);
    """,
    # 7: search over summaries (paragraphs + takeaways; heard at 0 s) and snips (title, takeaways, note;
    # heard at the snip's start), kept current by triggers like feed metadata. A summary is
    # replaced with INSERT OR REPLACE, whose implicit delete fires no trigger, so the insert
    # trigger clears the old entries first.
    """
    CREATE TRIGGER summaries_search_ai AFTER INSERT ON summaries BEGIN
        DELETE FROM search_docs WHERE episode_id = new.episode_id AND kind = 'summary';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'summary', e.podcast_id, e.id, 0, j.value
            FROM episodes e, json_each(CASE WHEN json_valid(new.paragraphs) THEN new.paragraphs ELSE '[]' END) AS j
            WHERE e.id = new.episode_id AND j.type = 'text' AND trim(j.value) != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'summary', e.podcast_id, e.id, 0, j.value
            FROM episodes e, json_each(CASE WHEN json_valid(new.takeaways) THEN new.takeaways ELSE '[]' END) AS j
            WHERE e.id = new.episode_id AND j.type = 'text' AND trim(j.value) != '';
    END;
    CREATE TRIGGER summaries_search_au AFTER UPDATE ON summaries BEGIN
        DELETE FROM search_docs WHERE episode_id IN (old.episode_id, new.episode_id) AND kind = 'summary';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'summary', e.podcast_id, e.id, 0, j.value
            FROM episodes e, json_each(CASE WHEN json_valid(new.paragraphs) THEN new.paragraphs ELSE '[]' END) AS j
            WHERE e.id = new.episode_id AND j.type = 'text' AND trim(j.value) != '';
        INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
            SELECT 'summary', e.podcast_id, e.id, 0, j.value
            FROM episodes e, json_each(CASE WHEN json_valid(new.takeaways) THEN new.takeaways ELSE '[]' END) AS j
            WHERE e.id = new.episode_id AND j.type = 'text' AND trim(j.value) != '';
    END;
    CREATE TRIGGER summaries_search_ad AFTER DELETE ON summaries BEGIN
        DELETE FROM search_docs WHERE episode_id = old.episode_id AND kind = 'summary';
    END;
    CREATE TRIGGER snips_search_ai AFTER INSERT ON snips BEGIN
        INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text)
            SELECT 'snip', e.podcast_id, e.id, new.id, new.start, t.value
            FROM episodes e, (
                SELECT new.title AS value
                UNION ALL SELECT j.value FROM json_each(CASE WHEN json_valid(new.takeaways) THEN new.takeaways ELSE '[]' END) AS j
                    WHERE j.type = 'text'
                UNION ALL SELECT new.note
            ) AS t
            WHERE e.id = new.episode_id AND trim(coalesce(t.value, '')) != '';
    END;
    CREATE TRIGGER snips_search_au AFTER UPDATE OF episode_id, start, title, takeaways, note ON snips BEGIN
        DELETE FROM search_docs WHERE kind = 'snip' AND ref = old.id;
        INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text)
            SELECT 'snip', e.podcast_id, e.id, new.id, new.start, t.value
            FROM episodes e, (
                SELECT new.title AS value
                UNION ALL SELECT j.value FROM json_each(CASE WHEN json_valid(new.takeaways) THEN new.takeaways ELSE '[]' END) AS j
                    WHERE j.type = 'text'
                UNION ALL SELECT new.note
            ) AS t
            WHERE e.id = new.episode_id AND trim(coalesce(t.value, '')) != '';
    END;
    CREATE TRIGGER snips_search_ad AFTER DELETE ON snips BEGIN
        DELETE FROM search_docs WHERE kind = 'snip' AND ref = old.id;
    END;
    CREATE INDEX search_docs_by_ref ON search_docs (kind, ref) WHERE ref IS NOT NULL;
    INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
        SELECT 'summary', e.podcast_id, e.id, 0, j.value
        FROM summaries s JOIN episodes e ON e.id = s.episode_id,
             json_each(CASE WHEN json_valid(s.paragraphs) THEN s.paragraphs ELSE '[]' END) AS j
        WHERE j.type = 'text' AND trim(j.value) != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, start, text)
        SELECT 'summary', e.podcast_id, e.id, 0, j.value
        FROM summaries s JOIN episodes e ON e.id = s.episode_id,
             json_each(CASE WHEN json_valid(s.takeaways) THEN s.takeaways ELSE '[]' END) AS j
        WHERE j.type = 'text' AND trim(j.value) != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text)
        SELECT 'snip', e.podcast_id, e.id, s.id, s.start, s.title
        FROM snips s JOIN episodes e ON e.id = s.episode_id WHERE trim(s.title) != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text)
        SELECT 'snip', e.podcast_id, e.id, s.id, s.start, j.value
        FROM snips s JOIN episodes e ON e.id = s.episode_id,
             json_each(CASE WHEN json_valid(s.takeaways) THEN s.takeaways ELSE '[]' END) AS j
        WHERE j.type = 'text' AND trim(j.value) != '';
    INSERT INTO search_docs (kind, podcast_id, episode_id, ref, start, text)
        SELECT 'snip', e.podcast_id, e.id, s.id, s.start, s.note
        FROM snips s JOIN episodes e ON e.id = s.episode_id WHERE trim(s.note) != '';
    """,
    # 8: speakers: the diarizer's label kept beside the shown name, so names can be worked out again
    # without diarizing again; who each label is, with the evidence; and AI-written items that a
    # check left out (a number the transcript never says, a repeated title…), with the reason
    """
    ALTER TABLE segments ADD COLUMN label TEXT;
    UPDATE segments SET label = speaker WHERE speaker LIKE 'Speaker %'
        AND episode_id IN (SELECT episode_id FROM transcripts WHERE source = 'asr');
    CREATE TABLE speaker_names (
        episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        label       TEXT NOT NULL,
        name        TEXT NOT NULL,
        source      TEXT NOT NULL,                        -- self / welcome / vocative / feed / llm / none
        evidence    TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (episode_id, label)
    );
    CREATE TABLE dropped_items (
        id          INTEGER PRIMARY KEY,
        episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        task        TEXT NOT NULL,                        -- summary / chapters / highlights / names
        text        TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_at  REAL NOT NULL
    );
    CREATE INDEX dropped_items_by_episode ON dropped_items (episode_id, task);
    -- jobs made before: the stages in today's order, with the new names stage (done where the old
    -- speakers stage, which named speakers itself, is done)
    UPDATE job_stages SET position = CASE name WHEN 'download' THEN 0 WHEN 'transcript' THEN 1
        WHEN 'speakers' THEN 2 WHEN 'index' THEN 4 WHEN 'chapters' THEN 5 WHEN 'summary' THEN 6
        WHEN 'highlights' THEN 7 ELSE position END;
    INSERT INTO job_stages (job_id, name, position, state, progress)
        SELECT job_id, 'names', 3, CASE state WHEN 'done' THEN 'done' ELSE 'queued' END,
               CASE state WHEN 'done' THEN 100 ELSE 0 END
        FROM job_stages WHERE name = 'speakers';
    """,
]
