"""The frontend's own pages under uWSGI; what every service does under uWSGI is tested in tests/services."""

import uuid

import pytest
import requests


def test_production_pages_show_no_debug_information(frontend_server):
    response = requests.get(f"{frontend_server.base}/nowhere")
    assert response.status_code == 404
    assert "There is no page here." in response.text
    assert "URLconf" not in response.text


def test_static_files_under_uwsgi(frontend_server):
    response = requests.get(f"{frontend_server.base}/static/bootstrap/bootstrap.min.css")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert "Bootstrap" in response.text[:200]
    assert requests.get(f"{frontend_server.base}/static/bootstrap/LICENSE").status_code == 200


def test_unknown_hosts_are_refused_with_a_warning(frontend_server, syslog):
    rid = f"bad-host-{uuid.uuid4().hex[:8]}"
    response = requests.get(f"{frontend_server.base}/healthz", headers={"Host": "evil.example", "X-Request-ID": rid})
    assert response.status_code == 400
    syslog.wait_for(f"[{rid}]", "RESPONSE STATUS 400")
    lines = syslog.containing(f"[{rid}]")
    assert any(f"WARNING [{rid}] " in line and "Invalid HTTP_HOST header" in line for line in lines)
    assert not any(" ERROR " in line for line in lines)  # the client's fault, not ours


@pytest.mark.parametrize("path", ["/thoughts/", "/"])
def test_pages_need_a_login_under_uwsgi(frontend_server, path):
    response = requests.get(f"{frontend_server.base}{path}", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/?next=")
