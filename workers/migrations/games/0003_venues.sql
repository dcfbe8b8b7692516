-- Where games are played: the coordinates a weather forecast needs, keyed by the venue
-- name games.venue holds (the same provider writes both).
CREATE TABLE venues (
  venue TEXT PRIMARY KEY,
  latitude REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  updated_at TEXT NOT NULL
);
