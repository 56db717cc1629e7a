"""Programs the tests run: found on PATH (and in /usr/sbin, /sbin), else the test is skipped (failed with CI=true)."""

import os
import shutil

from thoughts_common.testing.postgres import unavailable


def require_binary(*names):
    """Path of the first of ``names`` found, else skip (fail with CI=true)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    unavailable(f"{' or '.join(names)} is not installed")
    return None
