"""WSGI entry point for uWSGI: ``module = thoughts_backend.wsgi:app``."""

from thoughts_backend import create_app
from thoughts_common.settings import refuse_to_start

# A wrong setting: one line naming it, and uWSGI stops (need-app).
with refuse_to_start():
    app = create_app()
