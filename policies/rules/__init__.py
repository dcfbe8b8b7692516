"""One rule per module; `policies/registry.py` lists them explicitly."""
