"""Benchmarks of the whole pipeline against a local model server: ``python -m benchmarks.run``."""
