-- Team ratings from rating systems (KenPom, RPI, SP+) and game-day weather.
CREATE TABLE team_ratings (
  season INTEGER NOT NULL,
  team TEXT NOT NULL,
  system TEXT NOT NULL,
  rating REAL NOT NULL,
  rank INTEGER,
  details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (season, team, system)
);
CREATE INDEX team_ratings_by_system ON team_ratings (system, season, rank);

CREATE TABLE game_weather (
  game_id TEXT PRIMARY KEY,
  temperature_c REAL,
  wind_kph REAL,
  precipitation_mm REAL,
  observed_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
