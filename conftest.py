"""Workspace-wide pytest configuration.

Under CI (``CI`` set) hypothesis runs derandomized, so a build is red or green for the code, not
for the draw; locally it explores new examples each run.
"""

from __future__ import annotations

import importlib.util
import os

# a package's isolated environment may not install hypothesis
if importlib.util.find_spec("hypothesis") is not None:
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
    if os.environ.get("CI"):
        settings.load_profile("ci")
