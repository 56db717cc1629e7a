"""Feature flags (chapter 9): ``FEATURE_<NAME>`` environment variables."""

import os


def enabled(name, environ=None):
    """On for 1/true/yes/on, off for anything else or when unset."""
    value = (environ or os.environ).get(f"FEATURE_{name.upper()}", "")
    return value.strip().lower() in ("1", "true", "yes", "on")
