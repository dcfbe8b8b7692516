"""The real engine: the Go modules its binaries are built from, and the Python that drives them."""
