"""How each kind of thing is built: one Pulumi ComponentResource per kind, plus the fleet."""
