"""Thoughts backend: an application factory in the Flask tutorial's style."""

from thoughts_common import database, settings
from thoughts_common.service import create_api, create_flask_app

TAG = "thoughts_backend"


def create_app(config=None):
    """Build the app; ``config`` overrides what comes from the environment.

    Every setting the service reads is checked first: a wrong one stops the start (SettingError).
    """
    settings.check(settings.THOUGHTS, given=config or ())
    config = {"DATABASE_URL": database.database_url(TAG), **(config or {})}

    app = create_flask_app(__name__, TAG, config["DATABASE_URL"], config)

    from thoughts_backend import metrics, textsearch
    from thoughts_backend.admin_namespace import admin_namespace
    from thoughts_backend.api_namespace import api_namespace

    textsearch.install(app.extensions["database"].engine)
    metrics.init_app(app)

    create_api(
        app,
        "Thoughts backend",
        "Share thoughts, list your own, search everyone's.",
        {api_namespace: "/api", admin_namespace: "/admin"},
    )

    return app
