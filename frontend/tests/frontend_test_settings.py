"""The real settings, for the test process: a throw-away secret key, the test client's host.

The JWT key comes from the test run (fixtures), never from the environment of
whoever runs the tests (``make`` exports the native run's key paths).
"""

import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-" + secrets.token_urlsafe(40))
for name in ("JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY_FILE"):
    os.environ.pop(name, None)

from mythoughts.settings import *  # noqa: E402, F403
from mythoughts.settings import ALLOWED_HOSTS  # noqa: E402

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
