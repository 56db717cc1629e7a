"""Django's SECRET_KEY: from the environment, never from the code.

``DJANGO_SECRET_KEY`` holds the value, or ``DJANGO_SECRET_KEY_FILE`` names a file
that holds it. For the native run a random value is generated once into
``var/`` (``thoughts-frontend secret-key var/keys/django-secret-key``).
"""

import os
import secrets
from pathlib import Path

from thoughts_common import settings

ENV = "DJANGO_SECRET_KEY"
DEFAULT_DEV_PATH = Path("var/keys/django-secret-key")


def generate():
    return secrets.token_urlsafe(50)


def ensure_file(path=DEFAULT_DEV_PATH):
    """Create ``path`` with a new random key unless it exists; returns the path."""
    path = Path(path)
    if path.exists() and path.read_text().strip():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(generate() + "\n")
    return path


def from_environment(environ=None):
    """The configured key; SettingError when neither variable gives one, or one gives a wrong value."""
    hint = f" (for a development key: thoughts-frontend secret-key {DEFAULT_DEV_PATH})"
    return settings.required_secret(ENV, hint, environ)
