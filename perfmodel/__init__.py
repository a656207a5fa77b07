"""Analytical performance model of inference chips: pure Python + numpy, never numba."""
