"""The testkit's pytest plugin (entry point ``pytest11``): registry fixtures for plugin tests.

Fixtures:

* ``neuropil_registry``: a :class:`~neuropil.Registry` with discovery blocked, holding only the
  core's built-ins, made the current registry (:func:`neuropil.use_registry`) for the test.
* ``register_plugin``: ``register_plugin(plugin, name=None, *, distribution=None,
  version=None) -> name`` adds a temporary plugin to ``neuropil_registry`` for the test
  (see :func:`neuropil_testkit.temporary_plugin` for what ``plugin`` may be).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from neuropil import Registry, use_registry
from neuropil_testkit._plugins import PluginSpec, blocked_registry, temporary_plugin

__all__ = ["neuropil_registry", "register_plugin"]


@pytest.fixture
def neuropil_registry() -> Iterator[Registry]:
    """A registry with only the core's built-ins, current for the duration of the test."""
    reg = blocked_registry()
    with use_registry(reg):
        yield reg


@pytest.fixture
def register_plugin(neuropil_registry: Registry) -> Iterator[Callable[..., str]]:
    """Register a temporary plugin into ``neuropil_registry``; removed after the test."""
    with ExitStack() as stack:

        def register(
            plugin: PluginSpec,
            name: str | None = None,
            *,
            distribution: str | None = None,
            version: str | None = None,
        ) -> str:
            return stack.enter_context(
                temporary_plugin(
                    plugin,
                    name=name,
                    registry=neuropil_registry,
                    distribution=distribution,
                    version=version,
                )
            )

        yield register
