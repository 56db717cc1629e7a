"""WSGI entry point for uWSGI: ``module = thoughts_backend.wsgi:app``."""

from thoughts_backend import create_app

app = create_app()
