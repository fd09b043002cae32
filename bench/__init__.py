"""Benchmarks: each module measures a ratio against a baseline run in the
same process run; ``python -m bench`` runs them all and appends the table to
docs/benchmarks.md."""
