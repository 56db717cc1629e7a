import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

AFTER_MESSAGE = "after must be the id of a thought, from 0 to 2147483647"
BEFORE_MESSAGE = "before must be the id of a thought, from 1 to 2147483647"
ORDER_MESSAGE = 'order must be "asc" or "desc"'
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def next_url(response, current):
    header = response.headers.get("Link")
    if header is None:
        return None
    match = LINK.match(header)
    assert match, header
    return urljoin(current, match["url"])


def walk(client, url, headers=None):
    """Follow the Link headers from ``url``; returns the pages (lists of ids) and the URLs visited."""
    pages, urls = [], []
    while url:
        urls.append(url)
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        pages.append([thought["id"] for thought in response.get_json()])
        url = next_url(response, url)
        assert len(pages) < 100, "the Link headers never end"
    return pages, urls


# (query of the first page, the position the Link headers carry, whether ids go down)
ORDERS = {"asc": ("", "after", False), "desc": ("&order=desc", "before", True)}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("term", ["NEEDLE", "ne", ""], ids=["indexed", "scan", "all"])
def test_walking_the_search_returns_every_row_once_in_order(client, add_thoughts, order, term):
    query, position, descending = ORDERS[order]
    matching = add_thoughts("bruce", *[f"needle {i}" for i in range(23)])
    hay = add_thoughts("stephen", *[f"hay {i}" for i in range(5)])
    expected = sorted(matching + hay if not term else matching, reverse=descending)

    pages, urls = walk(client, f"http://localhost/api/thoughts/?search={term}&limit=5{query}")

    assert all(len(page) == 5 for page in pages[:-1]) and 0 < len(pages[-1]) <= 5
    assert [i for page in pages for i in page] == expected
    for url, previous in zip(urls[1:], pages, strict=False):
        arguments = parse_qs(urlsplit(url).query)
        assert arguments.get("search", [""]) == [term]
        assert arguments["limit"] == ["5"]
        assert arguments[position] == [str(previous[-1])]
        assert ({"after", "before"} - {position}).isdisjoint(arguments)
        assert arguments.get("order", ["asc"]) == [order]


@pytest.mark.parametrize("order", ORDERS)
def test_after_and_before_bound_a_window_in_either_order(client, add_thoughts, order):
    """The position the order does not move stays in every Link: the walk stays inside the window."""
    query, _, descending = ORDERS[order]
    ids = add_thoughts("bruce", *[f"w {i}" for i in range(9)])
    window = f"after={ids[1]}&before={ids[7]}"

    pages, urls = walk(client, f"http://localhost/api/thoughts/?limit=2&{window}{query}")

    assert [i for page in pages for i in page] == sorted(ids[2:7], reverse=descending)
    fixed = "after" if descending else "before"
    assert all(parse_qs(urlsplit(url).query)[fixed] == [str(ids[1] if descending else ids[7])] for url in urls)


@pytest.mark.parametrize("order", ORDERS)
def test_walking_my_thoughts(client, add_thoughts, bruce, order):
    query, _, descending = ORDERS[order]
    mine = add_thoughts("bruce", *[f"mine {i}" for i in range(7)])
    add_thoughts("stephen", "not mine")

    pages, _ = walk(client, f"http://localhost/api/me/thoughts/?limit=3{query}", headers=bruce)

    ordered = sorted(mine, reverse=descending)
    assert pages == [ordered[0:3], ordered[3:6], ordered[6:7]]


def test_newest_first_link_carries_before(client, add_thoughts, bruce):
    ids = add_thoughts("bruce", "a", "b", "c", "d")
    first = client.get("/api/thoughts/?limit=2&order=desc")
    assert [t["id"] for t in first.get_json()] == [ids[3], ids[2]]
    assert first.headers["Link"] == f'</api/thoughts/?limit=2&order=desc&before={ids[2]}>; rel="next"'
    last = client.get(f"/api/me/thoughts/?order=desc&before={ids[2]}&limit=2", headers=bruce)
    assert [t["id"] for t in last.get_json()] == [ids[1], ids[0]]
    assert "Link" not in last.headers
    assert client.get(f"/api/thoughts/?order=desc&before={ids[0]}").get_json() == []


def test_a_full_last_page_has_no_link(client, add_thoughts):
    ids = add_thoughts("bruce", "a", "b", "c", "d")
    first = client.get("/api/thoughts/?limit=2")
    assert first.headers["Link"] == f'</api/thoughts/?limit=2&after={ids[1]}>; rel="next"'
    last = client.get(f"/api/thoughts/?limit=2&after={ids[1]}")
    assert [t["id"] for t in last.get_json()] == ids[2:]
    assert "Link" not in last.headers


def test_after_skips_up_to_that_id(client, add_thoughts):
    ids = add_thoughts("bruce", "a", "b", "c")
    assert [t["id"] for t in client.get(f"/api/thoughts/?after={ids[0]}").get_json()] == ids[1:]
    assert client.get(f"/api/thoughts/?after={ids[-1]}").get_json() == []
    assert client.get("/api/thoughts/?after=0").status_code == 200


def test_default_limit_is_100(client, session):
    from thoughts_backend import seeding

    seeding.load_synthetic(session, 101, seed=1)

    response = client.get("/api/thoughts/")
    assert len(response.get_json()) == 100
    assert "Link" in response.headers
    assert len(client.get("/api/thoughts/?limit=500").get_json()) == 101


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be an integer from 1 to 500"),
        ("limit=501", "limit must be an integer from 1 to 500"),
        ("limit=-1", "limit must be an integer from 1 to 500"),
        ("limit=ten", "limit must be an integer from 1 to 500"),
        ("limit=", "limit must be an integer from 1 to 500"),
        ("limit=1.5", "limit must be an integer from 1 to 500"),
        ("limit=%D9%A3", "limit must be an integer from 1 to 500"),
        ("after=", AFTER_MESSAGE),
        ("after=%201", AFTER_MESSAGE),
        ("after=%D9%A1", AFTER_MESSAGE),
        ("limit=%2B5", "limit must be an integer from 1 to 500"),
        ("after=-1", AFTER_MESSAGE),
        ("after=x", AFTER_MESSAGE),
        ("after=2147483648", AFTER_MESSAGE),
        ("after=99999999999999999999", AFTER_MESSAGE),
        ("after=" + "9" * 5000, AFTER_MESSAGE),
        ("limit=" + "0" * 5000, "limit must be an integer from 1 to 500"),
        ("limit=" + "1" * 5000, "limit must be an integer from 1 to 500"),
        ("order=", ORDER_MESSAGE),
        ("order=DESC", ORDER_MESSAGE),
        ("order=newest", ORDER_MESSAGE),
        ("order=desc&before=0", BEFORE_MESSAGE),
        ("order=desc&before=", BEFORE_MESSAGE),
        ("order=desc&before=-1", BEFORE_MESSAGE),
        ("order=desc&before=2147483648", BEFORE_MESSAGE),
        ("order=desc&before=" + "9" * 5000, BEFORE_MESSAGE),
        ("order=desc&before=%D9%A1", BEFORE_MESSAGE),
    ],
)
@pytest.mark.parametrize("path", ["/api/thoughts/", "/api/me/thoughts/"])
def test_invalid_paging_is_400(client, bruce, path, query, message):
    response = client.get(f"{path}?{query}", headers=bruce)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}


def test_leading_zeros_are_fine(client, add_thoughts):
    ids = add_thoughts("bruce", "a", "b", "c")
    response = client.get(f"/api/thoughts/?limit=0002&after=000{ids[0]}")
    assert [t["id"] for t in response.get_json()] == ids[1:]


def test_largest_id_is_accepted(client):
    response = client.get("/api/thoughts/?after=2147483647")
    assert response.status_code == 200
    assert response.get_json() == []


def test_largest_before_includes_every_smaller_id(client, add_thoughts):
    ids = add_thoughts("bruce", "a", "b")
    response = client.get("/api/thoughts/?order=desc&before=2147483647")
    assert [t["id"] for t in response.get_json()] == ids[::-1]
    assert client.get("/api/thoughts/?order=asc&after=0").status_code == 200
