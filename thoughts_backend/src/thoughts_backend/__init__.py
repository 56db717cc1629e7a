"""Thoughts backend: an application factory in the Flask tutorial's style."""

from flask_restx import Api

from thoughts_common import database
from thoughts_common.service import create_flask_app

TAG = "thoughts_backend"


def create_app(config=None):
    """Build the app; ``config`` overrides what comes from the environment."""
    settings = {"DATABASE_URL": database.database_url(TAG)}
    settings.update(config or {})

    app = create_flask_app(__name__, TAG, settings["DATABASE_URL"], settings)

    from thoughts_backend import metrics, textsearch
    from thoughts_backend.admin_namespace import admin_namespace
    from thoughts_backend.api_namespace import api_namespace

    textsearch.install(app.extensions["database"].engine)
    metrics.init_app(app)

    api = Api(
        app,
        version="1.0",
        title="Thoughts backend",
        description="Share thoughts, list your own, search everyone's.",
        doc="/",
        catch_all_404s=True,
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
    )
    api.add_namespace(api_namespace, path="/api")
    api.add_namespace(admin_namespace, path="/admin")

    return app
