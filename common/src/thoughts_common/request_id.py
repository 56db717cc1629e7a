"""Request ids: accepted from ``X-Request-ID`` when safe, generated otherwise.

The id travels in a context variable so that log records of any framework can
carry it; the Flask side is wired with flask-request-id-header (imported only
there: the Django frontend does without Flask).
"""

import contextvars
import re
import uuid

from thoughts_common import tracing

HEADER = "X-Request-ID"
WSGI_KEY = "HTTP_X_REQUEST_ID"
NO_REQUEST = "-"

_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")

current = contextvars.ContextVar("request_id", default=NO_REQUEST)


def is_valid(value):
    return value is not None and _VALID.fullmatch(value) is not None


def new_id():
    return str(uuid.uuid4())


def accept_or_create(value):
    """The incoming id when it is 1-64 characters of [A-Za-z0-9._-], else a new UUID4."""
    return value if is_valid(value) else new_id()


def get():
    return current.get()


def init_flask(app):
    """Install the middleware and expose the id to logging for each request."""
    from flask import g, request
    from flask_request_id_header.middleware import RequestID

    class ValidatingRequestID(RequestID):
        """flask-request-id-header's middleware with our acceptance rule.

        The library keeps any incoming value and appends a UUID when it does not
        look unique; a hostile value (spaces, control characters, megabytes) would
        then reach our logs and responses. We replace it instead.
        """

        def _compute_request_id_header(self, header_value=None):
            return accept_or_create(header_value)

    app.config.setdefault("REQUEST_ID_UNIQUE_VALUE_PREFIX", None)
    ValidatingRequestID(app)

    @app.before_request
    def _bind_request_id():
        value = request.environ.get(WSGI_KEY, NO_REQUEST)
        g.request_id_token = current.set(value)
        tracing.tag_request(value)

    @app.teardown_request
    def _unbind_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            current.reset(token)
