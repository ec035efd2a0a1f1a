"""Benchmarks and peer smoke runs: stackyard and its peers on the same local endpoint."""
