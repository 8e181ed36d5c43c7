"""gateway: the partner-facing HTTP API under /v1. It translates HTTP to nameko RPC
and nothing more: the route table (``routes``) says which service method answers
each path; ``servicekit.http`` does the HTTP; the services decide."""
