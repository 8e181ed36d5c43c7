"""identity: partner organisations and their API keys, members, the charter (R3),
personal data and its erasure, and the exclusion registry (R2).

- ``domain``: pure aggregates (organisation, member, charter) and rules.
- ``application``: the nameko service (RPC commands and queries, Kafka handlers).
- ``storage``: projections (read models) and the queries over them.
"""
