-- Rosters, player profiles, statistics and injuries of one sport.
CREATE TABLE players (
  player_id TEXT PRIMARY KEY,
  team TEXT,
  name TEXT NOT NULL,
  position TEXT,
  jersey TEXT,
  status TEXT,
  birth_date TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX players_by_team ON players (team, name);

-- One row per player, season and category (season, advanced, statcast, recruiting...);
-- the figures are a JSON object because every sport and provider counts different things.
CREATE TABLE player_stats (
  player_id TEXT NOT NULL,
  season INTEGER NOT NULL,
  category TEXT NOT NULL,
  stats TEXT NOT NULL CHECK (json_valid(stats)),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (player_id, season, category)
);
CREATE INDEX player_stats_by_season ON player_stats (season, category);

CREATE TABLE injuries (
  player_id TEXT PRIMARY KEY,
  team TEXT,
  status TEXT NOT NULL,
  body_part TEXT,
  reported_at TEXT,
  updated_at TEXT NOT NULL
);
