"""identity's application layer: the nameko service and the command handlers it calls."""
