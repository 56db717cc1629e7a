"""Thoughts users backend: an application factory in the Flask tutorial's style."""

from thoughts_common import database, features, settings, tokens
from thoughts_common.service import create_api, create_flask_app
from users_backend import client_address, throttle

TAG = "users_backend"


def create_app(config=None):
    """Build the app; ``config`` overrides what comes from the environment.

    Every setting the service reads is checked first: a wrong one stops the start (SettingError).
    """
    settings.check(settings.USERS, given=config or ())
    config = {
        "DATABASE_URL": database.database_url(TAG),
        "FEATURE_SIGNUP": features.enabled("signup"),
        "JWT_LIFETIME": tokens.configured_lifetime(),
        "JWT_ISSUER": tokens.configured_issuer(),
        "LOGIN_THROTTLE": throttle.Limits.from_environment(),
        "LOGIN_TRUSTED_PROXIES": client_address.trusted_proxies(),
        **(config or {}),
    }
    # A key object, parsed once: from PEM text every login would re-check the RSA key (~30 ms).
    if "JWT_PRIVATE_KEY" in config:
        config["JWT_PRIVATE_KEY"] = tokens.private_key_object(config["JWT_PRIVATE_KEY"], "JWT_PRIVATE_KEY")
    else:
        config["JWT_PRIVATE_KEY"] = tokens.require_private_key("JWT_PRIVATE_KEY")

    app = create_flask_app(__name__, TAG, config["DATABASE_URL"], config)

    from users_backend.admin_namespace import admin_namespace
    from users_backend.api_namespace import api_namespace

    create_api(
        app,
        "Thoughts users backend",
        "Log in to get a JWT; administer users.",
        {api_namespace: "/api", admin_namespace: "/admin"},
    )

    return app
