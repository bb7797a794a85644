"""The quality evaluation: ``python -m benchmarks.quality`` runs ``evals/``, prints the figures."""
