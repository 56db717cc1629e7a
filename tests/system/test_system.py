"""End to end: the whole native stack, real processes on free ports (see conftest.py).

The tests run in this order and share one stack: the last two stop parts of it
(rsyslogd, which comes back, then the thoughts backend, which does not).
"""

import json
import time

import requests
from frontail_viewer import frontail_lines
from metrics_contract import JOBS
from running_system import dashboard_data, new_request_id

from thoughts_common.testing.network import wait_until

UWSGI_TAGS = {"frontend_uwsgi", "thoughts_backend_uwsgi", "users_backend_uwsgi"}


def test_prometheus_scrapes_every_service_and_finds_alertmanager(stack):
    expected = {*JOBS}

    def all_up():
        up = {labels["job"]: value for labels, value in stack.query("up")}
        return up if set(up) == expected and all(value == 1 for value in up.values()) else None

    wait_until(all_up, 30, interval=0.5, message=f"up == 1 for {sorted(expected)}")
    instances = {labels["job"]: labels["instance"] for labels, _ in stack.query("up")}
    for job, [address] in stack.targets.items():
        assert instances[job] == address

    answer = requests.get(f"{stack.prometheus_url}/api/v1/alertmanagers", timeout=5).json()
    [alertmanager] = answer["data"]["activeAlertmanagers"]
    assert alertmanager["url"].startswith(stack.alertmanager.url)


def lines_of_one_request(stack, request_id, expected):
    """The log lines of one request: every service of ``expected`` logged them, all with that id, no other."""
    lines = stack.wait_for_log(request_id, expected)
    assert {match["tag"] for match in lines} == set(expected)
    assert all(match["request_id"] == request_id for match in lines)
    return lines


def test_one_request_id_across_the_services_in_the_syslog_file(stack, artifacts):
    login_id, share_id = new_request_id("login"), new_request_id("share")
    browser = stack.browser()

    login = browser.login("stephen", "stephen", request_id=login_id)
    assert login.status_code == 302, login.text
    assert login.headers["X-Request-ID"] == login_id
    share = browser.share("Thoughts travel through three services", request_id=share_id)
    assert share.status_code == 302, share.text
    assert share.headers["X-Request-ID"] == share_id

    # The login: the frontend and the users backend, one id.
    login_lines = lines_of_one_request(
        stack,
        login_id,
        {
            "frontend": ["REQUEST POST /login/", "RESPONSE STATUS 302"],
            "users_backend": ["REQUEST POST /api/login/", "RESPONSE STATUS 200"],
        },
    )
    # Sharing a thought: the frontend and the thoughts backend, one id.
    share_lines = lines_of_one_request(
        stack,
        share_id,
        {
            "frontend": ["REQUEST POST /thoughts/new", "RESPONSE STATUS 302"],
            "thoughts_backend": ["REQUEST POST /api/me/thoughts/", "RESPONSE STATUS 201"],
        },
    )

    # uWSGI's own lines (no request id) come with their own tags.
    tags = {line.split(" ", 2)[1].rstrip(":") for line in stack.rsyslog.lines() if " " in line}
    assert tags >= UWSGI_TAGS, f"uWSGI tags missing: {UWSGI_TAGS - tags}"

    # Secrets never reach the file.
    text = stack.rsyslog.text()
    assert "Bearer ey" not in text
    assert browser.session.cookies.get("csrftoken") not in text

    excerpt = [match.group(0) for match in (*login_lines, *share_lines)]
    (artifacts / "request-id-excerpt.log").write_text("\n".join(excerpt) + "\n")


def test_frontail_serves_the_syslog_file(stack):
    request_id = new_request_id("frontail")
    answer = stack.browser().get("/search?search=frontail", request_id=request_id)
    assert answer.status_code == 200
    lines = stack.wait_for_log(
        request_id, {"frontend": ["RESPONSE STATUS 200"], "thoughts_backend": ["RESPONSE STATUS 200"]}
    )
    last = lines[-1]  # frontail pushes the lines in file order: once this one came, all have

    page = requests.get(f"{stack.frontail.url}/", timeout=5)
    assert page.status_code == 200
    # frontail's page shell names the file it follows; the lines come over socket.io.
    assert f"<title>tail -f {stack.rsyslog.file}</title>" in page.text
    assert "socket.io" in page.text

    # What a browser gets over socket.io: the lines of the file, ours among them.
    until = f"[{request_id}] {last['module']}: {last['message']}"
    pushed = frontail_lines(stack.frontail.url, stack.rsyslog.file, until=until)
    ours = [line for line in pushed if request_id in line]
    assert len(ours) == len(lines)
    for tag in ("frontend", "thoughts_backend"):
        assert any(f" {tag}: " in line for line in ours), (tag, ours)


def test_every_dashboard_query_has_data(stack, traffic, artifacts):
    lines = dashboard_data(stack)
    (artifacts / "dashboard-queries.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    # The numbers tell what the traffic did.
    [(_, created)] = stack.query('sum(increase(thoughts_created_total{job="thoughts_backend"}[1h]))')
    assert created > 0
    by_result = dict(
        (labels["result"], value)
        for labels, value in stack.query('sum by (result) (logins_total{job="users_backend"})')
    )
    assert by_result["failure"] >= traffic.rounds
    assert by_result["success"] >= traffic.rounds * 2
    statuses = {labels["status"] for labels, _ in stack.query('flask_http_request_total{job="thoughts_backend"}')}
    assert {"200", "201", "400", "401", "404"} <= statuses


def test_services_keep_answering_while_rsyslog_is_down(stack):
    stack.rsyslog.stop_daemon()
    assert not stack.rsyslog.running()
    down_id = new_request_id("syslog-down")
    token = stack.token("bruce", "bruce")
    answers = []
    for number in range(3):
        browser = stack.browser()
        answers += [
            (browser.login("bruce", "bruce", request_id=f"{down_id}-{number}"), 302),
            (browser.get("/thoughts/", request_id=f"{down_id}-{number}"), 200),
            (browser.share("Written while the syslog server is down", request_id=f"{down_id}-{number}"), 302),
            (browser.get("/search?search=syslog", request_id=f"{down_id}-{number}"), 200),
            (
                requests.post(
                    f"{stack.users_url}/api/login/",
                    data={"username": "stephen", "password": "stephen"},
                    headers={"X-Request-ID": f"{down_id}-{number}"},
                    timeout=10,
                ),
                200,
            ),
            (
                requests.post(
                    f"{stack.thoughts_url}/api/me/thoughts/",
                    data={"text": "Straight to the backend"},
                    headers={"Authorization": token, "X-Request-ID": f"{down_id}-{number}"},
                    timeout=10,
                ),
                201,
            ),
            (requests.get(f"{stack.thoughts_url}/api/thoughts/", params={"search": "syslog"}, timeout=10), 200),
        ]
    failed = [
        (answer.request.method, answer.url, answer.status_code)
        for answer, status in answers
        if answer.status_code != status
    ]
    assert failed == []
    assert all(answer.elapsed.total_seconds() < 5 for answer, _ in answers)

    # rsyslogd comes back on the same port and file: lines flow again, the lost ones stay lost.
    stack.rsyslog.start()
    back_id = new_request_id("syslog-back")
    assert stack.browser().get("/search?search=back", request_id=back_id).status_code == 200
    stack.wait_for_log(back_id, {"frontend", "thoughts_backend"})
    assert not stack.log_lines(down_id)


def test_target_down_alert_reaches_the_receiver_when_the_thoughts_backend_stops(stack, artifacts):
    instance = stack.thoughts.address

    def target_down(job):
        return stack.firing("TargetDown", job)

    assert target_down("thoughts_backend") == []
    code, seconds = stack.thoughts.process.stop()  # SIGTERM, as a process runner stops it
    stopped = time.monotonic()
    assert code >= 0, f"the thoughts backend did not stop on SIGTERM within {seconds:.1f} s"

    # Meanwhile the frontend answers with 503 pages: real 5xx for the errors signal.
    browser = stack.browser()
    assert browser.login("bruce", "bruce").status_code == 302  # the users backend is still there

    def failing_pages():
        for path in ("/thoughts/", "/search?search=down"):
            page = browser.get(path)
            assert page.status_code == 503, (path, page.status_code)
            assert "Service unavailable" in page.text and "Traceback" not in page.text

    failing_pages()
    [alert, *_] = wait_until(
        lambda: target_down("thoughts_backend"), 60, interval=0.5, message="TargetDown of the thoughts backend"
    )
    delay = time.monotonic() - stopped
    assert alert["labels"]["instance"] == instance
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == f"thoughts_backend is down on {instance}"
    assert alert["receiver"] == "webhook"  # through Alertmanager's route
    # The other targets are up. (A TargetDown of theirs is no proof of a fault here:
    # with 1 s scrapes and 2 s `for`, a machine stalled for a few seconds fires it.)
    up = wait_until(lambda: stack.up_except("thoughts_backend"), 30, interval=1, message="the other targets up")
    assert set(up) == set(JOBS) - {"thoughts_backend"}
    (artifacts / "alert.json").write_text(json.dumps(alert, sort_keys=True) + "\n")
    print(f"TargetDown at the receiver {delay:.1f} s after SIGTERM: {json.dumps(alert, sort_keys=True)}")

    # The 503 pages show up in the frontend's 5xx ratio. A rate needs the series
    # to grow between two scrapes, so the pages keep failing until it shows.
    def frontend_errors_counted():
        failing_pages()
        return stack.query('job:http_requests_5xx:ratio_rate5m{job="frontend"} > 0')

    [(_, ratio)] = wait_until(frontend_errors_counted, 30, interval=0.5, message="a frontend 5xx ratio above 0")
    assert 0 < ratio < 1
    statuses = {
        labels["status"]
        for labels, value in stack.query(
            'sum by (status) (rate(django_http_responses_total_by_status_view_method_total{job="frontend"}[5m]))'
        )
        if value > 0
    }
    assert "503" in statuses
