import pytest

from thoughts_backend import TAG
from thoughts_common import logconfig


@pytest.fixture
def syslog(syslog_receiver, monkeypatch, app):
    """The app's log lines, sent to a real UDP syslog receiver."""
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    logconfig.configure(TAG)
    yield syslog_receiver
    monkeypatch.delenv("SYSLOG_HOST")
    logconfig.configure(TAG)


def test_search_logs_the_book_lines(client, add_thoughts, syslog):
    add_thoughts("bruce", "a platypus")

    client.get("/api/thoughts/?search=platypus", headers={"X-Request-ID": "search-1"})

    syslog.wait_for("RESPONSE STATUS 200", "[search-1]")
    lines = syslog.containing("[search-1]")
    assert all(line.startswith("thoughts_backend: [") for line in lines)
    assert any("INFO [search-1] service: REQUEST GET /api/thoughts/?search=platypus" in line for line in lines)
    assert any("INFO [search-1] thoughts: Searching with params %platypus%" in line for line in lines)
    assert any("Retrieved 1 thoughts" in line for line in lines)
    assert any("RESPONSE TIME" in line and line.rstrip().endswith("ms") for line in lines)


def test_my_thoughts_and_creation_are_logged_without_the_token(client, bruce, syslog):
    client.post("/api/me/thoughts/", json={"text": "logged"}, headers={**bruce, "X-Request-ID": "post-1"})
    client.get("/api/me/thoughts/", headers={**bruce, "X-Request-ID": "list-1"})

    syslog.wait_for("RESPONSE STATUS 200", "[list-1]")
    assert syslog.containing("[post-1]", "thoughts: Created thought", "for user bruce")
    assert syslog.containing("[list-1]", "thoughts: Retrieved 1 thoughts for user bruce")
    token = bruce["Authorization"].split(" ")[1]
    assert not any(token in line for line in syslog.snapshot())


def test_a_search_cannot_forge_log_lines(client, syslog):
    client.get("/api/thoughts/", query_string={"search": "x\nERROR forged"}, headers={"X-Request-ID": "forge-1"})

    syslog.wait_for("RESPONSE STATUS 200", "[forge-1]")
    [line] = syslog.containing("[forge-1]", "Searching with params")
    assert line.rstrip().endswith("Searching with params %x\\nERROR forged%")


def test_client_errors_are_warnings_not_errors(client, syslog):
    client.get("/api/thoughts/?limit=0", headers={"X-Request-ID": "bad-1"})
    client.get("/api/me/thoughts/", headers={"X-Request-ID": "bad-2"})

    syslog.wait_for("RESPONSE STATUS 401", "[bad-2]")
    assert syslog.containing("WARNING [bad-1]", "RESPONSE STATUS 400")
    assert not any(" ERROR " in line for line in syslog.snapshot())


def test_admin_delete_is_logged(client, admin, add_thoughts, syslog):
    [thought_id] = add_thoughts("bruce", "bye")
    client.delete(f"/admin/thoughts/{thought_id}/", headers={**admin, "X-Request-ID": "del-1"})
    client.delete(f"/admin/thoughts/{thought_id}/", headers={**admin, "X-Request-ID": "del-2"})

    syslog.wait_for("RESPONSE STATUS 204", "[del-2]")
    assert syslog.containing("[del-1]", f"Admin root deleted thought {thought_id}")
    assert syslog.containing("[del-2]", f"Admin root deleted thought {thought_id}, which was already absent")
