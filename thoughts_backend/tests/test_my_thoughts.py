import datetime as dt

import pytest
from sqlalchemy import select

from thoughts_backend.models import Thought
from thoughts_common import tokens


def test_lists_only_the_callers_thoughts_ordered_by_id(client, bruce, add_thoughts):
    first = add_thoughts("bruce", "first")
    add_thoughts("stephen", "not mine")
    second = add_thoughts("bruce", "second")

    response = client.get("/api/me/thoughts/", headers=bruce)

    assert response.status_code == 200
    body = response.get_json()
    assert [t["id"] for t in body] == first + second
    assert [t["text"] for t in body] == ["first", "second"]
    assert {t["username"] for t in body} == {"bruce"}
    assert set(body[0]) == {"id", "username", "text", "timestamp"}
    assert "Link" not in response.headers


def test_empty_list_for_a_user_without_thoughts(client, stephen, add_thoughts):
    add_thoughts("bruce", "only bruce")
    response = client.get("/api/me/thoughts/", headers=stephen)
    assert response.status_code == 200
    assert response.get_json() == []


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_post_creates_a_thought(client, bruce, session, as_json):
    kwargs = {"json": {"text": "Hello there"}} if as_json else {"data": {"text": "Hello there"}}

    response = client.post("/api/me/thoughts/", headers=bruce, **kwargs)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "username", "text", "timestamp"}
    assert body["username"] == "bruce"
    assert body["text"] == "Hello there"
    stored = session.get(Thought, body["id"])
    assert (stored.username, stored.text) == ("bruce", "Hello there")
    listed = client.get("/api/me/thoughts/", headers=bruce).get_json()
    assert listed == [body]


def test_timestamp_is_utc_iso8601_without_offset(client, bruce):
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    body = client.post("/api/me/thoughts/", json={"text": "tick"}, headers=bruce).get_json()
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    assert len(body["timestamp"]) == len("2019-05-07T13:47:34")
    stamp = dt.datetime.fromisoformat(body["timestamp"])
    assert stamp.tzinfo is None
    assert before <= stamp <= after
    assert client.get(f"/api/thoughts/{body['id']}/").get_json()["timestamp"] == body["timestamp"]


def test_username_comes_from_the_token_never_from_the_body(client, bruce, session):
    response = client.post("/api/me/thoughts/", json={"text": "mine", "username": "stephen"}, headers=bruce)
    assert response.status_code == 201
    assert response.get_json()["username"] == "bruce"
    assert session.scalars(select(Thought.username)).all() == ["bruce"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "text is required"),
        ({"text": None}, "text is required"),
        ({"text": ""}, "text must not be blank"),
        ({"text": " \n\t "}, "text must not be blank"),
        ({"text": "x" * 251}, "text is longer than 250 characters"),
        ({"text": 42}, "text must be a string"),
        ({"text": ["a"]}, "text must be a string"),
        ({"text": "nul\x00byte"}, "text must not contain NUL characters"),
        ({"text": "lone \ud800 surrogate"}, "text is not valid Unicode"),
    ],
    ids=["missing", "null", "empty", "blank", "too-long", "number", "list", "nul", "surrogate"],
)
def test_invalid_text_is_400_and_says_why(client, bruce, session, body, message):
    response = client.post("/api/me/thoughts/", json=body, headers=bruce)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}
    assert session.scalars(select(Thought)).all() == []


def test_missing_form_field_is_400(client, bruce):
    response = client.post("/api/me/thoughts/", data={"other": "x"}, headers=bruce)
    assert response.status_code == 400
    assert response.get_json() == {"message": "text is required"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{not json", "Malformed JSON body"), ('["text"]', "The JSON body must be an object")],
)
def test_malformed_json_is_400(client, bruce, raw, message):
    response = client.post("/api/me/thoughts/", data=raw, content_type="application/json", headers=bruce)
    assert response.status_code == 400
    assert response.get_json() == {"message": message}


@pytest.mark.parametrize("text", ["x" * 250, "😀" * 250, "é" * 250], ids=["ascii", "emoji", "accent"])
def test_250_characters_are_allowed_whatever_their_bytes(client, bruce, text):
    response = client.post("/api/me/thoughts/", json={"text": text}, headers=bruce)
    assert response.status_code == 201
    assert response.get_json()["text"] == text


def test_multiline_text_is_kept(client, bruce):
    text = "first line\nsecond line"
    assert client.post("/api/me/thoughts/", json={"text": text}, headers=bruce).get_json()["text"] == text


def test_token_with_a_too_long_username_is_400_not_500(client, sign):
    response = client.post("/api/me/thoughts/", json={"text": "hi"}, headers=sign({"username": "u" * 51}))
    assert response.status_code == 400
    assert response.get_json() == {"message": "username is longer than 50 characters"}


@pytest.mark.parametrize("method", ["get", "post"])
def test_without_token_is_401(client, method):
    response = getattr(client, method)("/api/me/thoughts/", json={"text": "hi"})
    assert response.status_code == 401
    assert response.get_json() == {"message": "Missing bearer token in the Authorization header"}


@pytest.mark.parametrize("kind", ["garbage", "other-key", "expired", "basic"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_invalid_token_is_401(client, sign, method, kind):
    if kind == "garbage":
        headers = {"Authorization": "Bearer not-a-jwt"}
    elif kind == "other-key":
        other_private, _ = tokens.new_key_pair()
        headers = {"Authorization": f"Bearer {tokens.encode({'username': 'bruce'}, other_private)}"}
    elif kind == "expired":
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        headers = sign({"username": "bruce"}, now=past)
    else:
        headers = {"Authorization": "Basic YnJ1Y2U6YnJ1Y2U="}

    response = getattr(client, method)("/api/me/thoughts/", json={"text": "hi"}, headers=headers)

    assert response.status_code == 401
    assert "message" in response.get_json()


@pytest.mark.parametrize("username", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_token_with_an_unstorable_username_is_401(client, sign, session, username, method):
    response = getattr(client, method)("/api/me/thoughts/", json={"text": "hi"}, headers=sign({"username": username}))
    assert response.status_code == 401
    assert response.get_json() == {"message": "Invalid or expired token"}
    assert session.scalars(select(Thought)).all() == []
