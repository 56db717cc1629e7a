"""Settings from the environment: secret key, debug, allowed hosts; the dev secret-key command."""

import json
import stat
import subprocess
import sys

from frontend_testing import FRONTEND_DIR

from thoughts_common.testing.services import BIN, clean_environ

SHOW = (
    "import json, django; from django.conf import settings as s; django.setup(); "
    "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'key': s.SECRET_KEY, "
    "'signup': s.FEATURE_SIGNUP, 'thoughts': s.THOUGHTS_BACKEND_URL, 'users': s.USER_BACKEND_URL}))"
)


def settings_with(script=SHOW, **env):
    """What ``script`` prints about the settings a fresh process computes from ``env`` (stdout, stderr, exit code)."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=clean_environ(DJANGO_SETTINGS_MODULE="mythoughts.settings", **env),
        cwd=FRONTEND_DIR / "src",
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def shown(**env):
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_secret_key_no_start():
    result = settings_with()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "thoughts-frontend secret-key" in result.stderr


def test_secret_key_from_the_environment_or_a_file(tmp_path):
    assert shown(DJANGO_SECRET_KEY="k" * 50)["key"] == "k" * 50
    path = tmp_path / "secret"
    path.write_text("from-a-file-" + "x" * 40 + "\n")
    assert shown(DJANGO_SECRET_KEY_FILE=path)["key"] == "from-a-file-" + "x" * 40
    missing = settings_with(DJANGO_SECRET_KEY_FILE=tmp_path / "absent")
    assert missing.returncode != 0 and "cannot be read" in missing.stderr


def test_secret_key_command_creates_the_file_once(tmp_path):
    path = tmp_path / "keys" / "django-secret-key"
    command = [str(BIN / "thoughts-frontend"), "secret-key", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    first = path.read_text()
    subprocess.run(command, check=True, capture_output=True)

    assert path.read_text() == first
    assert len(first.strip()) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert shown(DJANGO_SECRET_KEY_FILE=path)["key"] == first.strip()


def test_debug_is_a_boolean_like_every_other_flag():
    key = {"DJANGO_SECRET_KEY": "k" * 50}
    assert shown(**key)["debug"] is False
    for value in ("1", "true", "yes"):
        assert shown(DJANGO_DEBUG=value, **key)["debug"] is True
    for value in ("0", "", "false", "off"):
        assert shown(DJANGO_DEBUG=value, **key)["debug"] is False


def test_a_wrong_value_stops_the_settings_with_the_variable_named():
    key = {"DJANGO_SECRET_KEY": "k" * 50}
    for name, value, message in [
        ("DJANGO_HTTPS", "maybe", "DJANGO_HTTPS='maybe': Not a valid boolean."),
        ("FRONTEND_PAGE_SIZE", "0", "FRONTEND_PAGE_SIZE='0': Must be greater than or equal to 1."),
        ("BACKEND_TIMEOUT_SECONDS", "soon", "BACKEND_TIMEOUT_SECONDS='soon': Not a valid number."),
    ]:
        result = settings_with(**{name: value}, **key)
        assert result.returncode != 0
        assert result.stderr.strip().splitlines()[-1].endswith(message), result.stderr


def test_hosts_backends_and_flags_from_the_environment():
    key = {"DJANGO_SECRET_KEY": "k" * 50}
    defaults = shown(**key)
    assert defaults["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert defaults["thoughts"] == "http://127.0.0.1:8001"
    assert defaults["users"] == "http://127.0.0.1:8002"
    assert defaults["signup"] is False

    custom = shown(
        DJANGO_ALLOWED_HOSTS="frontend.example.local, .example.local",
        THOUGHTS_BACKEND_URL="http://thoughts.example.local/",
        USER_BACKEND_URL="http://users.example.local",
        FEATURE_SIGNUP="true",
        **key,
    )
    assert custom["hosts"] == ["frontend.example.local", ".example.local"]
    assert custom["thoughts"] == "http://thoughts.example.local"
    assert custom["users"] == "http://users.example.local"
    assert custom["signup"] is True


def test_django_system_checks_pass():
    result = subprocess.run(
        [sys.executable, str(FRONTEND_DIR / "manage.py"), "check"],
        env=clean_environ(DJANGO_SECRET_KEY="k" * 50),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_metrics_enabled_false_drops_django_prometheus_and_its_route():
    show = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/metrics'); route = True\nexcept Resolver404:\n    route = False\n"
        "print(json.dumps({'apps': s.INSTALLED_APPS, 'middleware': s.MIDDLEWARE, 'route': route}))"
    )

    def seen(**env):
        result = settings_with(show, DJANGO_SECRET_KEY="k" * 50, **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    on, off = seen(), seen(METRICS_ENABLED="false")
    assert "django_prometheus" in on["apps"] and on["route"]
    assert any(name.startswith("django_prometheus.") for name in on["middleware"])
    assert "django_prometheus" not in off["apps"] and not off["route"]
    assert not any(name.startswith("django_prometheus.") for name in off["middleware"])
