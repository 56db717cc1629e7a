"""Bearer-token checks for the Flask services."""

import functools
import logging

from flask import current_app, g, request
from flask_restx import abort

from thoughts_common import tokens

logger = logging.getLogger(__name__)

PUBLIC_KEY_CONFIG = "JWT_PUBLIC_KEY"
# Optional app setting; without it the ``JWT_ISSUER`` variable (or its default) is expected.
ISSUER_CONFIG = "JWT_ISSUER"


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticated_claims():
    """Claims of the request's bearer token; aborts with 401 when absent or invalid."""
    token = bearer_token()
    if token is None:
        abort(401, "Missing bearer token in the Authorization header")
    try:
        return tokens.decode(token, current_app.config[PUBLIC_KEY_CONFIG], current_app.config.get(ISSUER_CONFIG))
    except tokens.InvalidToken as exc:
        # Never log the token itself: the book logged the whole header here.
        logger.info("Rejected token: %s", exc)
        abort(401, "Invalid or expired token")


def token_required(admin=False):
    """Decorator for resource methods; the claims end up in ``flask.g.claims``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            claims = authenticated_claims()
            if admin and not tokens.is_admin(claims):
                logger.info("User %s is not an admin", claims["username"])
                abort(403, "Admin role required")
            g.claims = claims
            return view(*args, **kwargs)

        return wrapper

    return decorator
