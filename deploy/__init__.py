"""Deployment of the platform: the local stack (``stackctl``), its configuration files."""
