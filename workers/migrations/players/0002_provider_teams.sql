-- A provider's own ids of the teams whose abbreviations the other tables use: ESPN serves
-- rosters per team id, so the roster feed keeps them to know what to ask for.
CREATE TABLE provider_teams (
  provider TEXT NOT NULL,
  provider_team_id TEXT NOT NULL,
  team TEXT NOT NULL,
  name TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (provider, provider_team_id)
);
