"""logs/: a real rsyslogd with our configuration, fed by thoughts_common.logconfig; frontail; the image."""

import json
import re
import subprocess
import time
import uuid

import pytest
import requests
import yaml
from frontail_viewer import frontail_lines
from image_versions import versions
from repository_paths import LOGS
from rsyslog_server import LOG_LINE, request_id_set

from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.processes import ServerProcess


def test_a_service_line_reaches_the_file_with_its_tag(start_rsyslog, service_logger):
    rsyslog = start_rsyslog()
    logger = service_logger("thoughts_backend", rsyslog.port)
    marker = uuid.uuid4().hex

    with request_id_set("req-1234"):
        logger.info("hello from the thoughts backend %s", marker)

    [line] = rsyslog.wait_for(marker)
    match = LOG_LINE.match(line)
    assert match, line
    assert match["tag"] == "thoughts_backend"
    assert match["level"] == "INFO"
    assert match["request_id"] == "req-1234"
    assert match["message"] == f"hello from the thoughts backend {marker}"


def test_a_traceback_stays_one_whole_line_even_over_8_kb(start_rsyslog, service_logger):
    rsyslog = start_rsyslog()
    logger = service_logger("users_backend", rsyslog.port)
    marker = uuid.uuid4().hex
    long_text = "x" * 20_000

    try:
        raise ValueError(long_text)
    except ValueError:
        logger.exception("failed %s", marker)

    [line] = rsyslog.wait_for(marker)
    assert line.split(" ", 2)[1] == "users_backend:"
    assert "#012Traceback (most recent call last):#012" in line
    # maxMessageSize is 64k: nothing is cut after the 20 000 characters
    assert line.endswith(f"ValueError: {long_text}")


def test_a_line_too_long_for_one_datagram_reaches_the_file_cut_with_a_marker(start_rsyslog, service_logger):
    rsyslog = start_rsyslog()
    logger = service_logger("users_backend", rsyslog.port)
    marker = uuid.uuid4().hex

    logger.warning("Unknown user %s %s", marker, "u" * 1_048_576)

    [line] = rsyslog.wait_for(marker)
    assert line.split(" ", 2)[1] == "users_backend:"
    assert re.search(r" u{50000,}… \[truncated \d+ chars\]$", line), line[-80:]


def test_uwsgi_lines_keep_their_tag_without_the_pid(start_rsyslog):
    rsyslog = start_rsyslog()
    marker = uuid.uuid4().hex

    # What uWSGI's rsyslog logger sends: an RFC 3164 header with tag[pid].
    rsyslog.send_raw(f"<30>Nov 27 11:17:13 somehost users_backend_uwsgi[4242]: spawned uWSGI worker 1 {marker}")

    [line] = rsyslog.wait_for(marker)
    assert re.match(rf"^\S+ users_backend_uwsgi: spawned uWSGI worker 1 {marker}$", line), line


def test_rotation_keeps_the_previous_file(start_rsyslog, service_logger):
    rsyslog = start_rsyslog(rotate_bytes=4000)
    logger = service_logger("frontend", rsyslog.port)
    run = uuid.uuid4().hex[:8]

    for number in range(120):
        logger.info("rotation %s line %03d %s", run, number, "y" * 60)
        if number % 20 == 19:
            time.sleep(0.05)  # let rsyslog write (and rotate) as it goes
    previous = rsyslog.file.with_name("syslog.1")
    # The last line may already have been rotated away into syslog.1.
    wait_until(
        lambda: any(f"rotation {run} line 119" in rsyslog.text(path) for path in (rsyslog.file, previous)),
        timeout=10,
        message="the last line written",
    )

    assert previous.exists(), "no rotated file"
    numbers = {
        path: [int(m.group(1)) for m in re.finditer(rf"rotation {run} line (\d+)", rsyslog.text(path))]
        for path in (previous, rsyslog.file)
    }
    assert numbers[previous], "the rotated file holds no line"
    # The current file is small again (or not even created again after the last
    # rotation), and the previous file ends right where it begins.
    assert len(rsyslog.text().encode()) < 3 * 4000
    current = numbers[rsyslog.file]
    if current:
        assert current[0] == numbers[previous][-1] + 1
    else:
        assert numbers[previous][-1] == 119


def send_probe_and_app_lines(logger, marker):
    """Lines as the services log them for probes, scrapes and ordinary requests."""
    with request_id_set("probe-kubelet"):
        logger.info("REQUEST GET /readyz")
        logger.info("RESPONSE TIME 3 ms %s-probe-time", marker)
        logger.info("RESPONSE STATUS 200 %s-probe-status", marker)
    with request_id_set("probe-kubelet"):
        logger.warning("Not ready: database unreachable %s-probe-warning", marker)
    with request_id_set("5b1f3c0e-scrape"):
        logger.info("REQUEST GET /metrics")
        logger.info("RESPONSE TIME 2 ms %s-scrape-time", marker)
    with request_id_set("0d9e-healthz"):
        logger.info("REQUEST GET /healthz")
        logger.info("REQUEST HEAD /readyz?verbose=1")
    with request_id_set("a1b2-search"):
        logger.info("REQUEST GET /api/thoughts/?search=healthz")
        logger.info("REQUEST GET /healthzzz")
    logger.info("end of batch %s", marker)


@pytest.mark.parametrize("health_filter", ["on", "off"])
def test_health_filter_drops_probe_noise_only_when_on(start_rsyslog, service_logger, health_filter):
    rsyslog = start_rsyslog(health_filter=health_filter)
    logger = service_logger("frontend", rsyslog.port)
    marker = uuid.uuid4().hex

    send_probe_and_app_lines(logger, marker)
    rsyslog.wait_for(f"end of batch {marker}")
    text = rsyslog.text()

    always = [
        f"{marker}-probe-warning",  # a failing probe is never noise
        f"{marker}-scrape-time",  # RESPONSE lines have no path: only marked probes lose them
        "REQUEST GET /api/thoughts/?search=healthz",
        "REQUEST GET /healthzzz",
    ]
    probe_noise = [
        "REQUEST GET /readyz",
        f"{marker}-probe-time",
        f"{marker}-probe-status",
        "REQUEST GET /metrics",
        "REQUEST GET /healthz\n",
        "REQUEST HEAD /readyz?verbose=1",
    ]
    for needle in always:
        assert needle in text, needle
    for needle in probe_noise:
        if health_filter == "on":
            assert needle not in text, needle
        else:
            assert needle in text, needle


def test_run_script_rejects_an_unknown_filter_switch(tmp_path):
    result = subprocess.run(
        ["sh", str(LOGS / "run-rsyslog.sh"), "-N1"],
        env={"PATH": "/usr/bin:/bin", "SYSLOG_HEALTH_FILTER": "maybe", "SYSLOG_WORKDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "SYSLOG_HEALTH_FILTER must be on or off" in result.stderr


def dockerfile_instructions(path):
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def test_rsyslog_image_is_debian_slim_non_root_udp_5140_with_our_files():
    instructions = dockerfile_instructions(LOGS / "Dockerfile")
    values = {}
    for instruction, arguments in instructions:
        values.setdefault(instruction, []).append(arguments)

    assert values["FROM"] == ["debian:bookworm-slim AS runtime"]
    assert "5140/udp" in values["EXPOSE"]
    assert values["USER"][-1] not in ("root", "0")
    for arguments in values["COPY"]:
        *sources, _target = arguments.split()
        for source in sources:
            assert (LOGS / source).exists(), f"COPY source {source} missing"
    assert "run-rsyslog.sh" in values["CMD"][-1]


def test_rsyslog_configuration_is_valid_with_the_image_environment(rsyslogd, tmp_path):
    env_text = " ".join(
        arguments for instruction, arguments in dockerfile_instructions(LOGS / "Dockerfile") if instruction == "ENV"
    )
    env = dict(pair.split("=", 1) for pair in env_text.split())
    assert env["SYSLOG_BIND_ADDRESS"] == "0.0.0.0"  # noqa: S104 - the container listens on its own network
    assert env["SYSLOG_PORT"] == "5140"
    # The image's folders do not exist here: same settings, paths under tmp_path.
    env.update(SYSLOG_FILE=str(tmp_path / "log" / "syslog"), SYSLOG_WORKDIR=str(tmp_path / "work"), RSYSLOGD=rsyslogd)

    result = subprocess.run(
        ["sh", str(LOGS / "run-rsyslog.sh"), "-N1"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


def test_frontail_serves_the_log_file(start_rsyslog, service_logger, frontail):
    rsyslog = start_rsyslog()
    logger = service_logger("thoughts_backend", rsyslog.port)
    marker = uuid.uuid4().hex
    logger.info("for frontail %s", marker)
    rsyslog.wait_for(marker)

    port = free_port()
    # The command line of the native run, on a free port.
    command = [str(frontail), "-h", "127.0.0.1", "-p", str(port), "-n", "1000", "--ui-highlight"]
    server = ServerProcess(
        [*command, "--disable-usage-stats", str(rsyslog.file)],
        health_url=f"http://127.0.0.1:{port}/",
    )
    try:
        server.wait_healthy(timeout=20)
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert str(rsyslog.file) in page.text  # the page is the tail of our file

        lines = frontail_lines(f"http://127.0.0.1:{port}", rsyslog.file, until=marker)
        assert any("thoughts_backend: " in line and marker in line for line in lines)
    finally:
        server.stop()


def test_frontail_is_pinned_for_the_native_run_and_compose():
    """One version: .env's FRONTAIL_VERSION, which npm's files (native run, offline image) must match."""
    version = versions()["FRONTAIL_VERSION"]
    package = json.loads((LOGS / "package.json").read_text())
    lock = json.loads((LOGS / "package-lock.json").read_text())
    assert package["dependencies"] == {"frontail": version}
    assert lock["packages"]["node_modules/frontail"]["version"] == version
    compose = yaml.safe_load((LOGS.parent / "docker-compose.yaml").read_text())
    assert compose["services"]["frontail"]["image"] == "mthenw/frontail:${FRONTAIL_VERSION}"
