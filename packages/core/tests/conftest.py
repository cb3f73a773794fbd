"""The core's tests see only the core's own components, whatever plugins the environment has
(the workspace installs every first-party plugin; the core must behave the same without them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import neuropil._builtins
from neuropil import Registry, use_registry


@pytest.fixture(autouse=True)
def _core_only_registry() -> Iterator[Registry]:
    registry = Registry(discover=False)
    registry.register_plugin(neuropil._builtins, "builtins")
    with use_registry(registry):
        yield registry
