import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

AFTER_MESSAGE = "after must be the id of a thought, from 0 to 2147483647"
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


def test_walking_the_search_returns_every_row_once_in_order(client, add_thoughts):
    matching = add_thoughts("bruce", *[f"needle {i}" for i in range(23)])
    add_thoughts("stephen", *[f"hay {i}" for i in range(5)])

    pages, urls = walk(client, "http://localhost/api/thoughts/?search=NEEDLE&limit=5")

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [i for page in pages for i in page] == matching
    assert all(parse_qs(urlsplit(url).query)["search"] == ["NEEDLE"] for url in urls)
    assert all(parse_qs(urlsplit(url).query)["limit"] == ["5"] for url in urls)


def test_walking_my_thoughts(client, add_thoughts, bruce):
    mine = add_thoughts("bruce", *[f"mine {i}" for i in range(7)])
    add_thoughts("stephen", "not mine")

    pages, _ = walk(client, "http://localhost/api/me/thoughts/?limit=3", headers=bruce)

    assert pages == [mine[0:3], mine[3:6], mine[6:7]]


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
