"""Benchmarks: ``bench/run.py`` measures the engine on the work its alternatives are known for."""
