-- One row per externalUserId: the ledger of every user the importer has seen.
-- Personal data (row_data) is kept only while a row has not succeeded.
CREATE TABLE users (
    external_user_id TEXT    PRIMARY KEY,
    state            TEXT    NOT NULL CHECK (state IN ('in_flight', 'created', 'exists', 'invalid', 'rejected', 'failed')),
    content_hash     BLOB    NOT NULL,          -- hash of the normalised request fields
    changed          INTEGER NOT NULL DEFAULT 0, -- 1: a succeeded row seen later with other content
    user_id          TEXT,                       -- P100 userId, when known
    balances         TEXT,                       -- JSON object: currency -> balance id
    line             INTEGER,                    -- physical line in the input that last wrote the row
    run_id           INTEGER,                    -- run that last wrote the row
    error_code       TEXT,
    error_message    TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    row_data         TEXT,                       -- JSON object: API field -> value; NULL once succeeded
    first_seen_at    INTEGER NOT NULL,           -- unix milliseconds
    updated_at       INTEGER NOT NULL            -- unix milliseconds
) WITHOUT ROWID;

-- One row per importer run against this checkpoint.
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    command      TEXT    NOT NULL,
    input        TEXT,
    input_sha256 TEXT,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    exit_code    INTEGER,
    summary      TEXT                            -- JSON summary of the run
);
