-- P100's side of a user (its userId and balance ids) moves to a table of
-- its own: the ledger proper, read for every row of every rerun, shrinks
-- from about 480 to about 65 bytes a row, and reruns read far fewer pages.
CREATE TABLE p100_users (
    external_user_id TEXT PRIMARY KEY,
    user_id          TEXT,             -- P100 userId
    balances         TEXT              -- JSON object: currency -> balance id
) WITHOUT ROWID;

INSERT INTO p100_users (external_user_id, user_id, balances)
SELECT external_user_id, user_id, balances FROM users
WHERE user_id IS NOT NULL OR balances IS NOT NULL;

ALTER TABLE users DROP COLUMN user_id;
ALTER TABLE users DROP COLUMN balances;
