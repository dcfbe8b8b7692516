-- Computed ratings and game projections for every sport.
CREATE TABLE team_ratings (
  sport TEXT NOT NULL,
  season INTEGER NOT NULL,
  team TEXT NOT NULL,
  rating REAL NOT NULL,
  rank INTEGER,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (sport, season, team)
);

CREATE TABLE game_projections (
  sport TEXT NOT NULL,
  game_id TEXT NOT NULL,
  game_date TEXT NOT NULL,
  home_win_probability REAL NOT NULL CHECK (home_win_probability BETWEEN 0 AND 1),
  projected_home_score REAL,
  projected_away_score REAL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (sport, game_id)
);
CREATE INDEX game_projections_by_date ON game_projections (sport, game_date);
