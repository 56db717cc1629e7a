"""Keyset paging for the lists: ``limit`` and ``after`` in, a ``Link: rel="next"`` header out."""

import dataclasses
from urllib.parse import urlencode

from thoughts_backend.models import MAX_ID
from thoughts_common import inputs

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class InvalidPaging(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    after: int = 0


def _integer(args, name, default, low, high, message=None):
    """``args[name]`` in ASCII digits within [low, high]; absent is ``default``, empty is refused like "x"."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        return inputs.integer(raw, name, low, high, message)
    except inputs.InvalidInput as exc:
        raise InvalidPaging(str(exc)) from None


def parse(args):
    """A Page from the query arguments; InvalidPaging with a message for bad values."""
    limit = _integer(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    after = _integer(args, "after", 0, 0, MAX_ID, f"after must be the id of a thought, from 0 to {MAX_ID}")
    return Page(limit=limit, after=after)


def split(rows, page):
    """The rows of this page, and the id to continue after when there are more.

    Queries ask for ``page.limit + 1`` rows: the extra one only tells that a next page exists.
    """
    if len(rows) > page.limit:
        shown = rows[: page.limit]
        return shown, shown[-1].id
    return rows, None


def next_link(path, args, after):
    """``Link`` header value for the next page.

    The URL is relative to the request (RFC 8288), so it stays right behind a
    proxy or an ingress that changes the host or the scheme.
    """
    query = [(name, value) for name, values in args.lists() if name != "after" for value in values]
    query.append(("after", str(after)))
    return f'<{path}?{urlencode(query)}>; rel="next"'
