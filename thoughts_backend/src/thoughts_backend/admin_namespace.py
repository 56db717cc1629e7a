"""Admin API: delete thoughts. Requires a token with ``role: admin``."""

import logging

from flask import g
from flask_restx import Namespace, Resource

from thoughts_backend import thoughts
from thoughts_backend.api_namespace import THOUGHT_ID_PARAM, database, error_model, parse_thought_id
from thoughts_common.auth import token_required

logger = logging.getLogger(__name__)

admin_namespace = Namespace("admin", description="Admin operations (admin token required)")


@admin_namespace.route("/thoughts/<thought_id>/")
class Thought(Resource):
    @admin_namespace.doc("delete_thought", security="bearer", params=THOUGHT_ID_PARAM)
    @admin_namespace.response(204, "Deleted, or there was no such thought")
    @admin_namespace.response(400, "The id is not an integer from 1 to the largest id", error_model)
    @admin_namespace.response(401, "Missing or invalid token", error_model)
    @admin_namespace.response(403, "Not an admin", error_model)
    @token_required(admin=True)
    def delete(self, thought_id):
        thought_id = parse_thought_id(thought_id)
        admin = g.claims["username"]
        if thoughts.delete_thought(database().session(), thought_id):
            logger.info("Admin %s deleted thought %d", admin, thought_id)
        else:
            logger.info("Admin %s deleted thought %d, which was already absent", admin, thought_id)
        return "", 204
