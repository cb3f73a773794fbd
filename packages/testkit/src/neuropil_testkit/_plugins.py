"""A registry with discovery blocked, and temporary plugins registered into it."""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import neuropil
from neuropil import KINDS, PLUGIN_API_VERSION, Component, Registry, get_registry, hookimpl
from neuropil import _builtins as core_builtins

__all__ = ["PluginSpec", "blocked_registry", "temporary_plugin"]

#: What :func:`temporary_plugin` accepts: a plugin module (or object) with hook implementations,
#: or ``{kind: [component, ...]}`` where a component is a :class:`~neuropil.Component` or the
#: object itself (a definition such as a :class:`~neuropil.NeuronModel`, or an engine class or
#: factory with a ``name`` attribute).
PluginSpec = types.ModuleType | object | Mapping[str, Sequence[Any]]

_counter = itertools.count()


def blocked_registry() -> Registry:
    """A registry that discovers nothing: only the core's built-ins (``lif``, ``numpy``, ...)."""
    reg = Registry(discover=False)
    reg.register_plugin(
        core_builtins, "builtins", distribution="neuropil", version=neuropil.__version__
    )
    return reg


def _hook(components: list[Component]) -> Callable[[], list[Component]]:
    def hook() -> list[Component]:
        return list(components)

    marked: Callable[[], list[Component]] = hookimpl(hook)
    return marked


def _module_from_components(components: Mapping[str, Sequence[Any]], name: str) -> types.ModuleType:
    module = types.ModuleType(name, f"temporary neuropil plugin {name!r} (neuropil-testkit)")
    module.NEUROPIL_PLUGIN_API = PLUGIN_API_VERSION  # type: ignore[attr-defined]
    for kind, items in components.items():
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
        entries: list[Component] = []
        for k, item in enumerate(items):
            if isinstance(item, Component):
                entries.append(item)
                continue
            comp_name = getattr(item, "name", None)
            if not isinstance(comp_name, str):
                raise ValueError(
                    f"{kind} #{k} of temporary plugin {name!r} has no 'name' attribute; give "
                    "a neuropil.Component(name, 'module:attr') instead"
                )
            attr = f"{kind}_{k}"
            setattr(module, attr, item)
            entries.append(Component(comp_name, f"{name}:{attr}", "temporary (testkit)"))
        setattr(module, KINDS[kind], _hook(entries))
    return module


@contextmanager
def temporary_plugin(
    plugin: PluginSpec,
    *,
    name: str | None = None,
    registry: Registry | None = None,
    distribution: str | None = None,
    version: str | None = None,
) -> Iterator[str]:
    """Register ``plugin`` for the ``with`` block, then remove it.

    Args:
        plugin: See :data:`PluginSpec`. Objects given in a mapping are served from a module
            created in ``sys.modules`` for the block, so their descriptors are ordinary
            ``"module:attr"`` targets.
        name: The plugin's name; a fresh ``testkit_plugin_<n>`` by default.
        registry: Where to register; the current one (:func:`neuropil.get_registry`) by default.

    Yields:
        The plugin's name.

    Raises:
        AssertionError: The registry refused the plugin or some of its components (the
            message lists the registry's problems).
    """
    reg = registry if registry is not None else get_registry()
    plugin_name = name or f"testkit_plugin_{next(_counter)}"
    module_name: str | None = None
    if isinstance(plugin, Mapping):
        module_name = f"_neuropil_testkit_tmp_{plugin_name}"
        plugin = _module_from_components(plugin, module_name)
        sys.modules[module_name] = plugin
    try:
        problems = reg.register_plugin(
            plugin, plugin_name, distribution=distribution, version=version
        )
        if problems:
            reg.unregister_plugin(plugin_name)
            raise AssertionError(
                f"temporary plugin {plugin_name!r} was refused: "
                + "; ".join(str(p.error) for p in problems)
            )
        try:
            yield plugin_name
        finally:
            reg.unregister_plugin(plugin_name)
    finally:
        if module_name is not None:
            sys.modules.pop(module_name, None)
