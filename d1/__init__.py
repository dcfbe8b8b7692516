"""D1: the migration sets and their runner, the deploy step with its restore points, schema
comparison, the Workers' SQL against the schema, Time Travel restore and replaying backups."""
