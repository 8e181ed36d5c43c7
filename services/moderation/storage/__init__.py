"""moderation's read models, its hash chain's tables, and the queries over them."""
