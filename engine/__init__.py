"""The real engine: the Go modules its binaries are built from, and the Python that builds them,
checks plans and import ids against the provider's schema, and drives the CLI."""
