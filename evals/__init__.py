"""Benchmarks for evaluators: answer accuracy and latency."""
