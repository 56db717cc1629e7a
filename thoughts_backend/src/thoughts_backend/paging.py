"""Keyset paging for the lists: ``limit``, ``order``, ``after`` and ``before`` in, a ``Link: rel="next"`` header out.

``after`` and ``before`` bound the ids (above one, below the other) whatever
the order; the next page of an ascending list (the default) moves ``after`` up
to the last id shown, that of a descending one (``order=desc``, the newest
first) moves ``before`` down to it. Any combination is valid: the OpenAPI
document, which cannot tie one parameter to another, tells the whole rule.
"""

import dataclasses
from urllib.parse import urlencode

from thoughts_common import contract, inputs

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
ORDERS = ("asc", "desc")
# The keyset position the next page of each order moves.
POSITION = {"asc": "after", "desc": "before"}


class InvalidPaging(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    # Ids above ``after`` and below ``before`` (None: no bound above).
    after: int = 0
    before: int | None = None
    order: str = "asc"

    @property
    def descending(self):
        return self.order == "desc"

    @property
    def position(self):
        """The name of the query argument the next page moves."""
        return POSITION[self.order]


def _integer(args, name, parse):
    """``parse(args[name])``; absent is None, empty is refused like "x"."""
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return parse(raw)
    except inputs.InvalidInput as exc:
        raise InvalidPaging(str(exc)) from None


def parse(args):
    """A Page from the query arguments; InvalidPaging with a message for bad values."""
    limit = _integer(args, "limit", lambda raw: inputs.integer(raw, "limit", 1, MAX_LIMIT))
    order = args.get("order", "asc")
    if order not in ORDERS:
        raise InvalidPaging('order must be "asc" or "desc"')
    after = _integer(args, "after", lambda raw: contract.position(raw, "after"))
    before = _integer(args, "before", lambda raw: contract.position(raw, "before"))
    return Page(limit=limit or DEFAULT_LIMIT, after=after or 0, before=before, order=order)


def split(rows, page):
    """The rows of this page, and the id the next one continues from when there are more.

    Queries ask for ``page.limit + 1`` rows: the extra one only tells that a next page exists.
    """
    if len(rows) > page.limit:
        shown = rows[: page.limit]
        return shown, shown[-1].id
    return rows, None


def next_link(path, args, page, key):
    """``Link`` header value for the next page, which continues from ``key``.

    The URL is relative to the request (RFC 8288), so it stays right behind a
    proxy or an ingress that changes the host or the scheme.
    """
    query = [(name, value) for name, values in args.lists() if name != page.position for value in values]
    query.append((page.position, str(key)))
    return f'<{path}?{urlencode(query)}>; rel="next"'
