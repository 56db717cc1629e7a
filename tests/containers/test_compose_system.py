"""The compose system, run for real: `docker compose up --wait`, then what a user and an operator do.

One compose project of the tests' own (docker-compose.yaml with the offline
stand-ins of docker-compose.offline.yaml, its own secrets, the README's ports
when they are free), shared by the tests below in their order: a user's
journey and its request ids in the syslog container's file and in frontail;
every Prometheus target up and every dashboard query with data; the services'
own tests inside their images against the compose PostgreSQL; PostgreSQL
restarted under the running services; the thoughts backend stopped and
TargetDown at the alert receiver; `down -v` leaving nothing behind.

Prometheus and Alertmanager read test copies of metrics/ (1 s intervals,
TargetDown after 2 s, 1 s group_wait, 2 s group_interval), mounted where compose mounts the real
files, as the native system test does; the rules are the real ones.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from compose_project import ComposeProject, Phase, inspect, run, write_secrets
from frontail_viewer import frontail_lines
from metrics_contract import JOBS
from monitoring_stack import prepare_prometheus_config
from repository_paths import ALERTMANAGER_DIR, PROMETHEUS_DIR
from running_system import System, dashboard_data, new_request_id, run_traffic
from yaml_files import read_yaml, write_yaml

from thoughts_common.testing.network import wait_until

SERVICES = ("users-backend", "thoughts-backend", "frontend")
ONE_SHOT = ("users-migrate", "thoughts-migrate")
LONG_RUNNING = ("db", "syslog", "frontail", "prometheus", "alertmanager", "alert-receiver", *SERVICES)
# The backends' readiness checks their database; the frontend has its health check only.
READY = {"users-backend": "/readyz", "thoughts-backend": "/readyz", "frontend": "/healthz"}
SYSLOG_FILE = "/var/log/thoughts/syslog"
ALERTS_FILE = "/alerts/alerts.jsonl"


def fast_monitoring(folder):
    """Test copies of the Prometheus and Alertmanager files, and the compose file that mounts them."""
    targets = {
        path.stem: [address for group in read_yaml(path) for address in group["targets"]]
        for path in sorted((PROMETHEUS_DIR / "targets.compose").glob("*.yml"))
    }
    config = prepare_prometheus_config(folder / "prometheus", targets, alert_for={"TargetDown": "2s"})
    template = read_yaml(ALERTMANAGER_DIR / "alertmanager.yml")
    # An alert joining a group that already notified waits for group_interval, not group_wait.
    template["route"].update(group_wait="1s", group_interval="2s")
    write_yaml(folder / "alertmanager" / "alertmanager.yml", template)
    override = {
        "services": {
            "prometheus": {
                "volumes": [
                    f"{config}:/etc/prometheus/prometheus.yml:ro",
                    f"{folder / 'prometheus' / 'rules'}:/etc/prometheus/rules:ro",
                    f"{folder / 'prometheus' / 'targets'}:/etc/prometheus/targets:ro",
                ]
            },
            "alertmanager": {
                "volumes": [f"{folder / 'alertmanager' / 'alertmanager.yml'}:/etc/alertmanager/alertmanager.yml:ro"]
            },
        }
    }
    write_yaml(folder / "compose.test.yaml", override)
    return folder / "compose.test.yaml"


@pytest.fixture(scope="module")
def project(images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("compose")
    project = ComposeProject(
        f"thoughts-test-{uuid.uuid4().hex[:6]}",
        secrets=write_secrets(folder / "secrets"),
        extra_files=[fast_monitoring(folder)],
    )
    print(f"compose project {project.name}, ports {project.ports}")
    try:
        yield project
    finally:
        if any(project.leftovers().values()):
            logs = project("logs", "--no-color", "--tail", "40", check=False).stdout
            (folder / "compose.log").write_text(logs)
            project("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)


@pytest.fixture(scope="module")
def system(project):
    def alerts():
        found = project("exec", "-T", "alert-receiver", "cat", ALERTS_FILE, check=False)
        return [json.loads(line) for line in found.stdout.splitlines() if line.strip()]

    return System(
        frontend_url=project.url("frontend"),
        thoughts_url=project.url("thoughts-backend"),
        users_url=project.url("users-backend"),
        prometheus_url=project.url("prometheus"),
        log_text=lambda: project.read("syslog", SYSLOG_FILE),
        alerts=alerts,
        project=project,
    )


def test_up_waits_until_every_service_is_healthy(project):
    with Phase("docker compose up --wait"):
        project("up", "--detach", "--wait", "--wait-timeout", "300", timeout=420)
    for service in LONG_RUNNING:
        state = project.state(service)
        assert state["Status"] == "running", (service, state)
        health = state.get("Health") or {}
        if health.get("Status"):  # the service has a healthcheck
            assert health["Status"] == "healthy", (service, health)
    for service in ONE_SHOT:  # the migrations ran once and finished
        state = project.state(service)
        assert (state["Status"], state["ExitCode"]) == ("exited", 0), (service, state)
    for service, path in READY.items():
        answer = requests.get(f"{project.url(service)}{path}", timeout=5)
        assert answer.status_code == 200, (service, answer.text)


def test_a_user_logs_in_shares_and_finds_it_with_one_request_id_per_click(system):
    with Phase("user journey through the frontend, request ids in the syslog file and frontail"):
        login_id, share_id, search_id = (new_request_id(what) for what in ("login", "share", "search"))
        text = f"Shared in a container {uuid.uuid4().hex[:8]}"
        browser = system.browser()
        login = browser.login("bruce", "bruce", request_id=login_id)
        assert login.status_code == 302, login.text[:500]
        assert login.headers["X-Request-ID"] == login_id
        share = browser.share(text, request_id=share_id)
        assert share.status_code == 302, share.text[:500]
        found = browser.get(f"/search?search={text.split()[-1]}", request_id=search_id)
        assert found.status_code == 200 and text in found.text

        system.wait_for_log(
            login_id,
            {
                "frontend": ["REQUEST POST /login/", "RESPONSE STATUS 302"],
                "users_backend": ["REQUEST POST /api/login/", "RESPONSE STATUS 200"],
            },
        )
        system.wait_for_log(
            share_id,
            {
                "frontend": ["REQUEST POST /thoughts/new", "RESPONSE STATUS 302"],
                "thoughts_backend": ["REQUEST POST /api/me/thoughts/", "RESPONSE STATUS 201"],
            },
        )
        search_lines = system.wait_for_log(
            search_id, {"frontend": ["RESPONSE STATUS 200"], "thoughts_backend": ["RESPONSE STATUS 200"]}
        )
        tags = {line.split(" ", 2)[1].rstrip(":") for line in system.log_text().splitlines() if " " in line}
        assert {"frontend_uwsgi", "thoughts_backend_uwsgi", "users_backend_uwsgi"} <= tags
        assert "Bearer ey" not in system.log_text()

        # frontail in its container shows the same lines to a browser.
        last = search_lines[-1]
        pushed = frontail_lines(
            system.project.url("frontail"), SYSLOG_FILE, until=f"[{search_id}] {last['module']}: {last['message']}"
        )
        assert len([line for line in pushed if search_id in line]) == len(search_lines)


def test_prometheus_scrapes_every_target_and_every_dashboard_query_has_data(system):
    with Phase("every Prometheus target up"):

        def all_up():
            up = {labels["job"]: (labels["instance"], value) for labels, value in system.query("up")}
            return up if set(up) == set(JOBS) and all(value == 1 for _, value in up.values()) else None

        up = wait_until(all_up, 60, interval=1, message=f"up == 1 for {sorted(JOBS)}")
        assert up["thoughts_backend"][0] == "thoughts-backend:8000"
    with Phase("traffic, then data in every dashboard query"):
        run_traffic(system)
        lines = dashboard_data(system, timeout=60)
    print("\n".join(lines))


@pytest.mark.parametrize("service", ["users-test", "thoughts-test", "frontend-test"])
def test_service_tests_pass_inside_their_images_against_the_compose_postgresql(project, service):
    name = f"{project.name}-{service}"
    # --no-deps: PostgreSQL is up. (compose 2.40 on podman 4.3 recreates a running dependency
    # on every `run`/`up`, which would restart PostgreSQL under the system.)
    with Phase(f"docker compose run {service}"):
        result = project("run", "--no-deps", "--name", name, "--no-TTY", service, timeout=1800, check=False)
    try:
        summary = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
        print(f"{service}: exit {result.returncode}; {summary[-1:] or result.stdout[-500:]}")
        assert result.returncode == 0, f"{service} exited {result.returncode}:\n{result.stdout[-4000:]}"
        assert inspect(name)[0]["State"]["ExitCode"] == 0
        assert summary and " passed" in summary[-1] and "skipped" not in summary[-1]
    finally:
        run(["docker", "rm", "--force", "--volumes", name], check=False)


def started(project, service):
    state = project.state(service)
    return state["StartedAt"], inspect(project.container(service))[0]["RestartCount"]


def test_services_recover_without_restarts_when_postgresql_restarts(system, project):
    before = {service: started(project, service) for service in SERVICES}
    with Phase("PostgreSQL restarted, services answering again"):
        project("restart", "db", timeout=120)

        def works():
            browser = system.browser()
            if browser.login("stephen", "stephen").status_code != 302:
                return False
            return browser.share("After PostgreSQL came back").status_code == 302

        wait_until(works, 90, interval=1, message="logging in and sharing after PostgreSQL's restart")
        for service, path in READY.items():
            assert requests.get(f"{project.url(service)}{path}", timeout=5).status_code == 200, service
    assert {service: started(project, service) for service in SERVICES} == before


def test_target_down_reaches_the_alert_receiver_when_the_thoughts_backend_stops(system, project):
    # Alerts of earlier phases (a scrape that timed out while the tests ran in their
    # images) stay in the receiver's file and may be sent again: only alerts that
    # became active after the stop count.
    stopped_at = datetime.now(UTC)

    def after_stop(job):
        return system.firing("TargetDown", job, started_after=stopped_at)

    with Phase("thoughts backend stopped, TargetDown at the alert receiver"):
        project("stop", "thoughts-backend", timeout=120)
        [alert, *_] = wait_until(lambda: after_stop("thoughts_backend"), 90, interval=1, message="TargetDown firing")
    assert alert["labels"]["instance"] == "thoughts-backend:8000"
    assert alert["labels"]["severity"] == "critical"
    assert alert["receiver"] == "webhook"
    # The other targets stay up. Not "no TargetDown of theirs since the stop": with these
    # tests' 1 s scrapes (1 s timeout) and 2 s `for`, a machine stalled for a few seconds
    # fired it for the frontend once (its /metrics answered late, then on time again).
    # A target kept down by the stop (e.g. workers stuck on the dead backend) fails here.
    up = wait_until(lambda: system.up_except("thoughts_backend"), 30, interval=1, message="the other targets up")
    assert set(up) == set(JOBS) - {"thoughts_backend"}
    # The frontend answers its friendly 503 page meanwhile.
    page = system.browser().get("/search?search=down")
    assert page.status_code == 503 and "Traceback" not in page.text


def test_down_removes_every_container_volume_and_network(project):
    assert any(project.leftovers().values())
    with Phase("docker compose down -v"):
        project("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=300)
    assert project.leftovers() == {"containers": [], "volumes": [], "networks": []}
