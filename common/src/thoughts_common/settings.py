"""The one reader of the environment variables the Thoughts services read (declared in setting_declarations).

Rules, the same for every setting:

- Unset or blank (only spaces) means the declared default.
- A boolean is true/yes/on/1 or false/no/off/0 (any case); anything else is a
  mistake that stops the start, never a silent "off".
- A number outside its range, an unknown choice or a bad number stops the start.
- A secret comes from ``NAME`` or from the file named by ``NAME_FILE`` (its
  content without the trailing newline); both set, an unreadable file or an
  empty value is an error.

Every error is a ``SettingError`` whose message names the variable; a service
start turns it into one line and a non-zero exit (``refuse_to_start``).
``python -m thoughts_common.settings`` prints the README's configuration table.
"""

import contextlib
import dataclasses
import os
import sys
from pathlib import Path

import environs
import marshmallow

from thoughts_common.setting_declarations import (  # noqa: F401 (the readers' names, used by the services)
    BACKENDS,
    BENCH,
    DECLARED,
    FEATURE_PREFIX,
    FILE_SUFFIX,
    FRONTEND,
    SERVICES,
    SETTINGS,
    TESTS,
    THOUGHTS,
    USERS,
    UWSGI,
)


class SettingError(ValueError):
    """A setting with a wrong value; the message names the variable."""


class _Source(environs.Env):
    """environs' parsers over a given mapping, blank values counted as unset."""

    def __init__(self, environ):
        super().__init__(eager=True)
        self._source = environ

    def _get_value(self, env_key, default):
        # environs reads os.environ here; its own FileAwareEnv overrides the same method.
        value = self._source.get(env_key)
        return default if value is None or not value.strip() else value.strip()


def _environ(environ):
    return os.environ if environ is None else environ


def declared(name):
    """The declaration of ``name``; ``FEATURE_<NAME>`` flags follow the pattern of FEATURE_SIGNUP."""
    if name in SETTINGS:
        return SETTINGS[name]
    if name.startswith(FEATURE_PREFIX):
        return dataclasses.replace(SETTINGS["FEATURE_SIGNUP"], name=name, description="a feature flag")
    raise KeyError(f"{name} is not a declared setting (thoughts_common.settings.DECLARED)")


def get(name, environ=None):
    """The value of the setting ``name`` (its default when unset); SettingError naming it when wrong."""
    setting = declared(name)
    if setting.kind == "secret":
        return secret(name, environ)
    source = _Source(_environ(environ))
    validate = _range(setting)
    try:
        if setting.kind == "bool":
            return source.bool(name, setting.default)
        if setting.kind == "int":
            return source.int(name, setting.default, validate=validate)
        if setting.kind == "float":
            return source.float(name, None if setting.default is None else float(setting.default), validate=validate)
        if setting.kind == "list":
            return [item.strip() for item in source.list(name, setting.default.split(",")) if item.strip()]
        value = source.str(name, setting.default)
        if setting.kind == "choice" and value is not None:
            value = value.upper()
            marshmallow.validate.OneOf(setting.choices)(value)
        return value
    except (environs.EnvValidationError, marshmallow.ValidationError) as exc:
        messages = getattr(exc, "error_messages", None) or exc.messages
        raw = _environ(environ).get(name, "").strip()
        raise SettingError(f"{name}={raw!r}: {' '.join(messages)}") from None


def _range(setting):
    if setting.minimum is None and setting.maximum is None:
        return None
    return marshmallow.validate.Range(min=setting.minimum, max=setting.maximum)


def feature(name, environ=None):
    """The feature flag ``FEATURE_<NAME>``: off when unset."""
    return get(FEATURE_PREFIX + name.upper(), environ)


def secret(name, environ=None):
    """``NAME``, or the content of the file ``NAME_FILE`` names (trailing newline stripped); None if neither is set."""
    file_name = name + FILE_SUFFIX
    value, path = _environ(environ).get(name), secret_path(name, environ)
    if value is not None and path is not None:
        raise SettingError(f"{name} and {file_name} are both set: give one")
    if path is not None:
        if not path.strip():
            raise SettingError(f"{file_name} is empty: give the path of the file that holds {name}")
        try:
            value = Path(path).read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not text"
            raise SettingError(f"{file_name}={path} cannot be read: {reason}") from None
        if not value.strip():
            raise SettingError(f"{file_name}={path} is empty")
        return value
    if value is not None and not value.strip():
        raise SettingError(f"{name} is set but empty")
    return value


def secret_path(name, environ=None):
    """The path ``NAME_FILE`` gives, or None."""
    return _environ(environ).get(name + FILE_SUFFIX)


def required_secret(name, hint="", environ=None):
    value = secret(name, environ)
    if value is None:
        raise SettingError(f"set {name} or {name}{FILE_SUFFIX}{hint}")
    return value


def declared_names():
    """Every variable name a declared setting is given by (a secret's ``NAME_FILE`` too)."""
    return {name for setting in DECLARED for name in setting.names}


def without_settings(environ=None):
    """``environ`` (default: this process's) without any variable of ours: for starting a service from a clean slate."""
    ours = declared_names()
    return {k: v for k, v in _environ(environ).items() if k not in ours and not k.startswith(FEATURE_PREFIX)}


def check(reader, environ=None, given=()):
    """Every setting ``reader`` (e.g. USERS) reads, parsed once: a wrong value raises before anything starts.

    Names in ``given`` are left out: an app factory's ``config`` gives them instead of the environment.
    """
    return {
        setting.name: get(setting.name, environ)
        for setting in DECLARED
        if reader in setting.readers and setting.name not in given
    }


@contextlib.contextmanager
def refuse_to_start():
    """A SettingError becomes one line on stderr and exit status 1 (uWSGI, the commands)."""
    try:
        yield
    except SettingError as exc:
        raise SystemExit(f"configuration error: {exc}") from None


def _default_text(setting):
    if setting.kind == "bool":
        return f"; default `{str(setting.default).lower()}`"
    if setting.default in (None, ""):
        return ""
    return f"; default `{setting.default}`"


def markdown_table():
    """The README's table of settings, one row each."""
    rows = ["| variable | read by | meaning |", "|---|---|---|"]
    for setting in DECLARED:
        names = " / ".join(f"`{name}`" for name in setting.names)
        rows.append(f"| {names} | {', '.join(setting.readers)} | {setting.description}{_default_text(setting)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
