"""Numba reference kernels for every op kind, each with a numpy reference beside it."""
