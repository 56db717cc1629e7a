"""The third-party image versions of .env, and compose's image names with them filled in."""

import re
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parents[1] / ".env"
VARIABLE = re.compile(r"\$\{(\w+)\}")


def versions():
    """{name: value} of .env (compose reads the same file)."""
    lines = ENV_FILE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def fill(image):
    """An image name of the compose files with the variables of .env filled in."""
    values = versions()
    return VARIABLE.sub(lambda match: values[match.group(1)], image)
