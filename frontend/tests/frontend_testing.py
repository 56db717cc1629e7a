"""Helpers of the frontend's tests: environments, servers, direct backend calls, forms."""

import re
import secrets
import uuid
from pathlib import Path

import requests

from thoughts_common.testing import services

FRONTEND_DIR = Path(__file__).resolve().parents[1]
REPO = FRONTEND_DIR.parent
ARTIFACTS = REPO / "test-artifacts"


class Backend:
    def __init__(self, process, base, env):
        self.process, self.base, self.env = process, base, env


def start_backend(name, folder, key_files, syslog, **extra):
    """Backend ``name`` migrated, seeded and started under uWSGI; wait for ``.process.wait_healthy()``."""
    env = services.environment(name, folder, key_files, syslog.port, **extra)
    services.prepare(name, env)
    process = services.uwsgi(services.ini(name), env)
    return Backend(process, process.base, env)


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
    return services.start("frontend", env)


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
