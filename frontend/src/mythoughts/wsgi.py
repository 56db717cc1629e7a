"""WSGI entry point: ``module = mythoughts.wsgi:application`` (uWSGI).

uWSGI loads this module once in its master and then forks the workers, so the
Prometheus multiprocess folder is cleaned here, before any metric exists.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mythoughts.settings")

from thoughts_common.metrics import prepare_multiproc_dir

prepare_multiproc_dir()

from django.core.wsgi import get_wsgi_application  # noqa: E402

from thoughts.refusals import html_page  # noqa: E402
from thoughts_common import tokens  # noqa: E402
from thoughts_common.limits import RequestLimits  # noqa: E402
from thoughts_common.settings import refuse_to_start  # noqa: E402

# A wrong setting: one line naming it, and uWSGI stops (need-app).
with refuse_to_start():
    # Oversized requests are refused before Django parses them (thoughts_common.limits).
    application = RequestLimits(get_wsgi_application(), page=html_page)
    # Fail at start, not at the first login, without a valid key; parsed here
    # in the master, the workers inherit the key object (thoughts.session).
    tokens.require_public_key("JWT_PUBLIC_KEY")
