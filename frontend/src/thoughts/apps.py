import logging

from django.apps import AppConfig
from django.core.signals import request_finished

from thoughts import request_ids
from thoughts_common import logconfig, tracing

TAG = "frontend"


class SuspiciousRequestsAreWarnings(logging.Filter):
    """Django logs a bad Host header or a tampered cookie (``django.security.*``) as ERROR.

    They are the client's fault, answered with a 400: in the book's table of
    levels that is a WARNING, and ERROR stays for our own failures.
    """

    def filter(self, record):
        if record.name.startswith("django.security.") and record.levelno == logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class ThoughtsConfig(AppConfig):
    name = "thoughts"
    verbose_name = "Thoughts"

    def ready(self):
        # With OTEL_EXPORTER_OTLP_ENDPOINT: traces, instrumented before Django loads the middleware.
        if tracing.start(TAG):
            tracing.instrument_django()
        # The book's line format, to syslog (tag "frontend") or stderr.
        handler = logconfig.configure(TAG)
        handler.addFilter(SuspiciousRequestsAreWarnings())
        # Our middleware logs every response as RESPONSE STATUS; Django's own
        # "Not Found: /x" lines would repeat the 4xx ones. Tracebacks (ERROR) stay.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        # Lines logged after the middleware (Django's error lines) keep the id;
        # it is cleared when the response is finished.
        request_finished.connect(request_ids.on_request_finished, dispatch_uid="thoughts-request-id")
