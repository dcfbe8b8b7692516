-- Schedules, live scores and standings of one sport (one database per sport).
-- Dates are ISO 8601 text in UTC; updated_at is when ingestion last wrote the row.
CREATE TABLE games (
  game_id TEXT PRIMARY KEY,
  season INTEGER NOT NULL,
  game_date TEXT NOT NULL,
  start_time TEXT,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'in_progress', 'final', 'postponed', 'canceled')),
  home_team TEXT NOT NULL,
  away_team TEXT NOT NULL,
  home_score INTEGER,
  away_score INTEGER,
  period TEXT,
  venue TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX games_by_date ON games (game_date, start_time);
CREATE INDEX games_by_home_team ON games (home_team, game_date);
CREATE INDEX games_by_away_team ON games (away_team, game_date);

CREATE TABLE standings (
  season INTEGER NOT NULL,
  team TEXT NOT NULL,
  conference TEXT,
  division TEXT,
  wins INTEGER NOT NULL DEFAULT 0,
  losses INTEGER NOT NULL DEFAULT 0,
  ties INTEGER NOT NULL DEFAULT 0,
  win_pct REAL,
  games_back REAL,
  rank INTEGER,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (season, team)
);
