"""Versioned schema. Each migration runs once, in order, inside a transaction (earmark/store/db.py);
PRAGMA user_version records how far a database has come. Append new migrations; never edit a
released one. Migrations 1 to 8 live in earmark/store/migrations_1_8.py; 9 on are here."""

from earmark.store.migrations_1_8 import MIGRATIONS_1_TO_8

MIGRATIONS: list[str] = [
    *MIGRATIONS_1_TO_8,
    # 9: a big library stays fast: each podcast's episode and played counts kept by triggers (the
    # library page no longer counts 500,000 episodes), the newest-first episode order served by an
    # index (no sort of a whole back catalogue for one page), and a podcast's jobs found by episode
    """
    ALTER TABLE podcasts ADD COLUMN episode_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE podcasts ADD COLUMN played_count INTEGER NOT NULL DEFAULT 0;
    UPDATE podcasts SET
        episode_count = (SELECT count(*) FROM episodes e WHERE e.podcast_id = podcasts.id),
        played_count = (SELECT count(*) FROM playback pb JOIN episodes e ON e.id = pb.episode_id
                        WHERE e.podcast_id = podcasts.id AND pb.played != 0);
    CREATE TRIGGER episodes_count_ai AFTER INSERT ON episodes BEGIN
        UPDATE podcasts SET episode_count = episode_count + 1 WHERE id = new.podcast_id;
    END;
    -- Before the row goes, while its playback row is still there: that row is removed here (so its
    -- own trigger takes a played episode off the count) rather than by ON DELETE CASCADE, which
    -- runs after the episode is gone and could no longer tell whose count it was.
    CREATE TRIGGER episodes_count_bd BEFORE DELETE ON episodes BEGIN
        DELETE FROM playback WHERE episode_id = old.id;
        UPDATE podcasts SET episode_count = episode_count - 1 WHERE id = old.podcast_id;
    END;
    CREATE TRIGGER episodes_count_au AFTER UPDATE OF podcast_id ON episodes WHEN old.podcast_id != new.podcast_id BEGIN
        UPDATE podcasts SET episode_count = episode_count - 1,
            played_count = played_count - (SELECT count(*) FROM playback WHERE episode_id = new.id AND played != 0)
            WHERE id = old.podcast_id;
        UPDATE podcasts SET episode_count = episode_count + 1,
            played_count = played_count + (SELECT count(*) FROM playback WHERE episode_id = new.id AND played != 0)
            WHERE id = new.podcast_id;
    END;
    CREATE TRIGGER playback_count_ai AFTER INSERT ON playback WHEN new.played != 0 BEGIN
        UPDATE podcasts SET played_count = played_count + 1
            WHERE id = (SELECT podcast_id FROM episodes WHERE id = new.episode_id);
    END;
    CREATE TRIGGER playback_count_au AFTER UPDATE OF played, episode_id ON playback
        WHEN (old.played != 0) != (new.played != 0) OR old.episode_id != new.episode_id BEGIN
        UPDATE podcasts SET played_count = played_count - 1
            WHERE old.played != 0 AND id = (SELECT podcast_id FROM episodes WHERE id = old.episode_id);
        UPDATE podcasts SET played_count = played_count + 1
            WHERE new.played != 0 AND id = (SELECT podcast_id FROM episodes WHERE id = new.episode_id);
    END;
    CREATE TRIGGER playback_count_ad AFTER DELETE ON playback WHEN old.played != 0 BEGIN
        UPDATE podcasts SET played_count = played_count - 1
            WHERE id = (SELECT podcast_id FROM episodes WHERE id = old.episode_id);
    END;
    CREATE INDEX episodes_by_podcast_newest ON episodes (podcast_id, published IS NULL, published DESC, id);
    CREATE INDEX jobs_by_episode ON jobs (episode_id, id);
    """,
    # 10: durations are whole seconds; one measured from the audio was once stored with its
    # fraction, which the API could not answer with
    """
    UPDATE episodes SET duration = CAST(round(duration) AS INTEGER) WHERE typeof(duration) = 'real';
    """,
    # 11: your own audio. A podcast of kind 'uploads' has no feed (its url is a placeholder such as
    # earmark:uploads): never refreshed nor exported. Each uploaded episode's file is the only copy;
    # the uploads row records where it came from, its hash (the same file is not imported twice)
    # and its embedded cover art (kept in the artwork cache: earmark/artwork.py).
    """
    ALTER TABLE podcasts ADD COLUMN kind TEXT NOT NULL DEFAULT 'feed';
    CREATE TABLE uploads (
        episode_id   INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        filename     TEXT NOT NULL,      -- the name it was uploaded under
        sha256       TEXT NOT NULL,
        source       TEXT NOT NULL,      -- web / cli / watch
        artwork      TEXT,               -- the embedded cover's source (earmark-artwork:…), also Episode.image
        artwork_type TEXT,
        uploaded_at  REAL NOT NULL
    );
    CREATE INDEX uploads_by_hash ON uploads (sha256);
    """,
    # 12: accounts and sync with phone apps (gpodder.net API, Nextcloud gpoddersync). User 1 owns
    # the library that existed before accounts (its name is set by the first `earmark user add`).
    # Passwords are argon2 hashes; API tokens and web sessions are kept as sha256 of the secret.
    # A user's devices sync within groups (group 0: the main one, which the user's subscriptions in
    # Earmark join: one added or removed there is reported to their devices, by the triggers below). Subscription state is kept per group and URL with the time it last changed;
    # episode actions are kept as sent, with the episode they were matched to (NULL until a feed
    # refresh brings it).
    """
    CREATE TABLE users (
        id             INTEGER PRIMARY KEY,
        name           TEXT UNIQUE,            -- NULL: the owner before `earmark user add` named them
        password_hash  TEXT,                   -- argon2; NULL: cannot log in
        created_at     REAL NOT NULL,
        -- where this user's snips are exported (the owner's default to settings.toml's)
        readwise_token         TEXT,
        notion_token           TEXT,
        notion_parent_page_id  TEXT
    );
    INSERT INTO users (id, name, password_hash, created_at) VALUES (1, NULL, NULL, (julianday('now') - 2440587.5) * 86400.0);
    CREATE TABLE user_tokens (
        id          INTEGER PRIMARY KEY,
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash  TEXT NOT NULL UNIQUE,
        label       TEXT NOT NULL DEFAULT '',
        created_at  REAL NOT NULL,
        last_used   REAL
    );
    CREATE TABLE app_secrets (                 -- keys the server signs with (feed addresses)
        name   TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    CREATE TABLE web_sessions (
        token_hash  TEXT PRIMARY KEY,
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at  REAL NOT NULL,
        expires_at  REAL NOT NULL
    );
    CREATE TABLE sync_devices (
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device      TEXT NOT NULL,
        caption     TEXT NOT NULL DEFAULT '',
        type        TEXT NOT NULL DEFAULT 'other',
        group_id    INTEGER NOT NULL DEFAULT 0,
        created_at  REAL NOT NULL,
        PRIMARY KEY (user_id, device)
    );
    CREATE TABLE sync_subscriptions (
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        group_id    INTEGER NOT NULL,
        url         TEXT NOT NULL,
        subscribed  INTEGER NOT NULL,
        changed_at  REAL NOT NULL,
        device      TEXT,                      -- which device changed it last (NULL: the library)
        PRIMARY KEY (user_id, group_id, url)
    );
    CREATE INDEX sync_subscriptions_by_time ON sync_subscriptions (user_id, group_id, changed_at);
    CREATE TABLE episode_actions (
        id           INTEGER PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device       TEXT,
        podcast_url  TEXT NOT NULL,
        episode_url  TEXT NOT NULL,
        guid         TEXT,
        action       TEXT NOT NULL,            -- download / delete / play / new
        timestamp    REAL NOT NULL,            -- when it happened, by the device's clock
        started      INTEGER,
        position     INTEGER,
        total        INTEGER,
        received_at  REAL NOT NULL,
        episode_id   INTEGER REFERENCES episodes(id) ON DELETE SET NULL
    );
    CREATE INDEX episode_actions_by_time ON episode_actions (user_id, received_at);
    CREATE INDEX episode_actions_unmatched ON episode_actions (podcast_url) WHERE episode_id IS NULL;
    CREATE INDEX episode_actions_by_episode ON episode_actions (episode_id, user_id, timestamp);
    -- Each user's own subscriptions, playback, queue and snips; what is computed for an episode
    -- (transcripts, AI results) is shared. Everything before accounts is user 1's.
    CREATE TABLE user_podcasts (
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        podcast_id  INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        added_at    REAL NOT NULL,
        PRIMARY KEY (user_id, podcast_id)
    );
    CREATE INDEX user_podcasts_by_podcast ON user_podcasts (podcast_id);
    INSERT INTO user_podcasts (user_id, podcast_id, added_at) SELECT 1, id, added_at FROM podcasts;
    DROP TRIGGER episodes_count_bd;
    DROP TRIGGER episodes_count_au;
    CREATE TABLE playback_by_user (
        user_id     INTEGER NOT NULL DEFAULT 1 REFERENCES users(id) ON DELETE CASCADE,
        episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        position    REAL NOT NULL DEFAULT 0,
        played      INTEGER NOT NULL DEFAULT 0,
        updated_at  REAL NOT NULL,
        PRIMARY KEY (user_id, episode_id)
    );
    INSERT INTO playback_by_user (user_id, episode_id, position, played, updated_at)
        SELECT 1, episode_id, position, played, updated_at FROM playback;
    DROP TABLE playback;
    ALTER TABLE playback_by_user RENAME TO playback;
    CREATE INDEX playback_by_time ON playback (user_id, updated_at);
    CREATE TABLE queue_by_user (
        user_id     INTEGER NOT NULL DEFAULT 1 REFERENCES users(id) ON DELETE CASCADE,
        episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        PRIMARY KEY (user_id, episode_id)
    );
    INSERT INTO queue_by_user (user_id, episode_id, position) SELECT 1, episode_id, position FROM queue;
    DROP TABLE queue;
    ALTER TABLE queue_by_user RENAME TO queue;
    ALTER TABLE snips ADD COLUMN user_id INTEGER NOT NULL DEFAULT 1;  -- (removed with the user by AccountStore)
    CREATE INDEX snips_by_user ON snips (user_id, created_at DESC);
    -- The podcast list's played counts are the owner's (others' are counted when asked).
    CREATE TRIGGER episodes_count_bd BEFORE DELETE ON episodes BEGIN
        DELETE FROM playback WHERE episode_id = old.id;
        UPDATE podcasts SET episode_count = episode_count - 1 WHERE id = old.podcast_id;
    END;
    CREATE TRIGGER episodes_count_au AFTER UPDATE OF podcast_id ON episodes WHEN old.podcast_id != new.podcast_id BEGIN
        UPDATE podcasts SET episode_count = episode_count - 1,
            played_count = played_count - (SELECT count(*) FROM playback WHERE episode_id = new.id AND played != 0 AND user_id = 1)
            WHERE id = old.podcast_id;
        UPDATE podcasts SET episode_count = episode_count + 1,
            played_count = played_count + (SELECT count(*) FROM playback WHERE episode_id = new.id AND played != 0 AND user_id = 1)
            WHERE id = new.podcast_id;
    END;
    CREATE TRIGGER playback_count_ai AFTER INSERT ON playback WHEN new.played != 0 AND new.user_id = 1 BEGIN
        UPDATE podcasts SET played_count = played_count + 1
            WHERE id = (SELECT podcast_id FROM episodes WHERE id = new.episode_id);
    END;
    CREATE TRIGGER playback_count_au AFTER UPDATE OF played, episode_id ON playback
        WHEN new.user_id = 1 AND ((old.played != 0) != (new.played != 0) OR old.episode_id != new.episode_id) BEGIN
        UPDATE podcasts SET played_count = played_count - 1
            WHERE old.played != 0 AND id = (SELECT podcast_id FROM episodes WHERE id = old.episode_id);
        UPDATE podcasts SET played_count = played_count + 1
            WHERE new.played != 0 AND id = (SELECT podcast_id FROM episodes WHERE id = new.episode_id);
    END;
    CREATE TRIGGER playback_count_ad AFTER DELETE ON playback WHEN old.played != 0 AND old.user_id = 1 BEGIN
        UPDATE podcasts SET played_count = played_count - 1
            WHERE id = (SELECT podcast_id FROM episodes WHERE id = old.episode_id);
    END;
    -- A user's subscriptions in Earmark are their main sync group's: changes reach their devices.
    INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at)
        SELECT 1, 0, url, 1, added_at FROM podcasts WHERE url LIKE 'http%';
    CREATE TRIGGER user_podcasts_sync_ai AFTER INSERT ON user_podcasts BEGIN
        INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at, device)
            SELECT new.user_id, 0, url, 1, (julianday('now') - 2440587.5) * 86400.0, NULL FROM podcasts WHERE id = new.podcast_id AND url LIKE 'http%'
            ON CONFLICT DO UPDATE SET subscribed = 1, changed_at = excluded.changed_at, device = NULL WHERE subscribed = 0;
    END;
    CREATE TRIGGER user_podcasts_sync_ad AFTER DELETE ON user_podcasts BEGIN
        UPDATE sync_subscriptions SET subscribed = 0, changed_at = (julianday('now') - 2440587.5) * 86400.0, device = NULL
            WHERE user_id = old.user_id AND group_id = 0 AND subscribed
            AND url = (SELECT url FROM podcasts WHERE id = old.podcast_id);
    END;
    -- (a podcast's row goes after its user_podcasts rows, whose trigger above still finds its URL)
    CREATE TRIGGER podcasts_sync_bd BEFORE DELETE ON podcasts BEGIN
        DELETE FROM user_podcasts WHERE podcast_id = old.id;
    END;
    CREATE TRIGGER podcasts_sync_au AFTER UPDATE OF url ON podcasts WHEN old.url != new.url BEGIN
        UPDATE sync_subscriptions SET subscribed = 0, changed_at = (julianday('now') - 2440587.5) * 86400.0, device = NULL
            WHERE group_id = 0 AND url = old.url AND user_id IN (SELECT user_id FROM user_podcasts WHERE podcast_id = new.id);
        INSERT INTO sync_subscriptions (user_id, group_id, url, subscribed, changed_at, device)
            SELECT user_id, 0, new.url, 1, (julianday('now') - 2440587.5) * 86400.0, NULL FROM user_podcasts WHERE podcast_id = new.id AND new.url LIKE 'http%'
            ON CONFLICT DO UPDATE SET subscribed = 1, changed_at = excluded.changed_at, device = NULL;
    END;
    """,
    # 13: a snip made offline is sent with a key its client made (client_id): sent again (a retry, a
    # second flush of the offline queue) it is created once per user, and the first one is answered
    """
    ALTER TABLE snips ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX snips_client_id ON snips (user_id, client_id) WHERE client_id IS NOT NULL;
    """,
    # 14: each user's playback settings per podcast (NULL speed: the player's own) and listening
    # history: the player reports cumulative seconds per listening session (a key it made), so a
    # report sent twice or late never counts twice. History outlives a deleted episode (SET NULL).
    """
    CREATE TABLE podcast_settings (
        user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        podcast_id    INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        speed         REAL,
        skip_silence  INTEGER NOT NULL DEFAULT 0,
        volume_boost  REAL NOT NULL DEFAULT 1,
        skip_intro    INTEGER NOT NULL DEFAULT 0,
        skip_outro    INTEGER NOT NULL DEFAULT 0,
        auto_delete   INTEGER NOT NULL DEFAULT 0,
        updated_at    REAL NOT NULL,
        PRIMARY KEY (user_id, podcast_id)
    );
    CREATE TABLE listening (
        id             INTEGER PRIMARY KEY,
        user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        session        TEXT NOT NULL,
        episode_id     INTEGER REFERENCES episodes(id) ON DELETE SET NULL,
        podcast_id     INTEGER REFERENCES podcasts(id) ON DELETE SET NULL,
        listened       REAL NOT NULL DEFAULT 0,   -- wall-clock seconds of playing
        media          REAL NOT NULL DEFAULT 0,   -- seconds of the episode covered
        silence_saved  REAL NOT NULL DEFAULT 0,   -- of which skipped as silence
        started_at     REAL NOT NULL,
        updated_at     REAL NOT NULL
    );
    CREATE UNIQUE INDEX listening_session ON listening (user_id, session, episode_id);
    CREATE INDEX listening_by_time ON listening (user_id, updated_at);
    """,
    # 15: the measured speed of each stage on this machine (jobs/eta.py): finished runs of a stage,
    # newest first, without reading every job's stages.
    """
    CREATE INDEX job_stages_finished ON job_stages (name, finished_at) WHERE state = 'done';
    """,
    # 16: which `earmark worker` computes a stage (earmark/jobs/remote.py); NULL: the process running the job.
    """
    ALTER TABLE job_stages ADD COLUMN worker TEXT;
    """,
]
