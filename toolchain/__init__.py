"""The project's own toolchain: Node 22 from the virtualenv, for every JavaScript tool it runs."""
