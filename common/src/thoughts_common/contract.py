"""The rules of the API that the three services share, defined once.

The thoughts backend validates and stores thoughts by them, the users backend
usernames and passwords; both size their columns by them and give them in
their OpenAPI documents; the frontend checks them before it calls a backend,
so that what a user types gets the same verdict (and the same message) from
the page as from the API, never a backend's 400 shown as a 502.
"""

import re

from thoughts_common import inputs

# Ids are 32-bit integers on PostgreSQL: the largest one a URL may name.
MAX_ID = 2**31 - 1

THOUGHT_MAX_LENGTH = 250
USERNAME_MAX_LENGTH = 50
PASSWORD_MAX_LENGTH = 256

# No NUL anywhere: the JSON Schema ``pattern`` of free text (a search, a password).
NO_NUL_PATTERN = "^[^\\x00]*$"
# A text path parameter (a username or an address to clear the login throttle of): one URL path
# segment, so no `/` (not even as %2F, which is decoded before routing), and storable: no NUL.
# Nothing else is refused: the login throttle counts any storable username.
PATH_TEXT_PATTERN = "^[^/\\x00]+$"
# A thought's text: not blank, no NUL.
THOUGHT_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
# Characters a username never holds: controls, invisible format characters (zero-width
# spaces and joiners, bidi controls, BOM), line and paragraph separators.
_HIDDEN = r"\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
# A new username: no hidden characters, no white space at either end.
# Python's and JSON Schema's regexes read these patterns alike.
USERNAME_PATTERN = f"^[^\\s{_HIDDEN}](?:[^{_HIDDEN}]*[^\\s{_HIDDEN}])?$"

_NOT_BLANK = re.compile(r"\S")
_USERNAME = re.compile(USERNAME_PATTERN)
_PATH_TEXT = re.compile(PATH_TEXT_PATTERN)


def _text_problem(value, name, max_length):
    """The problem of a string that is too long or cannot be stored, or None."""
    if len(value) > max_length:
        return f"{name} is longer than {max_length} characters"
    problem = inputs.text_problem(value)
    return f"{name} {problem}" if problem else None


def thought_problem(text):
    """Why ``text`` cannot be a thought, or None."""
    if text is None:
        return "text is required"
    if not isinstance(text, str):
        return "text must be a string"
    if not _NOT_BLANK.search(text):
        return "text must not be blank"
    return _text_problem(text, "text", THOUGHT_MAX_LENGTH)


def username_problem(username):
    """Why ``username`` cannot be a new user's name, or None."""
    if not isinstance(username, str) or not username:
        return "username is required"
    problem = _text_problem(username, "username", USERNAME_MAX_LENGTH)
    if problem is None and not _USERNAME.fullmatch(username):
        problem = "username must not contain leading or trailing spaces or control characters"
    return problem


def path_text_problem(value, name):
    """Why ``value`` is not a text path parameter ``name`` by PATH_TEXT_PATTERN, or None."""
    if _PATH_TEXT.fullmatch(value):
        return None
    return f"{name} must not be empty or contain / or NUL characters"


def password_problem(password):
    """Why ``password`` cannot be a password, or None."""
    if not isinstance(password, str) or not password:
        return "password is required"
    return _text_problem(password, "password", PASSWORD_MAX_LENGTH)


# The lowest id each keyset position of a page may take: ``after=0`` is the first page.
POSITION_MINIMUM = {"after": 0, "before": 1}


def position(raw, name):
    """The keyset position ``after`` or ``before`` written in ``raw``; inputs.InvalidInput otherwise."""
    low = POSITION_MINIMUM[name]
    return inputs.integer(raw, name, low, MAX_ID, f"{name} must be the id of a thought, from {low} to {MAX_ID}")
