"""Opt-in OpenTelemetry tracing: on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, off (and free) otherwise.

Off, nothing of OpenTelemetry is imported: every function here returns at
once. On, a service calls ``start(tag)`` while it builds its app, then
instruments its frameworks (``instrument_flask``, ``instrument_django``); the
spans go over OTLP/HTTP to ``$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`` (the
SDK reads its other ``OTEL_*`` variables itself).

uWSGI loads the app in its master and forks the workers (common/uwsgi/base.ini,
``lazy-apps = false``): a BatchSpanProcessor's thread and lock do not survive a
fork, so each worker makes its own tracer provider after the fork. The
instrumentations, applied in the master, hold OpenTelemetry's proxy tracers,
which use that provider as soon as it is set. At a graceful stop the provider
is shut down (atexit), which sends the spans still queued.
"""

import contextlib
import logging

from thoughts_common import settings, uwsgi_runtime

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# The span attribute that holds the request id: one id finds the other.
REQUEST_ID_ATTRIBUTE = "thoughts.request_id"
NO_TRACE = "-"
# Probes and scrapes make no traces.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

logger = logging.getLogger(__name__)

_on = False


def enabled(environ=None):
    return bool(settings.get(ENDPOINT, environ))


def active():
    """Whether this process traces (``start`` found the endpoint)."""
    return _on


def start(tag):
    """Trace this service when the endpoint is set; returns whether it does.

    The service name is ``OTEL_SERVICE_NAME``, else ``tag``. Safe to call more than once.
    """
    global _on
    if _on or not enabled():
        return _on
    _on = True
    service_name = settings.get("OTEL_SERVICE_NAME") or tag
    uwsgi = uwsgi_runtime.module()
    if uwsgi is not None and uwsgi.worker_id() == 0:
        # In uWSGI's master, before the fork (with lazy-apps the app loads in a worker: id > 0).
        from uwsgidecorators import postfork

        postfork(lambda: _install_provider(service_name))
    else:
        _install_provider(service_name)
    return True


def _install_provider(service_name):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}), shutdown_on_exit=True)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def instrument_flask(app):
    """Server spans for ``app``'s requests (after ``start``).

    Before the app's own ``before_request`` hooks: the span opens in the first one.
    """
    if not _on:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS)


def instrument_engine(engine):
    """Client spans for the SQL statements of ``engine`` (after ``start``)."""
    if not _on:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares "sqlalchemy < 2.1" and otherwise does nothing, with one
    # ERROR line; its engine events work with 2.1 (tests/tracing checks the SQL spans).
    SQLAlchemyInstrumentor().instrument(engine=engine, skip_dep_check=True)


def instrument_django():
    """Server spans for Django's requests, client spans (and ``traceparent``) for calls made with requests.

    Before Django loads its middleware (an AppConfig's ``ready``): the
    instrumentation adds its own, outermost.
    """
    if not _on:
        return
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    RequestsInstrumentor().instrument()


@contextlib.contextmanager
def untraced():
    """Nothing done inside is traced: the readiness probe's database ping would be a root span every few seconds."""
    if not _on:
        yield
        return
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def tag_request(request_id):
    """Put the request id on the current (server) span."""
    if not _on:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def trace_id():
    """The current trace id, 32 hex digits, or ``-`` outside a trace."""
    if not _on:
        return NO_TRACE
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else NO_TRACE
