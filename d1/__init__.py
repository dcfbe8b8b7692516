"""D1: the step that applies a database's migrations on deploy, after a restore point."""
