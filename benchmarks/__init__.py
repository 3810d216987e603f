"""shortly's benchmark suite: ``python -m benchmarks`` (``make bench``) runs it."""
