"""Admin API: create users, clear login throttling. Requires a token with ``role: admin``."""

import logging

from flask import g
from flask_restx import Namespace, Resource

from thoughts_common.auth import token_required
from users_backend import throttle
from users_backend.api_namespace import (
    create,
    credentials_model,
    database,
    error_model,
    read_credentials,
    user_model,
)
from users_backend.client_address import normalise

logger = logging.getLogger(__name__)

admin_namespace = Namespace("admin", description="Admin operations (admin token required)")


@admin_namespace.route("/users/")
class Users(Resource):
    @admin_namespace.doc("create_user", security="bearer")
    @admin_namespace.expect(credentials_model)
    @admin_namespace.response(201, "Created", user_model)
    @admin_namespace.response(400, "Invalid field", error_model)
    @admin_namespace.response(401, "Missing or invalid token", error_model)
    @admin_namespace.response(403, "Not an admin", error_model)
    @admin_namespace.response(409, "Username taken", error_model)
    @token_required(admin=True)
    def post(self):
        credentials = read_credentials()
        return create(credentials["username"], credentials["password"])


def _cleared(what, **keys):
    removed = throttle.clear(database().session(), **keys)
    logger.info("Admin %s cleared the login throttle of %s (%d record(s))", g.claims["username"], what, removed)
    return "", 204


@admin_namespace.route("/login-throttle/users/<string:username>")
@admin_namespace.param("username", "The username whose failed logins are forgotten")
class UsernameThrottle(Resource):
    @admin_namespace.doc("clear_username_throttle", security="bearer")
    @admin_namespace.response(204, "Cleared (also when there was nothing to clear)")
    @admin_namespace.response(401, "Missing or invalid token", error_model)
    @admin_namespace.response(403, "Not an admin", error_model)
    @token_required(admin=True)
    def delete(self, username):
        return _cleared(f"user {username!r}", username=username)


@admin_namespace.route("/login-throttle/addresses/<string:address>")
@admin_namespace.param("address", "The client address (IPv6: any address of its /64) whose failed logins are forgotten")
class AddressThrottle(Resource):
    @admin_namespace.doc("clear_address_throttle", security="bearer")
    @admin_namespace.response(204, "Cleared (also when there was nothing to clear)")
    @admin_namespace.response(401, "Missing or invalid token", error_model)
    @admin_namespace.response(403, "Not an admin", error_model)
    @token_required(admin=True)
    def delete(self, address):
        address = normalise(address)
        return _cleared(f"address {address}", address=address)
