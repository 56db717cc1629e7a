"""A wrong setting stops a real service process at start, with one line naming the variable."""

import subprocess
import sys
from pathlib import Path

import pytest

from thoughts_common import settings, tokens
from thoughts_common.testing.network import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return tokens.generate_key_pair(tmp_path_factory.mktemp("keys"))


def clean_environ(**env):
    """This process's environment without any Thoughts setting, plus ``env``."""
    return {**settings.without_settings(), **{name: str(value) for name, value in env.items()}}


def last_line(output):
    return output.strip().splitlines()[-1]


def uwsgi(service, tmp_path, keys, **env):
    """Start ``service`` under uWSGI as the native run does; its exit code and output (it must stop by itself)."""
    environ = clean_environ(
        **{
            "HTTP_BIND": f"127.0.0.1:{free_port()}",
            "PROMETHEUS_MULTIPROC_DIR": tmp_path / "metrics",
            "JWT_PRIVATE_KEY_FILE": keys[0],
            "JWT_PUBLIC_KEY_FILE": keys[1],
            "DATABASE_URL": f"sqlite:///{tmp_path / 'service.sqlite3'}",
            "DJANGO_SECRET_KEY": "k" * 50,
            **env,
        }
    )
    if service != "users_backend":
        environ.pop("JWT_PRIVATE_KEY_FILE")
    result = subprocess.run(
        [str(BIN / "uwsgi"), "--ini", str(ROOT / service / "uwsgi.ini")],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout


@pytest.mark.parametrize(
    ("service", "env", "message"),
    [
        ("users_backend", {"LOGIN_THROTTLE_WINDOW_SECONDS": "soon"}, "LOGIN_THROTTLE_WINDOW_SECONDS='soon': Not a valid integer."),  # noqa: E501
        ("users_backend", {"FEATURE_SIGNUP": "maybe"}, "FEATURE_SIGNUP='maybe': Not a valid boolean."),
        ("thoughts_backend", {"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE='0': Must be greater than or equal to 1."),  # noqa: E501
        ("thoughts_backend", {"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud': Must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL."),  # noqa: E501
        ("frontend", {"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe': Not a valid boolean."),
        ("frontend", {"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is set but empty"),
    ],
)  # fmt: skip
def test_a_wrong_setting_stops_the_service_under_uwsgi(tmp_path, keys, service, env, message):
    code, output = uwsgi(service, tmp_path, keys, **env)
    assert code != 0, output
    assert last_line(output) == f"configuration error: {message}", output


def test_a_secret_given_twice_stops_the_service(tmp_path, keys):
    code, output = uwsgi("thoughts_backend", tmp_path, keys, JWT_PUBLIC_KEY="pem")
    assert code != 0, output
    assert last_line(output) == "configuration error: JWT_PUBLIC_KEY and JWT_PUBLIC_KEY_FILE are both set: give one"


@pytest.mark.parametrize("command", ["users-backend", "thoughts-backend"])
def test_a_wrong_setting_stops_the_migration_command(tmp_path, command):
    environ = clean_environ(
        DATABASE_URL=f"sqlite:///{tmp_path / 'migrated.sqlite3'}", DATABASE_PASSWORD_FILE=tmp_path / "absent"
    )
    result = subprocess.run(
        [str(BIN / command), "migrate"], env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"configuration error: DATABASE_PASSWORD_FILE={tmp_path / 'absent'} cannot be read: No such file or directory\n"
    )
    assert not (tmp_path / "migrated.sqlite3").exists()
