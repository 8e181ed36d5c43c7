"""The request and response schemas of the platform's APIs, one module per context.

The gateway validates an HTTP body with the schema a service then loads the RPC
payload with (``servicekit.rpc``), and generates its OpenAPI document from the
same classes: one definition per field, enforced at both edges and documented
by construction. R1: no schema here has a price, fee, invoice or payment field
(``contracts/tests/test_api.py`` proves it).
"""
