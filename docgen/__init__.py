"""Generated documents: docs/INFRASTRUCTURE.md and its Mermaid diagrams, and the Markdown the
plan diff and the drift report write."""
