"""matching's application layer: the nameko service, the command handlers it calls,
its configuration and metrics."""
