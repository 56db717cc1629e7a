import logging
import re
import socket
import time

import pytest

from thoughts_common import logconfig, request_id
from thoughts_common.testing.network import SyslogReceiver


@pytest.fixture
def syslog_logging(monkeypatch, syslog_receiver):
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    logconfig.configure("some_service")
    yield syslog_receiver
    monkeypatch.delenv("SYSLOG_HOST")
    logconfig.configure("some_service")


def test_book_format_with_tag_and_request_id(syslog_logging):
    token = request_id.current.set("rid-1")
    try:
        logging.getLogger("x").warning("Retrieved %d thoughts for user %s", 3, "bruce")
    finally:
        request_id.current.reset(token)
    line = syslog_logging.wait_for("Retrieved 3 thoughts")[0]
    # "<tag>: [2026-11-27 10:00:00,123] WARNING [rid-1] test_logconfig: message"
    assert line.startswith("some_service: [")
    assert line.endswith("] WARNING [rid-1] test_logconfig: Retrieved 3 thoughts for user bruce")


def test_lines_outside_a_request_carry_a_dash(syslog_logging):
    logging.getLogger("x").info("starting")
    assert " INFO [-] test_logconfig: starting" in syslog_logging.wait_for("starting")[0]


def test_credentials_are_redacted(syslog_logging):
    logging.getLogger("x").info("header Bearer abc.def.ghi and body password=hunter2&u=1")
    try:
        raise ValueError('{"password": "hunter2"}')
    except ValueError:
        logging.getLogger("x").exception("failed")
    syslog_logging.wait_for("failed")
    text = "\n".join(syslog_logging.snapshot())
    assert "hunter2" not in text and "abc.def.ghi" not in text
    assert "Bearer [redacted]" in text


@pytest.mark.parametrize(
    "text",
    [
        "BEARER abc.def",
        "x eyJhbGciOi.eyJzdWIi.c2ln y",
        "PassWord=hunter2",
        "pa\u017fsword=hunter2",  # long s: the patterns ignore case as re does
        "to\u212aen=abc",  # Kelvin sign
        '{"Secret": "abc"}',
        "passwd=abc&token=def",
    ],
)
def test_the_quick_check_never_skips_a_line_the_patterns_would_change(text):
    by_patterns = text
    for pattern, replacement in logconfig._SECRETS:
        by_patterns = pattern.sub(replacement, by_patterns)
    assert by_patterns != text
    assert logconfig.redact(text) == by_patterns


def test_level_from_environment(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    logconfig.configure("x")
    assert logging.getLogger().level == logging.WARNING
    monkeypatch.delenv("LOG_LEVEL")
    logconfig.configure("x")
    assert logging.getLogger().level == logging.INFO
    assert len([h for h in logging.getLogger().handlers if getattr(h, "thoughts_handler", False)]) == 1


def test_a_line_syslog_cannot_take_is_dropped_without_a_word(monkeypatch, capsys):
    # Sending to the broadcast address without SO_BROADCAST fails on every line
    # (EACCES): logging's default would print a "--- Logging error ---"
    # traceback for each one, into the service's output.
    monkeypatch.setenv("SYSLOG_HOST", "255.255.255.255")
    handler = logconfig.configure("x")
    try:
        with pytest.raises(OSError):
            handler.socket.sendto(b"probe", handler.address)
        for _ in range(3):
            logging.getLogger("x").error("nobody gets this")
    finally:
        monkeypatch.delenv("SYSLOG_HOST")
        logconfig.configure("x")
    assert capsys.readouterr().err == ""


def test_user_input_cannot_forge_log_lines(syslog_logging):
    logging.getLogger("x").info("Searching with params %s", "a\n[2026-01-01] ERROR [x] forged\x1b[31m")
    line = syslog_logging.wait_for("Searching with params")[0]
    assert "\n" not in line and "\x1b" not in line
    assert line.endswith("Searching with params a\\n[2026-01-01] ERROR [x] forged\\x1b[31m")


def test_a_line_too_long_for_a_datagram_arrives_cut_with_a_marker(syslog_logging):
    username = "u" * 1_048_576
    logging.getLogger("x").warning("Unknown user %s tried to log in", username)
    [line] = syslog_logging.wait_for("Unknown user uuu")
    prefix, _, rest = line.partition("Unknown user ")
    match = re.fullmatch(r"(u+)… \[truncated (\d+) chars\]", rest)
    assert match, line[-100:]
    assert prefix.startswith("some_service: [") and "WARNING" in prefix
    assert len(match.group(1)) + int(match.group(2)) == len(username) + len(" tried to log in")
    assert len(line.encode()) <= logconfig.MAX_LINE_BYTES + len("some_service: ")


def test_a_line_under_the_limit_arrives_whole(syslog_logging):
    text = "é" * ((logconfig.MAX_LINE_BYTES - 200) // 2)
    logging.getLogger("x").info("long %s end", text)
    [line] = syslog_logging.wait_for("long é")
    assert line.endswith(f"long {text} end")
    assert "truncated" not in line


def test_truncation_counts_characters_and_keeps_utf8_whole():
    line = "ü" * 50
    cut = logconfig.truncate(line, limit=60)
    assert cut == "ü" * 10 + "… [truncated 40 chars]"
    assert logconfig.truncate("short", limit=60) == "short"


class Resolver:
    """A stand-in for DNS: the names of ``table`` resolve as given, every other name as the system's resolver does."""

    def __init__(self, monkeypatch, **table):
        self.table = table
        self.asked = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, *args):
            self.asked.append(host)
            if host not in self.table:
                return real(host, port, family, type, *args)
            if self.table[host] is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", (self.table[host], port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def syslog_by_name(monkeypatch):
    """``configure(name, port)``: the root logger sending to the receiver by that name; restored afterwards."""

    def configure(name, port):
        monkeypatch.setenv("SYSLOG_HOST", name)
        monkeypatch.setenv("SYSLOG_PORT", str(port))
        return logconfig.configure("by_name")

    yield configure
    monkeypatch.delenv("SYSLOG_HOST")
    logconfig.configure("x")


def test_a_receiver_name_that_does_not_resolve_yet_neither_stops_the_service_nor_loses_later_lines(
    monkeypatch, capsys, syslog_receiver, syslog_by_name
):
    # Compose and Kubernetes may start a service before the syslog receiver's name resolves.
    dns = Resolver(monkeypatch, **{"syslog-not-started-yet.test": None})
    syslog_by_name("syslog-not-started-yet.test", syslog_receiver.port)
    for _ in range(3):
        logging.getLogger("x").warning("dropped while the name does not resolve")
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1 and "syslog-not-started-yet.test" in warnings[0], warnings
    # Every line asked again (and the constructor once).
    assert dns.asked.count("syslog-not-started-yet.test") == 4

    dns.table["syslog-not-started-yet.test"] = "127.0.0.1"
    logging.getLogger("x").warning("arrives once the name resolves")
    assert syslog_receiver.wait_for("by_name: ", "arrives once the name resolves")
    assert not syslog_receiver.containing("dropped while")


def test_the_receivers_name_is_looked_up_once_not_for_every_line(monkeypatch, syslog_receiver, syslog_by_name):
    # "localhost" goes through the system's resolver (/etc/hosts), as a service name goes through DNS.
    dns = Resolver(monkeypatch)
    handler = syslog_by_name("localhost", syslog_receiver.port)
    for number in range(100):
        logging.getLogger("x").warning("line %d", number)
    assert syslog_receiver.wait_for("by_name: ", "line 99")
    assert len(syslog_receiver.containing("by_name: ")) == 100
    # The address lines are sent to is numeric: the kernel, not the resolver, routes them.
    assert handler.address == ("127.0.0.1", syslog_receiver.port)
    # Once by Python's constructor, once for the first line.
    assert dns.asked.count("localhost") == 2


def test_a_receiver_that_moves_is_found_again_and_a_failed_lookup_keeps_the_last_address(
    monkeypatch, syslog_receiver, syslog_by_name
):
    """A recreated receiver container comes back on another address under the same name."""
    monkeypatch.setattr(logconfig.TaggedSysLogHandler, "RESOLVE_EVERY_SECONDS", 0.5)
    dns = Resolver(monkeypatch, **{"syslog.test": "127.0.0.1"})
    with SyslogReceiver("127.0.0.2", syslog_receiver.port) as moved:
        syslog_by_name("syslog.test", syslog_receiver.port)
        logging.getLogger("x").warning("first")
        dns.table["syslog.test"] = "127.0.0.2"
        logging.getLogger("x").warning("second, within the lookup's lifetime")
        time.sleep(0.6)
        logging.getLogger("x").warning("third, after it")
        assert moved.wait_for("by_name: ", "third, after it")
        assert syslog_receiver.wait_for("by_name: ", "second, within")
        assert [len(r.containing("by_name: ")) for r in (syslog_receiver, moved)] == [2, 1]

        dns.table["syslog.test"] = None
        time.sleep(0.6)
        logging.getLogger("x").warning("fourth, while DNS fails")
        assert moved.wait_for("by_name: ", "fourth, while DNS fails")
