"""The quality evaluation: ``python -m benchmarks.quality`` runs ``evals/`` and prints the figures."""
