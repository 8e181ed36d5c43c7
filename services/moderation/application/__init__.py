"""moderation's application layer: the nameko service, its moderator HTTP API and handlers."""
