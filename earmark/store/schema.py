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
]
