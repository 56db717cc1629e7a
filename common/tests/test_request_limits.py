"""thoughts_common.limits under the uWSGI settings every service shares (common/uwsgi/base.ini).

A tiny app reports what reached it: under the limits everything arrives whole,
over them each request gets its refusal, never a request with parts missing.
"""

import io
import json
import sys
from pathlib import Path

import pytest
import requests

from thoughts_common import limits
from thoughts_common.testing import oversize
from thoughts_common.testing.network import free_port
from thoughts_common.testing.processes import ServerProcess

BASE_INI = Path(__file__).parents[1] / "uwsgi" / "base.ini"
UWSGI = Path(sys.executable).parent / "uwsgi"

APP = """
import json
from thoughts_common.limits import RequestLimits

def report(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    seen = {
        "query": environ.get("QUERY_STRING", ""),
        "headers": {k: len(v) for k, v in environ.items() if k.startswith("HTTP_")},
        "body": len(body),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]

app = RequestLimits(report)
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny_app.py").write_text(APP)
    ini = folder / "uwsgi.ini"
    ini.write_text(
        "[uwsgi]\n"
        "set-placeholder = service=tiny\n"
        "set-placeholder = default_bind=127.0.0.1:0\n"
        f"chdir = {folder}\n"
        "module = tiny_app:app\n"
        f"ini = {BASE_INI}\n"
    )
    env = {"HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    process = ServerProcess(
        [str(UWSGI), "--ini", str(ini)], env=env, unset=("SYSLOG_HOST",), health_url=f"http://{env['HTTP_BIND']}/"
    ).wait_healthy()
    process.base = f"http://{env['HTTP_BIND']}"
    yield process
    process.stop()


def test_a_request_at_every_limit_arrives_whole(tiny):
    path = "/p"
    query = "q=" + "z" * (limits.MAX_URI_BYTES - len(path) - 3)
    # The headers requests adds (Host, User-Agent, ...) take ~150 bytes of the 16 KB.
    headers = {"Cookie": "c" * (limits.MAX_HEADER_BYTES - 400), "Content-Type": "application/octet-stream"}
    body = b"b" * limits.MAX_BODY_BYTES
    response = requests.post(f"{tiny.base}{path}?{query}", headers=headers, data=body, timeout=10)
    assert response.status_code == 200, response.text
    seen = response.json()
    assert (seen["query"], seen["headers"]["HTTP_COOKIE"], seen["body"]) == (query, len(headers["Cookie"]), len(body))


def test_a_chunked_body_at_the_limit_arrives_whole(tiny):
    body = b"b" * limits.MAX_BODY_BYTES
    response = requests.post(f"{tiny.base}/", data=iter([body[:1000], body[1000:]]), timeout=10)
    assert response.json()["body"] == len(body)
    assert "HTTP_TRANSFER_ENCODING" not in response.json()["headers"]


@pytest.mark.parametrize("case", list(oversize.cases("/p")))
def test_each_oversized_request_gets_its_refusal(tiny, case):
    raw, refusal = oversize.cases("/p")[case]
    answer = oversize.send(tiny.base, raw)
    assert (answer.status, answer.json()) == (refusal.status, {"message": refusal.message})
    assert requests.get(f"{tiny.base}/?after=1", timeout=5).json()["query"] == "after=1"


@pytest.mark.parametrize("count", [2000, 3000, 4000, 5000])
def test_many_small_headers_are_refused_not_cut(tiny, count):
    headers = "".join(f"X-{i}: v\r\n" for i in range(count)).encode()
    answer = oversize.send(tiny.base, b"GET / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
    # Past ~4000 headers their WSGI variables overflow uWSGI's 64 KB and uWSGI
    # closes the connection without an answer; it never serves the request.
    assert answer.status == (431 if count <= 4000 else None)


# Without uWSGI (the frameworks' test clients): the same rules from the environ alone.


def environ(**extra):
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": "", "wsgi.input": io.BytesIO(), **extra}


def test_a_query_string_uwsgi_dropped_is_refused():
    uri = "/x?search=" + "z" * 100
    assert limits.check_head(environ(REQUEST_URI=uri, QUERY_STRING=uri[3:], **{"uwsgi.version": "2"})) is None
    dropped = environ(REQUEST_URI=uri, **{"uwsgi.version": "2"})
    del dropped["QUERY_STRING"]
    assert limits.check_head(dropped) == limits.URI_TOO_LONG


def test_the_uri_is_rebuilt_without_request_uri():
    assert limits.request_uri(environ(PATH_INFO="/a b", QUERY_STRING="q=1")) == "/a%20b?q=1"
    assert limits.check_head(environ(QUERY_STRING="q=" + "z" * limits.MAX_URI_BYTES)) == limits.URI_TOO_LONG


def test_headers_are_counted_as_sent():
    assert limits.header_bytes({"HTTP_X_A": "12", "CONTENT_TYPE": "t", "PATH_INFO": "/"}) == len("X_A: 12\r\n") + len(
        "CONTENT_TYPE: t\r\n"
    )


def test_a_chunked_body_from_a_test_client_is_buffered():
    env = environ(REQUEST_METHOD="POST", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(b"x" * 1000)})
    assert limits.limit_body(env) is None
    assert (env["CONTENT_LENGTH"], env["wsgi.input"].read()) == ("1000", b"x" * 1000)
    too_big = environ(HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(b"x" * 70_000)})
    assert limits.limit_body(too_big) == limits.BODY_TOO_LARGE


def test_the_refusal_is_json_with_the_request_id():
    calls = []
    app = limits.RequestLimits(lambda e, s: calls.append(e))
    started = {}
    body = app(
        environ(CONTENT_LENGTH="70000", HTTP_X_REQUEST_ID="rid-9"),
        lambda status, headers: started.update(s=status, h=headers),
    )
    assert started["s"] == "413 Content Too Large" and ("X-Request-ID", "rid-9") in started["h"]
    assert json.loads(b"".join(body)) == {"message": limits.BODY_TOO_LARGE.message}
    assert calls == []
