"""Admin API: create users, clear login throttling. Requires a token with ``role: admin``."""

import logging

from flask import g
from flask_restx import Namespace, Resource, abort

from thoughts_common import contract, documents
from thoughts_common.auth import token_required
from users_backend import throttle
from users_backend.api_namespace import create_from_body, creates_a_user, database, error_model
from users_backend.client_address import normalise

logger = logging.getLogger(__name__)

admin_namespace = Namespace("admin", description="Admin operations (admin token required)")


def admin_only(method):
    """Requires an admin's token, and says so in the documents (401, 403)."""
    method = token_required(admin=True)(method)
    method = admin_namespace.response(403, "Not an admin", error_model)(method)
    return admin_namespace.response(401, "Missing or invalid token", error_model)(method)


@admin_namespace.route("/users/")
class Users(Resource):
    @admin_namespace.doc("create_user", security="bearer")
    @creates_a_user
    @admin_only
    def post(self):
        return create_from_body()


def clears_a_throttle(operation):
    """The documents and the admin check of a DELETE that clears login throttling."""

    def decorate(method):
        method = admin_only(method)
        method = admin_namespace.response(204, "Cleared (also when there was nothing to clear)")(method)
        method = admin_namespace.response(400, "NUL in the path parameter", error_model)(method)
        # The router's: %2F is decoded before routing, so the name is two segments (the CLI clears such a name).
        method = admin_namespace.response(404, "A / in the path parameter (also as %2F): no such URL", error_model)(
            method
        )
        return admin_namespace.doc(operation, security="bearer")(method)

    return decorate


def checked(value, name):
    """``value`` when it is a text path parameter by the contract (the document's pattern); a 400 otherwise."""
    problem = contract.path_text_problem(value, name)
    if problem:
        abort(400, problem)
    return value


def _cleared(what, **keys):
    removed = throttle.clear(database().session(), **keys)
    logger.info("Admin %s cleared the login throttle of %s (%d record(s))", g.claims["username"], what, removed)
    return "", 204


@admin_namespace.route("/login-throttle/users/<string:username>")
@admin_namespace.doc(
    params={
        "username": documents.path_text_parameter(
            "The username whose failed logins are forgotten: any text without / or NUL"
        )
    }
)
class UsernameThrottle(Resource):
    @clears_a_throttle("clear_username_throttle")
    def delete(self, username):
        username = checked(username, "username")
        return _cleared(f"user {username!r}", username=username)


@admin_namespace.route("/login-throttle/addresses/<string:address>")
@admin_namespace.doc(
    params={
        "address": documents.path_text_parameter(
            "The client address (IPv6: any address of its /64) whose failed logins are forgotten"
        )
    }
)
class AddressThrottle(Resource):
    @clears_a_throttle("clear_address_throttle")
    def delete(self, address):
        address = normalise(checked(address, "address"))
        return _cleared(f"address {address}", address=address)
