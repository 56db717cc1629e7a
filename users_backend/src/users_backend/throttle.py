"""Login throttling: failed logins counted per username and per client address.

The counts live in the database (table ``login_throttle``), so every uWSGI
worker and every replica sees the same numbers. From the ``limit``-th failure
within the window on, a username or address is blocked for a delay that
doubles with each further failure, up to ``max_delay``; attempts while blocked
are refused before the password is checked and are not counted. A username or
address without a failure for ``window`` starts again from zero, and a
successful login clears its username's count (not its address's, so one valid
account does not reset a guesser's address).
"""

import dataclasses
import datetime as dt
import math

from sqlalchemy import case, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from thoughts_common import settings
from users_backend.models import USERNAME_MAX_LENGTH, LoginFailures, utcnow
from users_backend.users import username_key

USERNAME = "username"
ADDRESS = "address"


SettingError = settings.SettingError
COUNTS = {"per_username": "LOGIN_THROTTLE_USERNAME_FAILURES", "per_address": "LOGIN_THROTTLE_ADDRESS_FAILURES"}
DURATIONS = {
    "window": "LOGIN_THROTTLE_WINDOW_SECONDS",
    "base_delay": "LOGIN_THROTTLE_BASE_DELAY_SECONDS",
    "max_delay": "LOGIN_THROTTLE_MAX_DELAY_SECONDS",
}


def _values(environ):
    """The limits from ``environ``: the declared defaults when it is empty."""
    values = {field: settings.get(name, environ) for field, name in COUNTS.items()}
    values.update({field: dt.timedelta(seconds=settings.get(name, environ)) for field, name in DURATIONS.items()})
    return values


_DEFAULTS = _values({})


@dataclasses.dataclass(frozen=True)
class Limits:
    per_username: int = _DEFAULTS["per_username"]
    per_address: int = _DEFAULTS["per_address"]
    window: dt.timedelta = _DEFAULTS["window"]
    base_delay: dt.timedelta = _DEFAULTS["base_delay"]
    max_delay: dt.timedelta = _DEFAULTS["max_delay"]

    def __post_init__(self):
        if self.max_delay > self.window:
            # Otherwise a count would be forgotten while its block still runs.
            raise SettingError("LOGIN_THROTTLE_MAX_DELAY_SECONDS must not exceed LOGIN_THROTTLE_WINDOW_SECONDS")

    @classmethod
    def from_environment(cls, environ=None):
        return cls(**_values(environ))

    def limit(self, scope):
        return self.per_username if scope == USERNAME else self.per_address

    def delay(self, scope, failures):
        """How long ``failures`` failures block: None below the limit, then base, 2 base, 4 base... up to the cap."""
        beyond = failures - self.limit(scope)
        if beyond < 0:
            return None
        return min(self.base_delay * 2 ** min(beyond, 32), self.max_delay)


@dataclasses.dataclass(frozen=True)
class Block:
    scope: str
    seconds: int


def _keys(username, address):
    keys = [(ADDRESS, address)]
    # Counted by the key users are compared by, so `Bruce` and `bruce` share one count.
    # No user has a longer name, and the address is counted all the same.
    key = username_key(username)
    if len(key) <= USERNAME_MAX_LENGTH:
        keys.insert(0, (USERNAME, key))
    return keys


def blocked(session, username, address, now=None):
    """The longest running block of the username or the address, or None."""
    now = now or utcnow()
    rows = session.execute(
        select(LoginFailures.scope, LoginFailures.blocked_until).where(
            tuple_(LoginFailures.scope, LoginFailures.key).in_(_keys(username, address)),
            LoginFailures.blocked_until > now,
        )
    ).all()
    if not rows:
        return None
    scope, until = max(rows, key=lambda row: row.blocked_until)
    return Block(scope, max(1, math.ceil((until - now).total_seconds())))


def _upsert(dialect_name):
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def record_failure(session, username, address, limits, now=None):
    """Count one failure for the username and the address; block them when over their limit."""
    now = now or utcnow()
    insert = _upsert(session.get_bind().dialect.name)
    for scope, key in _keys(username, address):
        statement = insert(LoginFailures).values(scope=scope, key=key, failures=1, last_failure=now)
        # The row lock taken by the upsert serialises concurrent failures of one key.
        statement = statement.on_conflict_do_update(
            index_elements=[LoginFailures.scope, LoginFailures.key],
            set_={
                "failures": case(
                    (LoginFailures.last_failure < now - limits.window, 1), else_=LoginFailures.failures + 1
                ),
                "last_failure": now,
            },
        ).returning(LoginFailures.failures)
        failures = session.execute(statement).scalar_one()
        delay = limits.delay(scope, failures)
        if delay is not None:
            session.execute(
                update(LoginFailures)
                .where(LoginFailures.scope == scope, LoginFailures.key == key)
                .values(blocked_until=now + delay)
            )
    session.commit()


def clear(session, username=None, address=None):
    """Forget the failures of a username and/or an address; the number of records removed."""
    keys = [(USERNAME, username_key(username))] if username is not None else []
    keys += [(ADDRESS, address)] if address is not None else []
    if not keys:
        return 0
    result = session.execute(delete(LoginFailures).where(tuple_(LoginFailures.scope, LoginFailures.key).in_(keys)))
    session.commit()
    return result.rowcount
