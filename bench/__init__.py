"""Benchmarks: the offline plan, the bundling, the Workers, the local fleet, adoption and the
real engine, measured as whole processes; `python -m bench` writes BENCHMARKS.md."""
