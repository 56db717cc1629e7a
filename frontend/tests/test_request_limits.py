"""Oversized requests to the frontend under uWSGI: refused with a page, never served with lost parameters."""

import html

import pytest
import requests

from thoughts_common import limits
from thoughts_common.testing import oversize

OVERSIZE = oversize.cases("/search")


@pytest.mark.parametrize("case", list(OVERSIZE))
def test_oversized_requests_are_refused_with_a_page(frontend_server, case):
    raw, refusal = OVERSIZE[case]
    answer = oversize.send(frontend_server.base, raw)
    assert answer.status == refusal.status
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<h1>{refusal.status} · {refusal.reason}</h1>" in answer.text
    assert html.escape(refusal.message) in answer.text
    # The next request is served as usual.
    assert requests.get(f"{frontend_server.base}/healthz", timeout=5).status_code == 200


def test_a_long_search_under_the_limit_arrives_whole(frontend_server):
    """The probe's case below the limit: the search arrives whole (it does not list every thought)
    and is refused for what it is, longer than any thought."""
    term = "z" * (limits.MAX_URI_BYTES - 100)
    response = requests.get(f"{frontend_server.base}/search", params={"search": term}, timeout=10)
    assert response.status_code == 400
    assert "no thought is longer than 250 characters" in response.text


def test_a_body_over_the_limit_is_413_without_the_middleware(client):
    """Django itself (the test client, no uWSGI): DATA_UPLOAD_MAX_MEMORY_SIZE gives 413, not 400."""
    response = client.post("/login/", {"username": "u" * limits.MAX_BODY_BYTES, "password": "p"})
    assert response.status_code == 413
    assert limits.BODY_TOO_LARGE.message in response.content.decode()
