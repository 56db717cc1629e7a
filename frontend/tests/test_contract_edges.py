"""The contract's edge values give the same verdict through the frontend as through the API.

Each value is sent twice: to the real backend's API and to the frontend's page
that takes it (the frontend then calls that backend). Accepted by one means
accepted by the other; refused by one means refused by the other with a
message, and the frontend never answers 5xx for anything a user could type.
"""

import html
import re
import uuid

import pytest
import requests

from thoughts_common import contract

pytestmark = pytest.mark.usefixtures("live")

MAX_ID = contract.MAX_ID
HUGE = "9" * 40
ID_EDGES = ["0", "1", str(MAX_ID), str(MAX_ID + 1), HUGE, "", "-1", "1.0", "x"]
# A page shows its refusal in one of these.
REFUSAL = re.compile(r'id="(?:bad-request|thought-error|signup-warning)"[^>]*>(.*?)</(?:div|p)>', re.S)


def frontend_verdict(response):
    """(accepted, message): a page refusing something says why, with 400, never 5xx."""
    assert response.status_code < 500, response.content.decode()[:500]
    if response.status_code < 400:
        return True, None
    assert response.status_code == 400
    match = REFUSAL.search(response.content.decode())
    assert match, response.content.decode()
    message = html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip()
    assert message
    return False, message


def api_verdict(response):
    assert response.status_code < 500, response.text
    if response.status_code < 400:
        return True, None
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message
    return False, message


@pytest.mark.parametrize("value", ID_EDGES)
@pytest.mark.parametrize(("page", "endpoint"), [("/search", "/api/thoughts/"), ("/thoughts/", "/api/me/thoughts/")])
def test_page_positions(client, login, api, value, page, endpoint):
    login("bruce", "bruce")
    auth = {"Authorization": api.token("bruce", "bruce")}
    through_api = requests.get(f"{api.thoughts}{endpoint}", params={"order": "desc", "before": value}, headers=auth)
    through_frontend = client.get(page, {"before": value})

    accepted, message = api_verdict(through_api)
    assert frontend_verdict(through_frontend)[0] == accepted
    if not accepted:
        assert message in through_frontend.content.decode()
    assert accepted == (value in ("1", str(MAX_ID)))


@pytest.mark.parametrize(
    "text",
    ["x" * contract.THOUGHT_MAX_LENGTH, "x" * (contract.THOUGHT_MAX_LENGTH + 1), "é" * 250, " ", "\t\n", "ok"],
    ids=["at-limit", "past-limit", "accents-at-limit", "blank", "whitespace", "short"],
)
def test_thought_texts(client, fresh_user, api, text):
    auth = {"Authorization": fresh_user[2]}
    through_api = requests.post(f"{api.thoughts}/api/me/thoughts/", data={"text": text}, headers=auth)
    stored = len(api.my_thoughts(fresh_user[2]))
    through_frontend = client.post("/thoughts/new", {"text": text})

    accepted = api_verdict(through_api)[0]
    assert frontend_verdict(through_frontend)[0] == accepted
    assert len(api.my_thoughts(fresh_user[2])) == stored + accepted
    assert accepted == (contract.thought_problem(text) is None)


def name(length, prefix=""):
    """A new username of ``length`` characters."""
    return (prefix + uuid.uuid4().hex * 2)[:length]


USERNAMES = {
    "at-limit": lambda: name(contract.USERNAME_MAX_LENGTH),
    "past-limit": lambda: name(contract.USERNAME_MAX_LENGTH + 1),
    # One of 20,000 CJK characters: two hex digits would meet each other too often.
    "one-character": lambda: chr(0x4E00 + uuid.uuid4().int % 20_000),
    "unicode": lambda: name(6, "日本 "),
    "tab-inside": lambda: name(8, "a\tb"),
    "zero-width-space": lambda: name(8, "a\u200bb"),
    "bidi-override": lambda: name(8, "\u202ex"),
    "next-line": lambda: name(8, "a\x85b"),
}


@pytest.mark.parametrize("kind", USERNAMES)
def test_usernames_at_sign_up(client, settings, api, kind):
    """Names the form does not trim (it strips spaces around what was typed, as the login form does)."""
    settings.FEATURE_SIGNUP = True
    password = "pw-" + uuid.uuid4().hex
    for_api, for_frontend = USERNAMES[kind](), USERNAMES[kind]()
    through_api = requests.post(f"{api.users}/api/users/", data={"username": for_api, "password": password})
    through_frontend = client.post("/signup/", {"username": for_frontend, "password": password, "password2": password})

    accepted, message = api_verdict(through_api)
    assert frontend_verdict(through_frontend)[0] == accepted
    if not accepted:
        assert html.escape(message) in through_frontend.content.decode()
    assert accepted == (contract.username_problem(for_api) is None)


@pytest.mark.parametrize("length", [contract.PASSWORD_MAX_LENGTH, contract.PASSWORD_MAX_LENGTH + 1])
def test_passwords_at_sign_up(client, settings, api, length):
    settings.FEATURE_SIGNUP = True
    password = ("p" * length)[:length]
    through_api = requests.post(f"{api.users}/api/users/", data={"username": name(12), "password": password})
    through_frontend = client.post("/signup/", {"username": name(12), "password": password, "password2": password})

    accepted, message = api_verdict(through_api)
    assert frontend_verdict(through_frontend)[0] == accepted
    if not accepted:
        assert html.escape(message) in through_frontend.content.decode()
    assert accepted == (length <= contract.PASSWORD_MAX_LENGTH)
