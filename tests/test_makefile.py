"""The Makefile's own answers (the repository's entry points; the packages' tests run without it)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_user_needs_a_name():
    result = subprocess.run(["make", "-s", "user"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "usage: make user" in result.stdout
