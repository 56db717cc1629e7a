"""Schemathesis against both backends: their OpenAPI documents tell the truth, no input is a 500.

Each backend runs under uWSGI on a PostgreSQL database of its own, migrated,
with the demo users and an admin. Schemathesis (its own virtualenv,
``make .venv-schemathesis``) reads the served ``/swagger.json`` and runs every
phase (examples, coverage, fuzzing, stateful) with every check, sending the
admin's token; any finding fails the test. Its summary is printed on the
terminal and its whole output kept in ``test-artifacts/schemathesis/``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from thoughts_common import tokens
from thoughts_common.testing import services
from thoughts_common.testing.network import free_port
from thoughts_common.testing.postgres import unavailable

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = ROOT / ".venv-schemathesis" / "bin" / "st"
# Test cases per operation and phase: enough to find the bugs of issue 11 in about a minute per backend.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"))
ADMIN = ("schema-admin", "schema-admin-password")
# Per-operation settings, each with its reason (a file for a backend: a filter that matches nothing is a warning).
CONFIG = {"users_backend": ROOT / "tests" / "schemathesis-users_backend.toml"}


@pytest.fixture(scope="module")
def schemathesis():
    if not SCHEMATHESIS.exists():
        unavailable(f"{SCHEMATHESIS} is missing (make .venv-schemathesis/bin/st)")
    return SCHEMATHESIS


def start(name, folder, key_files, database_url, **extra):
    """The backend ``name`` under uWSGI on ``database_url``, migrated, with the demo users/thoughts and an admin."""
    command = Path(sys.executable).parent / name.replace("_", "-")
    env = services.clean_environ(
        DATABASE_URL=database_url,
        JWT_PRIVATE_KEY_FILE=key_files[0],
        JWT_PUBLIC_KEY_FILE=key_files[1],
        PROMETHEUS_MULTIPROC_DIR=folder / "metrics",
        HTTP_BIND=f"127.0.0.1:{free_port()}",
        **extra,
    )
    steps = [["migrate"], ["seed-demo"]]
    if name == "users_backend":
        steps.append(["create-user", ADMIN[0], "--admin", "--password", ADMIN[1]])
    for step in steps:
        subprocess.run([command, *step], env=env, check=True, capture_output=True, text=True)
    base = f"http://{env['HTTP_BIND']}"
    process = services.uwsgi(ROOT / name / "uwsgi.ini", env, f"{base}/healthz").wait_healthy()
    process.base = base
    return process


@pytest.fixture(scope="module")
def backends(postgres_server, key_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemas")
    started = {}
    try:
        for name, extra in (("users_backend", {"FEATURE_SIGNUP": "1"}), ("thoughts_backend", {})):
            (folder / name).mkdir()
            url = postgres_server.create_database(f"{name}_schema")
            started[name] = start(name, folder / name, key_files, url, **extra)
        yield started
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture(scope="module")
def admin_token(backends):
    response = requests.post(
        f"{backends['users_backend'].base}/api/login/", data={"username": ADMIN[0], "password": ADMIN[1]}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["Authorized"]


def run_schemathesis(binary, name, base, token, report):
    command = [
        str(binary),
        *(["--config-file", str(CONFIG[name])] if name in CONFIG else []),
        "run",
        f"{base}/swagger.json",
        "--url",
        base,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--header",
        f"Authorization:{token}",
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "11"),
        "--generation-database",
        "none",
        # One worker: the operations run in one order, so what they learn from each other's answers
        # (captured resources, error feedback) is the same on every run, and so is the run with its seed.
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    # From the report folder: schemathesis keeps a .schemathesis/ cache in its working folder.
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=report.parent)


@pytest.mark.parametrize("name", ["users_backend", "thoughts_backend"])
def test_schemathesis_finds_nothing(schemathesis, backends, admin_token, name, tmp_path, capsys):
    result = run_schemathesis(schemathesis, name, backends[name].base, admin_token, tmp_path / "junit.xml")
    summary = result.stdout + result.stderr
    # The summary, to quote: on the terminal of every run (make test too), and in test-artifacts/.
    artifacts = ROOT / "test-artifacts" / "schemathesis"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"{name}.txt").write_text(summary, encoding="utf-8")
    with capsys.disabled():
        print(f"\n===== schemathesis on {name} =====\n{summary.split('SUMMARY')[-1].strip()}")
    assert result.returncode == 0, f"schemathesis found problems on {name}:\n{summary[-20000:]}"
    assert "No issues found" in summary, summary
    # A server that answered nothing or an empty document would also "find nothing".
    assert " passed" in summary, summary


# The probe's hand-made inputs of issue 11, each a 500 (or a 502 through the frontend) before:
# schemathesis seldom sends NUL or a lone surrogate, PostgreSQL is where they broke.
HAND_MADE = [
    ("users_backend", "POST", "/api/login/", {"data": "username=a%00b&password=x"}, 400),
    ("users_backend", "POST", "/api/login/", {"json": {"username": "a\ud800b", "password": "x"}}, 400),
    ("users_backend", "POST", "/api/login/", {"json": {"username": "x", "password": "a\ud800b"}}, 400),
    ("users_backend", "POST", "/admin/users/", {"json": {"username": "a\ud800b", "password": "x"}}, 400),
    ("users_backend", "POST", "/admin/users/", {"json": {"username": "Bruce", "password": "x"}}, 409),
    (
        "users_backend",
        "POST",
        "/admin/users/",
        {"json": {"username": "\uff42\uff52\uff55\uff43\uff45", "password": "x"}},
        409,
    ),
    # Schemathesis never puts NUL in a path (it filters it out): a 500 on PostgreSQL before.
    ("users_backend", "DELETE", "/admin/login-throttle/users/a%00b", {}, 400),
    ("users_backend", "DELETE", "/admin/login-throttle/addresses/a%00b", {}, 400),
    ("thoughts_backend", "GET", "/api/thoughts/?search=a%00b", {}, 400),
    ("thoughts_backend", "GET", "/api/thoughts/?after=", {}, 400),
    ("thoughts_backend", "GET", "/api/thoughts/?after=2147483648", {}, 400),
    ("thoughts_backend", "GET", "/api/thoughts/%D9%A1/", {}, 400),
    ("thoughts_backend", "POST", "/api/me/thoughts/", {"json": {"text": "a\ud800b"}}, 400),
    ("thoughts_backend", "POST", "/api/me/thoughts/", {"data": "text=a%00b"}, 400),
]


@pytest.mark.parametrize(("name", "method", "path", "kwargs", "status"), HAND_MADE)
def test_hand_made_bad_inputs_are_4xx_on_postgresql(backends, admin_token, name, method, path, kwargs, status):
    if "json" in kwargs:
        # requests would refuse to encode a lone surrogate; JSON's escape carries it.
        kwargs = {"data": json.dumps(kwargs["json"]), "headers": {"Content-Type": "application/json"}}
    elif "data" in kwargs:
        kwargs = {**kwargs, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    headers = {**kwargs.pop("headers", {}), "Authorization": admin_token}
    response = requests.request(method, backends[name].base + path, headers=headers, timeout=10, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_a_signed_token_with_nul_in_its_username_is_401(backends, rsa_key_pair):
    token = tokens.encode({"username": "a\x00b"}, rsa_key_pair[0])
    response = requests.get(
        f"{backends['thoughts_backend'].base}/api/me/thoughts/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 401, response.text
