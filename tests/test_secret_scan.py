"""The secret scan of `make lint` (tools/secret-scan): detect-secrets against .secrets.baseline.

detect-secrets lives in its own virtualenv, .venv-secrets (`make lint` and
`make test` install it). Without it the tests skip locally and fail with CI=true.
"""

import json
import secrets
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from thoughts_common.testing.postgres import unavailable

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv-secrets/bin/python"
SCAN = ROOT / "tools/secret-scan"


@pytest.fixture(scope="module")
def scan():
    if not PYTHON.exists():
        unavailable(f"{PYTHON} is missing (make lint installs it)")

    def run(folder):
        return subprocess.run([str(PYTHON), str(SCAN), str(folder)], capture_output=True, text=True, timeout=300)

    return run


def git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


@pytest.fixture
def copy(tmp_path):
    """A git folder with the baseline and two files whose findings it lists, moved down a line."""
    git(tmp_path, "init", "-q")
    shutil.copy(ROOT / ".secrets.baseline", tmp_path)
    for name in ("native.env", "users_backend/tests/test_login.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# a line added above\n" + (ROOT / name).read_text())
    git(tmp_path, "add", ".")
    return tmp_path


def test_the_tree_has_no_secret_beyond_the_baseline(scan):
    result = scan(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all reviewed in .secrets.baseline" in result.stdout


def test_reviewed_findings_pass_after_edits_above_them(scan, copy):
    result = scan(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    baseline = json.loads((ROOT / ".secrets.baseline").read_text())["results"]
    reviewed = sum(len(baseline.get(name, [])) for name in ("native.env", "users_backend/tests/test_login.py"))
    assert reviewed > 0
    assert f"2 files, {reviewed} findings" in result.stdout


def test_a_new_secret_fails_the_scan(scan, copy):
    # Made here, so that this file holds no key itself.
    key_id = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
    pem = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END " + "RSA PRIVATE KEY-----\n"
    (copy / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\nKEY = """{pem}"""\n')
    git(copy, "add", "settings.py")

    result = scan(copy)
    assert result.returncode == 1
    assert "settings.py:1: AWS Access Key (not in .secrets.baseline)" in result.stdout
    assert "settings.py:2: Private Key" in result.stdout
    assert "native.env" not in result.stdout and "test_login.py" not in result.stdout
