-- The input files of each run, in the order they were read: a run may
-- import several files (--input given several times, a directory, a glob).
CREATE TABLE run_inputs (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    seq    INTEGER NOT NULL,               -- 1, 2, ...: the order read
    path   TEXT    NOT NULL,
    sha256 TEXT,                           -- NULL unless the file was read to its end
    rows   INTEGER NOT NULL DEFAULT 0,     -- rows of the file that reached an outcome
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
