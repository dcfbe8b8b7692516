-- One row per object in the media bucket, written after R2 accepted the object.
CREATE TABLE media_objects (
  key TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  etag TEXT NOT NULL,
  uploaded_at TEXT NOT NULL,
  uploaded_by TEXT NOT NULL CHECK (uploaded_by IN ('token', 'signed-url'))
);
CREATE INDEX media_objects_by_upload_time ON media_objects (uploaded_at);
