"""Benchmarks (``make bench``): our figures as ratios to the bare stack, same run."""
