"""matching's read models (projections) and the queries over them."""
