"""Shared benchmark plumbing (not benchmarks themselves): timing, the results table, the load generator."""
