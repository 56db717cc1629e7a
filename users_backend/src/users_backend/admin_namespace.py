"""Admin API: create users. Requires a token with ``role: admin``."""

from flask_restx import Namespace, Resource

from thoughts_common.auth import token_required
from users_backend.api_namespace import create, credentials_model, error_model, read_credentials, user_model

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
