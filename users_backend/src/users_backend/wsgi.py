"""WSGI entry point for uWSGI: ``module = users_backend.wsgi:app``."""

from users_backend import create_app

app = create_app()
