-- The team directory and the search documents over teams, players and games.
-- Search matches the lowercased search_text column (no FTS5: D1 exports, and so the
-- backups, refuse databases with virtual tables).
CREATE TABLE teams (
  team_id TEXT PRIMARY KEY,
  sport TEXT NOT NULL,
  abbreviation TEXT NOT NULL,
  name TEXT NOT NULL,
  city TEXT,
  conference TEXT,
  division TEXT,
  venue TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX teams_by_sport ON teams (sport, name);

CREATE TABLE search_documents (
  doc_id TEXT PRIMARY KEY,
  sport TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('team', 'player', 'game')),
  title TEXT NOT NULL,
  search_text TEXT NOT NULL,
  url TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX search_documents_by_sport ON search_documents (sport, kind);
