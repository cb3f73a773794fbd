"""Every testkit test runs against the core's built-ins only (discovery blocked)."""

from __future__ import annotations

import pytest

from neuropil import Registry


@pytest.fixture(autouse=True)
def _blocked(neuropil_registry: Registry) -> Registry:
    return neuropil_registry
