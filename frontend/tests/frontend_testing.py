"""Helpers of the frontend's tests: environments, servers, direct backend calls, forms."""

import os
import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from thoughts_common.testing.network import free_port
from thoughts_common.testing.processes import ServerProcess

FRONTEND_DIR = Path(__file__).resolve().parents[1]
REPO = FRONTEND_DIR.parent
BIN = Path(sys.executable).parent
ARTIFACTS = REPO / "test-artifacts"
# Variables of the caller's environment that must not leak into the servers we start.
_FOREIGN = (
    "DATABASE_URL",
    "DATABASE_ENGINE",
    "JWT_PUBLIC_KEY",
    "JWT_PRIVATE_KEY",
    "JWT_PUBLIC_KEY_FILE",
    "JWT_PRIVATE_KEY_FILE",
    "SYSLOG_HOST",
    "SYSLOG_PORT",
    "HTTP_BIND",
    "PROMETHEUS_MULTIPROC_DIR",
    "DJANGO_SECRET_KEY",
    "DJANGO_SECRET_KEY_FILE",
    "DJANGO_DEBUG",
    "FEATURE_SIGNUP",
    "THOUGHTS_BACKEND_URL",
    "USER_BACKEND_URL",
    "DJANGO_SETTINGS_MODULE",
)


def clean_environ(**extra):
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def uwsgi(ini, env, health_url):
    """A uWSGI server with exactly ``env`` as far as our variables go.

    ServerProcess adds the caller's environment; ``unset`` removes the
    variables of ours that ``env`` leaves out (e.g. the ``JWT_*_FILE`` that
    ``make`` exports, or a ``DJANGO_DEBUG=1`` of the developer's shell).
    """
    unset = [name for name in _FOREIGN if name not in env]
    return ServerProcess([str(BIN / "uwsgi"), "--ini", str(ini)], env=env, health_url=health_url, unset=unset)


class Backend:
    def __init__(self, process, base, env):
        self.process, self.base, self.env = process, base, env


def start_backend(name, folder, key_files, syslog, **extra):
    command = BIN / name.replace("_", "-")
    env = clean_environ(
        DATABASE_URL=f"sqlite:///{folder / f'{name}.sqlite3'}",
        JWT_PRIVATE_KEY_FILE=key_files[0],
        JWT_PUBLIC_KEY_FILE=key_files[1],
        PROMETHEUS_MULTIPROC_DIR=folder / "metrics",
        HTTP_BIND=f"127.0.0.1:{free_port()}",
        SYSLOG_HOST="127.0.0.1",
        SYSLOG_PORT=syslog.port,
        **extra,
    )
    for step in ("migrate", "seed-demo"):
        subprocess.run([command, step], env=env, check=True, capture_output=True, text=True)
    base = f"http://{env['HTTP_BIND']}"
    process = uwsgi(REPO / name / "uwsgi.ini", env, f"{base}/healthz")
    return Backend(process, base, env)


class Api:
    """Direct calls to the backends, to prepare data and check what the frontend did."""

    def __init__(self, backends):
        self.users = backends["users"].base
        self.thoughts = backends["thoughts"].base

    def new_user(self):
        username, password = f"u{uuid.uuid4().hex[:10]}", secrets.token_urlsafe(12)
        response = requests.post(f"{self.users}/api/users/", data={"username": username, "password": password})
        assert response.status_code == 201, response.text
        return username, password

    def token(self, username, password):
        response = requests.post(f"{self.users}/api/login/", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["Authorized"]

    def share(self, auth, *texts):
        ids = []
        for text in texts:
            response = requests.post(
                f"{self.thoughts}/api/me/thoughts/", data={"text": text}, headers={"Authorization": auth}
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    def my_thoughts(self, auth):
        response = requests.get(
            f"{self.thoughts}/api/me/thoughts/", params={"limit": 500}, headers={"Authorization": auth}
        )
        assert response.status_code == 200, response.text
        return response.json()


def start_frontend(env):
    base = f"http://{env['HTTP_BIND']}"
    process = uwsgi(FRONTEND_DIR / "uwsgi.ini", env, f"{base}/healthz")
    process.base = base
    return process.wait_healthy()


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html):
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def browser_login(session, base, username, password, **headers):
    """Log in to a running frontend like a browser: the form, its CSRF token, the cookie."""
    form = session.get(f"{base}/login/")
    return session.post(
        f"{base}/login/",
        data={"csrfmiddlewaretoken": csrf_token(form.text), "username": username, "password": password},
        headers=headers,
        allow_redirects=False,
    )
