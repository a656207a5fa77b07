"""Benchmark harness and command line: calibrate, validate, bench, report."""
