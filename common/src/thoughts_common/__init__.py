"""Cross-cutting code shared by the Thoughts services.

One copy of request ids, logging, metrics, health checks, database access and
token handling, used by the frontend and both backends.
"""
