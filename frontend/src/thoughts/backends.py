"""HTTP calls to the users and thoughts backends, with a timeout on every one.

Every call carries the current request id in ``X-Request-ID``, so one click
is one id in the logs of all three services. A backend that is down, slow or
broken raises a ``BackendFailure`` (shown as a 503, 504 or 502 page by the
middleware) after one ERROR line; a 401 to a call made with the user's token
raises ``NotAuthenticated`` (back to the login page).
"""

import logging
import time
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from thoughts_common import request_id

logger = logging.getLogger(__name__)

USERS = "users"
THOUGHTS = "thoughts"


class BackendFailure(Exception):
    status = 502
    title = "Bad gateway"
    explanation = "answered with an error"

    def __init__(self, service, detail):
        super().__init__(f"{service} backend {self.explanation}: {detail}")
        self.service = service
        self.detail = detail


class BackendDown(BackendFailure):
    status = 503
    title = "Service unavailable"
    explanation = "cannot be reached"


class BackendSlow(BackendFailure):
    status = 504
    title = "Gateway timeout"
    explanation = "did not answer in time"


class BackendBroken(BackendFailure):
    status = 502
    title = "Bad gateway"
    explanation = "answered with an error"


class NotAuthenticated(Exception):
    """The backend refused the user's token (expired, revoked or signed by another key)."""

    def __init__(self, service):
        super().__init__(f"{service} backend refused the token")
        self.service = service


def base_url(service):
    return settings.USER_BACKEND_URL if service == USERS else settings.THOUGHTS_BACKEND_URL


def call(service, method, path, *, token=None, params=None, data=None, headers=None, expected=(200,)):
    """One request to a backend; returns the response when its status is in ``expected``.

    A 401 on a call made with ``token`` raises NotAuthenticated; any other
    status outside ``expected`` that is not a 4xx the caller asked for
    (``expected``) is a BackendBroken.
    """
    url = base_url(service) + path
    rid = request_id.get()
    headers = {
        **(headers or {}),
        request_id.HEADER: rid if request_id.is_valid(rid) else request_id.new_id(),
        "Accept": "application/json",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    try:
        response = requests.request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=settings.BACKEND_TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise _failure(BackendSlow, service, method, url, f"no answer within {settings.BACKEND_TIMEOUT:g} s") from exc
    except requests.ConnectionError as exc:
        raise _failure(BackendDown, service, method, url, _reason(exc)) from exc
    except requests.RequestException as exc:
        raise _failure(BackendBroken, service, method, url, _reason(exc)) from exc

    elapsed_ms = round((time.perf_counter() - started) * 1000)
    status = response.status_code
    logger.info("%s backend: %s %s -> %d in %d ms", service.capitalize(), method, path, status, elapsed_ms)
    if status in expected:
        return response
    if status == 401 and token:
        raise NotAuthenticated(service)
    if status == 503:
        raise _failure(BackendDown, service, method, url, f"status 503 ({message_of(response)})")
    raise _failure(BackendBroken, service, method, url, f"unexpected status {status} ({message_of(response)})")


def _failure(kind, service, method, url, detail):
    logger.error("%s backend %s: %s %s: %s", service.capitalize(), kind.explanation, method, url, detail)
    return kind(service, detail)


def _reason(exc):
    # requests wraps urllib3's errors; the innermost one names the cause
    # (e.g. "Connection refused") without repeating the whole URL.
    cause = exc
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    return f"{type(exc).__name__} ({cause})" if cause is not exc else type(exc).__name__


def message_of(response):
    """The ``message`` of a JSON error body, else a short piece of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return str(body)[:200]


def json_list(service, response):
    """The JSON array a list endpoint answers; anything else is a BackendBroken."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, list):
        method = response.request.method if response.request is not None else "GET"
        raise _failure(BackendBroken, service, method, response.url, "the answer is not a JSON list")
    return body


def next_before(response):
    """The ``before`` of the ``Link: <...>; rel="next"`` header of a newest-first list, or None on the last page."""
    link = response.links.get("next")
    if not link:
        return None
    values = parse_qs(urlsplit(link.get("url", "")).query).get("before")
    if values and values[0].isascii() and values[0].isdigit():
        return values[0]
    return None


def newest_first(service, path, params, before, token=None):
    """One page of a list endpoint, the newest first, and where the next (older) page starts."""
    params = {**params, "order": "desc"}
    if before:
        params["before"] = before
    response = call(service, "GET", path, token=token, params=params)
    return json_list(service, response), next_before(response)


# The calls the pages make.


def forwarded_for(meta):
    """``X-Forwarded-For`` for a call made on behalf of the browser, appended to as a proxy does.

    The users backend counts failed logins per client address; it believes
    this header only from the addresses in its ``LOGIN_TRUSTED_PROXIES``.
    """
    chain = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if meta.get("REMOTE_ADDR"):
        chain.append(meta["REMOTE_ADDR"])
    return {"X-Forwarded-For": ", ".join(chain)} if chain else {}


def login(username, password, meta=None):
    """The users backend's answer to a login: 200, 400, 401 or 429 (too many failures, see Retry-After)."""
    return call(
        USERS,
        "POST",
        "/api/login/",
        data={"username": username, "password": password},
        headers=forwarded_for(meta or {}),
        expected=(200, 400, 401, 429),
    )


def sign_up(username, password):
    """201 created, 400 invalid, 404 sign-up off, 409 taken."""
    return call(
        USERS, "POST", "/api/users/", data={"username": username, "password": password}, expected=(201, 400, 404, 409)
    )


def my_thoughts(token, limit, before=None):
    return newest_first(THOUGHTS, "/api/me/thoughts/", {"limit": limit}, before, token=token)


def new_thought(token, text):
    """201 created or 400 refused."""
    return call(THOUGHTS, "POST", "/api/me/thoughts/", token=token, data={"text": text}, expected=(201, 400))


def search(text, limit, before=None):
    return newest_first(THOUGHTS, "/api/thoughts/", {"search": text, "limit": limit}, before)
