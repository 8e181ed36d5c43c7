"""The plumbing every nameko service of the platform shares, written once.

- ``errors``: the one error a service returns across RPC (``ServiceError``), and
  the pure domain errors it is made from (``RuleViolation`` names a charter rule).
- ``actor``: who a call acts for (an organisation, one of its members, an
  operator, a moderator), passed by the edges to every command and query.
- ``payloads``: marshmallow validation that names the field, at every edge.
- ``rpc``: ``@command`` / ``@query`` around ``@rpc``: validate, decide, retry on a
  concurrency conflict, translate errors.
- ``crypto``: per-subject data keys (crypto-shredding), sealing (R8), identity
  fingerprints (R2), moderators' sealed boxes.
- ``clock``: the time a service decides with, which tests control.
- ``metrics``: the Prometheus endpoint of a service process.
- ``http``: problem+json, request ids and OpenAPI for the HTTP edges.
"""
