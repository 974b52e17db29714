"""Versioned schema. Each migration runs once, in order, inside a transaction; PRAGMA user_version
records how far a database has come. Append new migrations; never edit a released one."""

MIGRATIONS: list[str] = [
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
]
