"""Everything a Thoughts Flask service needs around its own API, in one call."""

import logging
import time

import sqlalchemy.exc
from flask import Flask, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from thoughts_common import database, health, inputs, limits, logconfig, metrics, request_id, tokens, tracing
from thoughts_common.auth import PUBLIC_KEY_CONFIG
from thoughts_common.database import Database

logger = logging.getLogger("thoughts_common.requests")

# What a client should wait before retrying a request the database could not serve.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The database is unavailable; retry later"


class ServiceFlask(Flask):
    def log_exception(self, exc_info):
        # flask-restx logs every error answered >= 500 with its traceback; a
        # database fault answered 503 has already had its one warning line.
        if exc_info and database.is_unavailable(exc_info[1]):
            return
        super().log_exception(exc_info)


def create_flask_app(import_name, tag, database_url, config=None):
    """A Flask app with request ids, logging, JSON errors, metrics and health checks.

    ``tag`` is the syslog program name (e.g. ``users_backend``). Returns the
    app; its database is ``app.extensions["database"]``.
    """
    tracing.start(tag)
    logconfig.configure(tag)
    app = ServiceFlask(import_name)
    app.config.update(
        RESTX_MASK_SWAGGER=False,
        RESTX_ERROR_404_HELP=False,
        PROPAGATE_EXCEPTIONS=False,
        # Under uWSGI, limits.RequestLimits refuses larger bodies first.
        MAX_CONTENT_LENGTH=limits.MAX_BODY_BYTES,
    )
    app.config.update(config or {})
    # Parsed here, once per process (uWSGI forks the workers after): an invalid key stops the start.
    if PUBLIC_KEY_CONFIG in app.config:
        app.config[PUBLIC_KEY_CONFIG] = tokens.public_key_object(app.config[PUBLIC_KEY_CONFIG], PUBLIC_KEY_CONFIG)
    else:
        app.config[PUBLIC_KEY_CONFIG] = tokens.require_public_key(PUBLIC_KEY_CONFIG)

    # First: its span is open before our hooks run, so their lines carry the trace id.
    tracing.instrument_flask(app)
    request_id.init_flask(app)
    _log_requests(app)
    _json_errors(app)
    _storable_query(app)

    database = Database(database_url)
    database.init_app(app)
    tracing.instrument_engine(database.engine)
    health.init_app(app, database.ping)
    app.extensions["metrics"] = metrics.init_app(app)
    # Outermost: oversized requests are refused before anything parses them.
    app.wsgi_app = limits.RequestLimits(app.wsgi_app)
    return app


def create_api(app, title, description, namespaces):
    """The flask-restx Api of a service: Swagger UI at ``/``, JSON 404s, bearer auth documented.

    ``namespaces`` maps each namespace to its URL prefix.
    """
    from flask_restx import Api

    api = Api(
        app,
        version="1.0",
        title=title,
        description=description,
        doc="/",
        catch_all_404s=True,
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
    )
    for namespace, path in namespaces.items():
        api.add_namespace(namespace, path=path)
    # flask-restx answers errors in its routes itself, before the app's handlers.
    for error in DATABASE_ERRORS:
        api.errorhandler(error)(_database_error_for_restx)
    return api


DATABASE_ERRORS = (sqlalchemy.exc.DBAPIError, sqlalchemy.exc.TimeoutError)


def _database_error_for_restx(exc):
    if database.is_unavailable(exc):
        return {"message": _log_unavailable(exc)}, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    # A bug: flask-restx logs it with its traceback (ServiceFlask.log_exception).
    return {"message": InternalServerError.description}, 500


def _log_unavailable(exc):
    """The one line logged for a request the database could not serve."""
    cause = getattr(exc, "orig", None) or exc  # the driver's own error says most
    reason = str(cause).strip().splitlines()[0]
    logger.warning("Database unavailable on %s %s: %s: %s", request.method, request.path, type(cause).__name__, reason)
    return UNAVAILABLE_MESSAGE


def _log_requests(app):
    @app.before_request
    def _log_request():
        g.request_started = time.perf_counter()
        logger.info("REQUEST %s %s", request.method, request.full_path.rstrip("?"))

    @app.after_request
    def _log_response(response):
        started = g.pop("request_started", None)
        if started is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("RESPONSE TIME %d ms", round(elapsed_ms))
        logger.log(logconfig.response_level(response.status_code), "RESPONSE STATUS %d", response.status_code)
        return response


def _storable_query(app):
    """A query string with NUL in a name or value is a 400 on every route, before any view reads it."""

    @app.before_request
    def _check_query():
        for name, value in request.args.items(multi=True):
            try:
                inputs.check_text(name, "query parameter name")
                inputs.check_text(value, name)
            except inputs.InvalidInput as exc:
                abort(400, str(exc))


def _json_errors(app):
    """JSON errors for routes outside flask-restx (which has its own handler)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        response = jsonify(message=exc.description)
        response.status_code = exc.code
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if database.is_unavailable(exc):
            response = jsonify(message=_log_unavailable(exc))
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        logger.exception("Unhandled exception on %s %s", request.method, request.path)
        response = jsonify(message=InternalServerError.description)
        response.status_code = 500
        return response
