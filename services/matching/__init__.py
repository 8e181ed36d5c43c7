"""The matching bounded context: who may be matched (eligibility, R2/R3), how well
(explainable scores), suggestions and cohorts, and the life of a pair (R9).

``domain`` is pure (no server, no clock, no I/O); the service layer (nameko
entrypoints, PostgreSQL projections, Kafka consumers) is built on top of it.
"""
