"""The offline plan under mocks and the local runtime: one Worker or the whole fleet in
Miniflare, the loopback servers and fixtures they talk to."""
