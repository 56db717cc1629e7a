"""Public API: log in, and sign up when the feature is on."""

import logging

from flask import current_app, request
from flask_restx import Namespace, Resource, abort, fields
from prometheus_client import Counter

from thoughts_common import body, documents, tokens
from users_backend import throttle, users
from users_backend.client_address import FORWARDED_HEADER, client_address

logger = logging.getLogger(__name__)

api_namespace = Namespace("api", description="Public operations")

LOGINS = Counter("logins", "Login attempts by result", ["result"])
THROTTLED = Counter("logins_throttled", "Login attempts refused with 429 before the password was checked", ["limit"])

credentials_model = api_namespace.model(
    "Credentials",
    {
        "username": documents.username(
            example="bruce",
            description="No control or invisible characters, no spaces at either end. "
            "Compared after NFKC normalisation and case folding: Bruce logs in bruce.",
        ),
        "password": documents.password(example="bruce"),
    },
)
token_model = api_namespace.model("Token", {"Authorized": fields.String(example="Bearer eyJ...")})
user_model = api_namespace.model(
    "User",
    {
        "id": fields.Integer(),
        "username": fields.String(),
        "creation": fields.DateTime(dt_format="iso8601", description="UTC, with its offset"),
    },
)
error_model = api_namespace.model("Error", {"message": fields.String()})


def read_credentials():
    credentials = body.fields("username", "password")
    for name in ("username", "password"):
        value = credentials[name]
        if value is None or value == "":
            abort(400, f"{name} is required")
        if not isinstance(value, str):
            abort(400, f"{name} must be a string")
    return credentials


def database():
    return current_app.extensions["database"]


def issue_token(user):
    claims = {"username": user.username}
    if user.is_admin:
        claims["role"] = tokens.ADMIN_ROLE
    config = current_app.config
    token = tokens.encode(claims, config["JWT_PRIVATE_KEY"], config["JWT_LIFETIME"], issuer=config["JWT_ISSUER"])
    return f"Bearer {token}"


def request_address():
    return client_address(
        request.remote_addr, request.headers.get(FORWARDED_HEADER), current_app.config["LOGIN_TRUSTED_PROXIES"]
    )


def too_many_attempts(block):
    minutes = -(-block.seconds // 60)
    message = f"Too many failed logins, try again in {minutes} minute{'s' if minutes > 1 else ''}"
    return {"message": message}, 429, {"Retry-After": str(block.seconds)}


@api_namespace.route("/login/")
class Login(Resource):
    @api_namespace.doc(
        "login",
        description="Form or JSON body with username and password. After too many failed logins of a "
        "username or from an address, attempts are refused with 429 (and not checked) for the number of "
        "seconds in Retry-After.",
    )
    @api_namespace.expect(credentials_model)
    @api_namespace.response(200, "Logged in", token_model)
    @api_namespace.response(400, "Missing field, NUL or lone surrogate, or malformed body", error_model)
    @api_namespace.response(401, "Wrong username or password", error_model)
    @api_namespace.response(
        429,
        "Too many failed logins; not checked",
        error_model,
        headers={"Retry-After": "Seconds to wait before the next attempt"},
    )
    def post(self):
        credentials = read_credentials()
        username, password = credentials["username"], credentials["password"]
        address = request_address()
        session = database().session()
        block = throttle.blocked(session, username, address)
        if block is not None:
            THROTTLED.labels(limit=block.scope).inc()
            logger.warning(
                "Login throttled for user %r from %s (%s limit), retry in %d s",
                username,
                address,
                block.scope,
                block.seconds,
            )
            return too_many_attempts(block)
        user = users.authenticate(session, username, password)
        if user is None:
            LOGINS.labels(result="failure").inc()
            logger.info("Login refused for user %s", username)
            throttle.record_failure(session, username, address, current_app.config["LOGIN_THROTTLE"])
            abort(401, "Wrong username or password")
        # Commits the login's transaction: the cleared count and an upgraded password hash (users.authenticate).
        throttle.clear(session, username=username)
        LOGINS.labels(result="success").inc()
        logger.info("Login succeeded for user %s", user.username)
        return {"Authorized": issue_token(user)}


def creates_a_user(method):
    """The documents of a POST that creates a user from the credentials in its body (sign-up, admin)."""
    for document in (
        api_namespace.response(409, "Username taken", error_model),
        api_namespace.response(400, "Invalid field", error_model),
        api_namespace.response(201, "Created", user_model),
        api_namespace.expect(credentials_model),
    ):
        method = document(method)
    return method


def create_from_body():
    """Shared by sign-up and the admin endpoint: 201, 400 or 409."""
    credentials = read_credentials()
    username = credentials["username"]
    try:
        user = users.create_user(database().session(), username, credentials["password"])
    except users.InvalidUser as exc:
        abort(400, str(exc))
    except users.DuplicateUser:
        abort(409, f"Username {username} is already taken")
    return users.as_dict(user), 201


@api_namespace.route("/users/")
class SignUp(Resource):
    @api_namespace.doc("signup", description="Public sign-up; only when FEATURE_SIGNUP is on.")
    @creates_a_user
    @api_namespace.response(404, "Sign-up is off", error_model)
    def post(self):
        if not current_app.config["FEATURE_SIGNUP"]:
            abort(404, "Sign-up is not enabled")
        return create_from_body()
