"""A running Thoughts system seen from outside, as the native and the compose system tests both see it.

``System`` needs the base URLs of the three services, a Prometheus, the text
of the central log file and the alerts the receiver got; how those are read
(a file on disk, ``docker compose exec``) is the caller's. ``traffic`` is what
a user does to fill every dashboard; ``dashboard_data`` waits until each
panel's query has data.
"""

import math
import time
import types
import uuid
from datetime import datetime

import dashboard_queries
import pytest
import requests
from frontend_testing import csrf_token
from rsyslog_server import LOG_LINE

from thoughts_common.testing.network import wait_until

DEMO_USERS = {"bruce": "bruce", "stephen": "stephen"}


def new_request_id(purpose):
    return f"system-{purpose}-{uuid.uuid4().hex[:12]}"


class Browser:
    """A browser's view of the frontend: a cookie jar, the forms' CSRF tokens, chosen request ids."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def get(self, path, request_id=None, **kwargs):
        return self.session.get(self.base + path, headers=self._headers(request_id), timeout=10, **kwargs)

    def post_form(self, form_path, path, data, request_id=None):
        """POST ``data`` to ``path`` with the CSRF token of the form at ``form_path``, as a browser would."""
        form = self.get(form_path)
        assert form.status_code == 200, (form_path, form.status_code)
        data = {"csrfmiddlewaretoken": csrf_token(form.text), **data}
        return self.session.post(
            self.base + path, data=data, headers=self._headers(request_id), timeout=10, allow_redirects=False
        )

    def login(self, username, password, request_id=None):
        return self.post_form("/login/", "/login/", {"username": username, "password": password}, request_id)

    def share(self, text, request_id=None):
        return self.post_form("/thoughts/", "/thoughts/new", {"text": text}, request_id)

    def logout(self, request_id=None):
        return self.post_form("/logout/", "/logout/", {}, request_id)

    @staticmethod
    def _headers(request_id):
        return {"X-Request-ID": request_id} if request_id else {}


class System:
    """The running services and what the tests need to talk to them.

    ``*_url``: base URLs; ``log_text()``: the central log file's text;
    ``alerts()``: what the alert receiver wrote, one dict per alert. Other
    keyword arguments become attributes (the caller's handles on the parts).
    """

    def __init__(self, *, frontend_url, thoughts_url, users_url, prometheus_url, log_text, alerts, **parts):
        self.frontend_url, self.thoughts_url, self.users_url = frontend_url, thoughts_url, users_url
        self.prometheus_url = prometheus_url
        self.log_text, self.alerts = log_text, alerts
        self.__dict__.update(parts)

    def browser(self):
        return Browser(self.frontend_url)

    def query(self, expr):
        """(labels, value) pairs of an instant query on the system's Prometheus."""
        status, body = dashboard_queries.instant_query(self.prometheus_url, expr)
        assert status == 200 and body.get("status") == "success", (expr, body)
        return dashboard_queries.samples(body)

    def up_except(self, stopped_job):
        """{job: up} of every other target once all of them are up (1), else None: for wait_until."""
        found = {labels["job"]: value for labels, value in self.query(f'up{{job!="{stopped_job}"}}')}
        return found if found and all(value == 1 for value in found.values()) else None

    def token(self, username, password):
        answer = requests.post(
            f"{self.users_url}/api/login/", data={"username": username, "password": password}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["Authorized"]

    def log_lines(self, request_id):
        """The lines of the log file carrying ``request_id``, parsed (LOG_LINE match objects)."""
        found = []
        complete_lines = self.log_text().split("\n")[:-1]  # not a line rsyslog is still writing
        for line in complete_lines:
            if request_id in line:
                match = LOG_LINE.match(line)
                assert match, f"a line with {request_id} not in the book's format: {line}"
                found.append(match)
        return found

    def wait_for_log(self, request_id, expected, timeout=15):
        """The lines with ``request_id`` once every tag of ``expected`` has logged them.

        ``expected`` maps a tag to the messages it must have logged with that id
        (or is just the tags): rsyslog writes what reaches it in batches, so the
        lines of one request may come into the file in several steps.
        """
        expected = expected if isinstance(expected, dict) else {tag: () for tag in expected}

        def complete():
            found = self.log_lines(request_id)
            for tag, wanted in expected.items():
                logged = [match["message"] for match in found if match["tag"] == tag]
                if not logged or not set(wanted) <= set(logged):
                    return None
            return found

        try:
            return wait_until(complete, timeout, interval=0.2, message=f"lines with {request_id}")
        except TimeoutError:
            seen = "\n".join(match.group(0) for match in self.log_lines(request_id))
            pytest.fail(f"not every line with request id {request_id} of {expected} is in the file; found:\n{seen}")

    def firing(self, alertname, job, started_after=None):
        """The firing ``alertname`` alerts of ``job`` the receiver got.

        With ``started_after`` (an aware datetime), only alerts that became
        active then or later: Alertmanager sends a group's older alerts again
        with each notification of the group, so the receiver's order alone
        does not tell what is new.
        """
        return [
            entry
            for entry in self.alerts()
            if entry["labels"].get("alertname") == alertname
            and entry["labels"].get("job") == job
            and entry["status"] == "firing"
            and (started_after is None or datetime.fromisoformat(entry["startsAt"]) >= started_after)
        ]

    def scraped(self, expr, minimum, timeout=30):
        """Wait until Prometheus has scraped ``expr`` (a sum) at ``minimum`` or more."""

        def enough():
            found = self.query(expr)
            return found and found[0][1] >= minimum

        wait_until(enough, timeout, interval=0.5, message=f"{expr} >= {minimum} in Prometheus")


def run_traffic(system, rounds=5, pause=1.5):
    """Everything a user does, spread over several scrapes, through the frontend and on the backends.

    Through the frontend: log in (once a round with a wrong password first), list, share,
    try to share a blank thought, search (logged in and out), log out. On the
    backends: search, read one thought and one that does not exist, share a
    blank thought, list without a token, log in with a missing field. Rounds
    are ``pause`` seconds apart, so that with short scrape intervals every
    counter and histogram series moves between two scrapes (rates and
    quantiles need that).
    """
    run = uuid.uuid4().hex[:8]
    shared = 0

    def expect(answer, status):
        assert answer.status_code == status, (answer.request.method, answer.url, answer.status_code, answer.text[:500])
        return answer

    for number in range(rounds):
        for index, (username, password) in enumerate(DEMO_USERS.items()):
            browser = system.browser()
            if index == 0:  # one failure per round: all come from one address, throttled past 20
                expect(browser.login(username, "not-the-password"), 401)
            expect(browser.login(username, password), 302)
            expect(browser.get("/"), 200)
            expect(browser.share(f"Platypus {run} seen by {username} in round {number}"), 302)
            shared += 1
            expect(browser.share("   "), 400)
            expect(browser.get("/thoughts/"), 200)
            page = expect(browser.get(f"/search?search=platypus+{run}"), 200)
            assert f"Platypus {run} seen by {username} in round {number}" in page.text
            expect(browser.logout(), 302)
        expect(system.browser().get("/search?search=docker"), 200)

        token = system.token("bruce", "bruce")
        api = system.thoughts_url
        found = expect(requests.get(f"{api}/api/thoughts/", params={"search": run}, timeout=10), 200).json()
        assert len(found) == shared
        expect(requests.get(f"{api}/api/thoughts/{found[0]['id']}/", timeout=10), 200)
        expect(requests.get(f"{api}/api/thoughts/987654321/", timeout=10), 404)
        blank = requests.post(
            f"{api}/api/me/thoughts/", data={"text": " "}, headers={"Authorization": token}, timeout=10
        )
        expect(blank, 400)
        expect(requests.get(f"{api}/api/me/thoughts/", timeout=10), 401)
        expect(requests.post(f"{system.users_url}/api/login/", data={"username": "bruce"}, timeout=10), 400)
        time.sleep(pause)

    # Prometheus has seen all of it.
    system.scraped('sum(thoughts_created_total{job="thoughts_backend"})', shared, timeout=60)
    system.scraped('sum(logins_total{job="users_backend", result="failure"})', rounds, timeout=60)
    return types.SimpleNamespace(run=run, rounds=rounds, shared=shared)


def finite(value):
    return isinstance(value, float) and not math.isnan(value)


def dashboard_data(system, timeout=30):
    """Every dashboard query with its first finite sample, once all have one; fails naming those without.

    Returns one line per query (dashboard / panel / ref: value {labels}).
    """
    queries = dashboard_queries.all_queries()
    assert len(queries) >= 30
    results, problems = {}, {}  # by position in ``queries``

    def every_query_has_data():
        for number, query in enumerate(queries):
            if number in results:
                continue
            status, body = dashboard_queries.instant_query(system.prometheus_url, query.promql())
            if status != 200 or body.get("status") != "success":
                problems[number] = f"rejected: {body.get('error')}"
                continue
            found = dashboard_queries.samples(body)
            numbers = [(labels, value) for labels, value in found if finite(value)]
            if numbers:
                results[number] = numbers
            else:
                problems[number] = "only NaN" if found else "no data"
        return len(results) == len(queries)

    try:
        wait_until(every_query_has_data, timeout, interval=1, message="data for every dashboard query")
    except TimeoutError:
        report = "\n".join(
            f"{query.dashboard} / panel {query.panel!r} / {query.ref_id}: {problems[number]}\n    {query.expr}"
            for number, query in enumerate(queries)
            if number not in results
        )
        raise AssertionError(f"dashboard queries without data:\n{report}") from None

    lines = []
    for number, query in enumerate(queries):
        labels, value = results[number][0]
        shown = ", ".join(f"{key}={val}" for key, val in sorted(labels.items()) if key != "__name__")
        lines.append(f"{query.dashboard} / {query.panel} / {query.ref_id}: {value:.4g} {{{shown}}}")
    return lines
