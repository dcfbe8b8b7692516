-- Betting events and their current lines per bookmaker, market and outcome.
CREATE TABLE odds_events (
  event_id TEXT PRIMARY KEY,
  sport TEXT NOT NULL,
  commence_time TEXT NOT NULL,
  home_team TEXT NOT NULL,
  away_team TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX odds_events_by_sport ON odds_events (sport, commence_time);

CREATE TABLE odds_lines (
  event_id TEXT NOT NULL,
  bookmaker TEXT NOT NULL,
  market TEXT NOT NULL,
  outcome TEXT NOT NULL,
  price REAL NOT NULL,
  point REAL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (event_id, bookmaker, market, outcome)
);
