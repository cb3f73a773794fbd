"""Workspace-wide pytest configuration.

Under CI (``CI`` set) hypothesis runs derandomized, so a build is red or green for the code, not
for the draw; locally it explores new examples each run.
"""

from __future__ import annotations

import os

try:
    from hypothesis import settings
except ImportError:  # a package's isolated environment may not install hypothesis
    pass
else:
    settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
    if os.environ.get("CI"):
        settings.load_profile("ci")
