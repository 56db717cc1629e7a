"""The three services under their own uwsgi.ini, as ``make run`` and the images start them.

One way for every test: ``environment`` (a clean environment on free ports,
a SQLite database and metrics folder of its own), ``prepare`` (the backend's
``migrate`` and ``seed-demo``), ``start`` (uWSGI, once ``/healthz`` answers).
"""

import os
import subprocess
import sys
from pathlib import Path

from thoughts_common import settings
from thoughts_common.testing.network import free_port
from thoughts_common.testing.processes import ServerProcess


def _repository():
    """The folder holding common/ and the services: where the tests run (a service's folder, the
    repository's root, or /srv/thoughts/<service> in a test image, where this library is installed
    in site-packages), else this file's checkout (an editable install)."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "common" / "uwsgi" / "base.ini").is_file():
            return folder
    return Path(__file__).resolve().parents[4]


REPO = _repository()
BIN = Path(sys.executable).parent
BACKENDS = ("users_backend", "thoughts_backend")
SERVICES = (*BACKENDS, "frontend")

# Variables of the caller's environment that must not leak into the servers we start:
# every declared setting, the feature flags, and Django's own settings module.
_NOT_DECLARED = ("DJANGO_SETTINGS_MODULE",)


def _foreign(environ):
    """The names of ours in ``environ`` and among the declared settings."""
    kept = settings.without_settings(environ)
    return {*(set(environ) - set(kept)), *settings.declared_names(), *_NOT_DECLARED}


def ini(name):
    return REPO / name / "uwsgi.ini"


def clean_environ(**extra):
    """The caller's environment without our services' variables, plus ``extra`` (as strings)."""
    foreign = _foreign(os.environ)
    env = {k: v for k, v in os.environ.items() if k not in foreign}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def environment(name, folder, key_files, syslog_port=None, backends=(), **extra):
    """What service ``name`` needs to start, its files in ``folder``; it logs to ``syslog_port`` when given.

    The frontend calls the backends at ``backends``: (users backend URL, thoughts backend URL).
    """
    folder = Path(folder)
    env = {
        "JWT_PUBLIC_KEY_FILE": key_files[1],
        "PROMETHEUS_MULTIPROC_DIR": folder / "metrics",
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
    }
    if name in BACKENDS:
        env.update(DATABASE_URL=f"sqlite:///{folder / f'{name}.sqlite3'}", JWT_PRIVATE_KEY_FILE=key_files[0])
    else:
        users, thoughts = backends
        env.update(DJANGO_SECRET_KEY=os.urandom(30).hex(), USER_BACKEND_URL=users, THOUGHTS_BACKEND_URL=thoughts)
    if syslog_port is not None:
        env.update(SYSLOG_HOST="127.0.0.1", SYSLOG_PORT=syslog_port)
    return clean_environ(**{**env, **extra})


def cli(name, *args, env, check=True):
    """The backend's command line (``users-backend``, ``thoughts-backend``) with ``env``."""
    command = BIN / name.replace("_", "-")
    return subprocess.run([command, *args], env=env, check=check, capture_output=True, text=True)


def prepare(name, env):
    """A backend's database migrated and seeded with the demo data; nothing for the frontend."""
    if name in BACKENDS:
        for step in ("migrate", "seed-demo"):
            cli(name, step, env=env)


def uwsgi(ini_path, env, health_url=None):
    """uWSGI with ``ini_path`` and exactly ``env`` as far as our variables go, not yet waited for.

    ServerProcess adds the caller's environment; ``unset`` removes the
    variables of ours that ``env`` leaves out (e.g. the ``JWT_*_FILE`` that
    ``make`` exports, or a ``DJANGO_DEBUG=1`` of the developer's shell).
    ``.base`` is its URL.
    """
    base = f"http://{env['HTTP_BIND']}"
    unset = [variable for variable in _foreign(os.environ) if variable not in env]
    process = ServerProcess(
        [str(BIN / "uwsgi"), "--ini", str(ini_path)], env=env, health_url=health_url or f"{base}/healthz", unset=unset
    )
    process.base = base
    process.env = env
    return process


def start(name, env, timeout=30):
    """Service ``name`` under its own uwsgi.ini, once ``/healthz`` answers; ``.name`` is ``name``."""
    process = uwsgi(ini(name), env)
    process.name = name
    return process.wait_healthy(timeout)
