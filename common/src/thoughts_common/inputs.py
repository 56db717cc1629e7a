"""Input rules shared by the services: storable text and ASCII-digit integers.

PostgreSQL refuses NUL in text, and a lone surrogate (JSON's ``"\\ud800"``)
is no UTF-8: both would fail deep in the database driver as a 500, so they
are refused at the edge with a message. Integers in URLs and query strings
are ASCII digits only: ``int()`` and Werkzeug's ``<int:>`` also take other
scripts' digits (the Arabic-Indic one is 1), which the documents do not promise.
The limits these checks are used with are in ``thoughts_common.contract``.
"""

import re

ASCII_DIGITS = re.compile(r"[0-9]+")


class InvalidInput(ValueError):
    """A value that breaks an input rule; the message names the field and the rule."""


def text_problem(value):
    """Why ``value`` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return None


def check_text(value, name):
    """``value`` when it is storable text; InvalidInput otherwise. Non-strings pass through."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InvalidInput(f"{name} {problem}")
    return value


def integer(raw, name, low, high, message=None):
    """The integer written in ``raw`` with ASCII digits, within [low, high]; InvalidInput otherwise.

    The length check comes before ``int()``, which is slow on thousands of digits.
    """
    message = message or f"{name} must be an integer from {low} to {high}"
    if not isinstance(raw, str) or not ASCII_DIGITS.fullmatch(raw):
        raise InvalidInput(message)
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(high)) or not low <= int(digits) <= high:
        raise InvalidInput(message)
    return int(digits)
