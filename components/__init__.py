"""How each kind of thing is built: one Pulumi ComponentResource per kind, the fleet, and the
promotion gate a gated stack's fleet waits for."""
