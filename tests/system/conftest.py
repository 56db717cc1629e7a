"""The whole native stack for the system tests, started once per session on free ports.

rsyslogd (logs/run-rsyslog.sh) -> its file -> frontail; the users backend, the
thoughts backend and the frontend under uWSGI (2 workers each, fresh SQLite
databases with the book's demo data, the run's key pair) logging to that
rsyslogd; Prometheus with a copy of metrics/prometheus (the real rules, 1 s
intervals, TargetDown after 2 s) scraping them; Alertmanager rendered by
metrics/alertmanager/render.sh (1 s group_wait); the alert receiver.

The services are started as frontend/tests starts them (frontend_testing.py),
the observability parts as tests/observability does (tests/conftest.py).
Nothing listens on the native run's ports (8000-8002, 5140, 9001, 9090, 9093,
9095), so a ``make run`` may go on at the same time.
"""

import secrets
import time
import types
import uuid

import pytest
import requests

from thoughts_common.testing.network import free_port, wait_until

DEMO_USERS = {"bruce": "bruce", "stephen": "stephen"}
ARTIFACTS_FOLDER = ("test-artifacts", "system")


@pytest.fixture(scope="session")
def frontend_testing(obs):
    """frontend/tests/frontend_testing.py: how the services are started, CSRF and login helpers."""
    return obs.load_module("frontend_testing", obs.ROOT / "frontend" / "tests" / "frontend_testing.py")


@pytest.fixture(scope="session")
def artifacts(obs):
    """test-artifacts/system/: what the tests saw (query results, a log excerpt, the alert)."""
    folder = obs.ROOT.joinpath(*ARTIFACTS_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Browser:
    """A browser's view of the frontend: a cookie jar, the forms' CSRF tokens, chosen request ids."""

    def __init__(self, stack):
        self.base = stack.frontend.base
        self.helpers = stack.frontend_testing
        self.session = requests.Session()

    def get(self, path, request_id=None, **kwargs):
        return self.session.get(self.base + path, headers=self._headers(request_id), timeout=10, **kwargs)

    def post_form(self, form_path, path, data, request_id=None):
        """POST ``data`` to ``path`` with the CSRF token of the form at ``form_path``, as a browser would."""
        form = self.get(form_path)
        assert form.status_code == 200, (form_path, form.status_code)
        data = {"csrfmiddlewaretoken": self.helpers.csrf_token(form.text), **data}
        return self.session.post(
            self.base + path, data=data, headers=self._headers(request_id), timeout=10, allow_redirects=False
        )

    def login(self, username, password, request_id=None):
        return self.helpers.browser_login(self.session, self.base, username, password, **self._headers(request_id))

    def share(self, text, request_id=None):
        return self.post_form("/thoughts/", "/thoughts/new", {"text": text}, request_id)

    def logout(self, request_id=None):
        return self.post_form("/logout/", "/logout/", {}, request_id)

    @staticmethod
    def _headers(request_id):
        return {"X-Request-ID": request_id} if request_id else {}


class Stack:
    """The running processes and what the tests need to talk to them."""

    def __init__(self, **parts):
        self.__dict__.update(parts)

    def browser(self):
        return Browser(self)

    def query(self, expr):
        """(labels, value) pairs of an instant query on the stack's Prometheus."""
        status, body = self.dashboard_queries.instant_query(self.prometheus.url, expr)
        assert status == 200 and body.get("status") == "success", (expr, body)
        return self.dashboard_queries.samples(body)

    def token(self, username, password):
        answer = requests.post(
            f"{self.users.base}/api/login/", data={"username": username, "password": password}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["Authorized"]

    def log_lines(self, request_id):
        """The lines of the rsyslog file carrying ``request_id``, parsed (LOG_LINE match objects)."""
        found = []
        complete_lines = self.rsyslog.text().split("\n")[:-1]  # not a line rsyslog is still writing
        for line in complete_lines:
            if request_id in line:
                match = self.obs.LOG_LINE.match(line)
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


@pytest.fixture(scope="session")
def stack(
    obs,
    frontend_testing,
    dashboard_queries,
    key_files,
    rsyslogd,
    frontail,
    prometheus_binary,
    alertmanager_binary,
    tmp_path_factory,
):
    folder = tmp_path_factory.mktemp("system")
    ft = frontend_testing
    started = []
    try:
        rsyslog = obs.RsyslogServer(folder / "rsyslog", rsyslogd)
        started.append(rsyslog)
        viewer = obs.start_frontail(frontail, rsyslog.file)
        started.append(viewer)

        # start_backend migrates, seeds the demo data and starts uWSGI; both start at once.
        backends = []
        for name in ("users_backend", "thoughts_backend"):
            (folder / name).mkdir()
            backends.append(ft.start_backend(name, folder / name, key_files, rsyslog))
            started.append(backends[-1].process)
        users, thoughts = backends
        for backend in (users, thoughts):
            backend.process.wait_healthy()
            backend.address = backend.env["HTTP_BIND"]

        frontend_env = ft.clean_environ(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            JWT_PUBLIC_KEY_FILE=key_files[1],
            USER_BACKEND_URL=users.base,
            THOUGHTS_BACKEND_URL=thoughts.base,
            PROMETHEUS_MULTIPROC_DIR=folder / "frontend" / "metrics",
            HTTP_BIND=f"127.0.0.1:{free_port()}",
            SYSLOG_HOST="127.0.0.1",
            SYSLOG_PORT=rsyslog.port,
        )
        frontend = ft.start_frontend(frontend_env)
        started.append(frontend)
        frontend.address = frontend_env["HTTP_BIND"]

        service_targets = {
            "frontend": [frontend.address],
            "thoughts_backend": [thoughts.address],
            "users_backend": [users.address],
        }
        with obs.monitoring(
            prometheus_binary,
            alertmanager_binary,
            folder / "monitoring",
            service_targets,
            alert_for={"TargetDown": "2s"},
            group_wait="1s",
        ) as monitoring:
            yield Stack(
                obs=obs,
                folder=folder,
                frontend_testing=ft,
                dashboard_queries=dashboard_queries,
                rsyslog=rsyslog,
                frontail=viewer,
                users=users,
                thoughts=thoughts,
                frontend=frontend,
                targets=service_targets,
                **monitoring,
            )
    finally:
        for part in reversed(started):
            part.stop()


def scraped(stack, expr, minimum):
    """Wait until Prometheus has scraped ``expr`` (a sum) at ``minimum`` or more."""

    def enough():
        found = stack.query(expr)
        return found and found[0][1] >= minimum

    wait_until(enough, 30, interval=0.5, message=f"{expr} >= {minimum} in Prometheus")


@pytest.fixture(scope="session")
def traffic(stack):
    """Everything a user does, spread over several scrapes, through the frontend and on the backends.

    Through the frontend: log in (and once with a wrong password), list, share,
    try to share a blank thought, search (logged in and out), log out. On the
    backends: search, read one thought and one that does not exist, share a
    blank thought, list without a token, log in with a missing field. Each
    round is a few scrapes apart from the last, so that every counter and
    histogram series has moved between two scrapes (rates and quantiles need
    that).
    """
    run = uuid.uuid4().hex[:8]
    rounds, shared = 5, 0

    def expect(answer, status):
        assert answer.status_code == status, (answer.request.method, answer.url, answer.status_code, answer.text[:500])
        return answer

    for number in range(rounds):
        for username, password in DEMO_USERS.items():
            browser = stack.browser()
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
        expect(stack.browser().get("/search?search=docker"), 200)

        token = stack.token("bruce", "bruce")
        api = stack.thoughts.base
        found = expect(requests.get(f"{api}/api/thoughts/", params={"search": run}, timeout=10), 200).json()
        assert len(found) == shared
        expect(requests.get(f"{api}/api/thoughts/{found[0]['id']}/", timeout=10), 200)
        expect(requests.get(f"{api}/api/thoughts/987654321/", timeout=10), 404)
        blank = requests.post(
            f"{api}/api/me/thoughts/", data={"text": " "}, headers={"Authorization": token}, timeout=10
        )
        expect(blank, 400)
        expect(requests.get(f"{api}/api/me/thoughts/", timeout=10), 401)
        expect(requests.post(f"{stack.users.base}/api/login/", data={"username": "bruce"}, timeout=10), 400)
        time.sleep(1.5)

    # Prometheus has seen all of it.
    scraped(stack, 'sum(thoughts_created_total{job="thoughts_backend"})', shared)
    scraped(stack, 'sum(logins_total{job="users_backend", result="failure"})', rounds * len(DEMO_USERS))
    return types.SimpleNamespace(run=run, rounds=rounds, shared=shared)
