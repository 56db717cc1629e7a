"""Drop the editable local packages from pip-compile's output.

pip-compile writes them as absolute file:// paths of the machine that ran it;
the Makefile installs them from the checkout instead.
"""

import sys

path = sys.argv[1]
kept, skipping = [], False
for line in open(path).read().splitlines():
    if line.startswith("-e "):
        skipping = True
        continue
    if skipping and line.startswith("    #"):
        continue
    skipping = False
    kept.append(line.replace("#   -/common", "#   thoughts-common"))
open(path, "w").write("\n".join(kept) + "\n")
