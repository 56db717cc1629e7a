"""thoughts_common.service: what ``create_flask_app`` and ``create_api`` give every Flask service.

Request ids and the request/response lines in the book's format (to a real UDP
syslog receiver), JSON errors, the query check, and a database that refuses
answered 503 with Retry-After, in plain routes and in flask-restx resources.
"""

import re
import uuid

import pytest
from flask import current_app
from flask_restx import Namespace, Resource
from sqlalchemy import text
from werkzeug.exceptions import InternalServerError, NotFound

from thoughts_common import service


@pytest.fixture
def logged_to(syslog_receiver, monkeypatch):
    """The syslog receiver the apps made in the test log to."""
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    return syslog_receiver


@pytest.fixture
def client(make_app, sqlite_url, logged_to):
    app = make_app(sqlite_url)

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug in a view")

    return app.test_client()


def test_a_request_is_logged_from_start_to_end_under_its_id(client, logged_to):
    answer = client.get("/count?x=1", headers={"X-Request-ID": "rid-service-1"})
    assert (answer.status_code, answer.json) == (200, {"count": 2})
    assert answer.headers["X-Request-ID"] == "rid-service-1"
    logged_to.wait_for("RESPONSE STATUS 200")
    lines = logged_to.containing("[rid-service-1]")
    assert all(line.startswith("tiny: [") and " INFO [rid-service-1] service: " in line for line in lines)
    request, took, status = (line.split("[rid-service-1] service: ", 1)[1] for line in lines)
    assert (request, status) == ("REQUEST GET /count?x=1", "RESPONSE STATUS 200")
    assert re.fullmatch(r"RESPONSE TIME \d+ ms", took)


def test_an_unsafe_request_id_is_replaced_by_a_new_one(client):
    answer = client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert uuid.UUID(answer.headers["X-Request-ID"]).version == 4


def test_an_unknown_route_is_a_json_404_logged_as_a_warning(client, logged_to):
    answer = client.get("/nothing-here", headers={"X-Request-ID": "rid-404"})
    assert answer.status_code == 404
    assert answer.json["message"].startswith("The requested URL was not found")
    [line] = logged_to.wait_for("[rid-404]", "RESPONSE STATUS 404")
    assert " WARNING [rid-404] " in line


def test_a_bug_is_a_json_500_without_details_and_logged_with_its_traceback(client, logged_to):
    answer = client.get("/boom", headers={"X-Request-ID": "rid-bug"})
    assert (answer.status_code, answer.json) == (500, {"message": InternalServerError.description})
    assert "a bug in a view" not in answer.text
    [line] = logged_to.wait_for("[rid-bug]", "Unhandled exception on GET /boom")
    assert " ERROR " in line and "RuntimeError: a bug in a view" in line


def test_a_query_with_nul_is_a_400_naming_the_parameter(client):
    answer = client.get("/count?search=a%00b")
    assert (answer.status_code, answer.json) == (400, {"message": "search must not contain NUL characters"})


things = Namespace("things")


@things.route("/")
class Things(Resource):
    def get(self):
        current_app.extensions["database"].session().execute(text("SELECT 1"))
        return {"things": []}


@pytest.fixture
def refusing(api_client, proxied_postgres, logged_to):
    """(test client, proxy): a service with a plain route and a flask-restx resource on PostgreSQL behind a proxy."""
    url, proxy = proxied_postgres
    return api_client(things, "/api/things", url), proxy


@pytest.mark.parametrize("path", ["/count", "/api/things/"])
def test_a_refused_database_is_a_503_with_retry_after_and_one_warning(refusing, logged_to, path):
    client, proxy = refusing
    assert client.get(path).status_code == 200
    proxy.cut()
    answer = client.get(path, headers={"X-Request-ID": "rid-down"})
    assert (answer.status_code, answer.json) == (503, {"message": service.UNAVAILABLE_MESSAGE})
    assert answer.headers["Retry-After"] == str(service.RETRY_AFTER_SECONDS)
    logged_to.wait_for("[rid-down]", "RESPONSE STATUS 503")
    [warning] = logged_to.containing("[rid-down]", f"Database unavailable on GET {path}")
    assert " WARNING " in warning and "Traceback" not in "\n".join(logged_to.containing("[rid-down]"))


def test_the_api_answers_unknown_routes_with_json_and_no_guesses(refusing):
    client, _ = refusing
    answer = client.get("/api/thing/")
    assert answer.status_code == 404
    # flask-restx's 404 help would add "... did you mean /api/things/ ?"
    assert answer.json == {"message": NotFound.description}
