"""Helpers shared by test suites and benchmarks (never imported by the running service)."""
