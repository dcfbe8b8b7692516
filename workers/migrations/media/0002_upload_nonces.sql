-- The nonces of signed upload URLs that were used, each kept until its URL has expired.
-- A use claims the nonce by inserting its row: the primary key lets exactly one of any
-- number of concurrent claims succeed, which a read-then-write in KV could not.
CREATE TABLE upload_nonces (
  nonce TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL -- the signed URL's expiry, epoch seconds
);
CREATE INDEX upload_nonces_by_expiry ON upload_nonces (expires_at);
