"""thoughts_common.body: a form and a JSON object read the same way; bad bodies are a 400 with a message."""

import pytest
from flask_restx import Namespace, Resource

from thoughts_common import body

echo = Namespace("echo")


@echo.route("/")
class Echo(Resource):
    def post(self):
        return body.fields("username", "password")


@pytest.fixture
def client(api_client):
    return api_client(echo, "/api/echo")


def test_a_form_and_a_json_object_give_the_same_fields(client):
    form = client.post("/api/echo/", data={"username": "bruce", "password": "p", "other": "x"})
    json = client.post("/api/echo/", json={"username": "bruce", "password": "p", "other": "x"})
    assert form.status_code == json.status_code == 200
    assert form.json == json.json == {"username": "bruce", "password": "p"}


@pytest.mark.parametrize("sent", [{"data": {}}, {"json": {}}, {"data": b"", "content_type": "application/json"}])
def test_missing_fields_are_none(client, sent):
    answer = client.post("/api/echo/", **sent)
    assert (answer.status_code, answer.json) == (200, {"username": None, "password": None})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"username": ', "Malformed JSON body"),
        (b"[1, 2]", "The JSON body must be an object"),
        (b'"bruce"', "The JSON body must be an object"),
        (b'{"username": "a\\u0000b"}', "username must not contain NUL characters"),
        (b'{"password": "\\ud800"}', "password is not valid Unicode"),
    ],
)
def test_a_bad_json_body_is_a_400_with_its_reason(client, raw, message):
    answer = client.post("/api/echo/", data=raw, content_type="application/json")
    assert (answer.status_code, answer.json["message"]) == (400, message)


def test_a_form_field_with_nul_is_a_400(client):
    answer = client.post("/api/echo/", data={"username": "a\x00b"})
    assert (answer.status_code, answer.json["message"]) == (400, "username must not contain NUL characters")
