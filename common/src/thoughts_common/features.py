"""Feature flags (chapter 9): ``FEATURE_<NAME>`` environment variables."""

from thoughts_common import settings


def enabled(name, environ=None):
    """On for true/yes/on/1, off for false/no/off/0 or when unset; any other value is a SettingError."""
    return settings.feature(name, environ)
