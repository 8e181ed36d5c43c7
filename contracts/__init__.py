"""The event catalogue of the mentoring platform.

- ``contracts.envelope``: the CloudEvents 1.0 envelope every event travels in.
- ``contracts.catalogue``: the registry of event ``data`` schemas, validation
  and upcasting of old versions.
- ``contracts.events.*``: one module of schemas per bounded context.
- ``python -m contracts.generate``: JSON Schema and AsyncAPI documents.
"""
