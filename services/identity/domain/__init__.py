"""identity's domain: pure, no I/O. Aggregates decide and apply; rules are functions."""
