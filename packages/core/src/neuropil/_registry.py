"""The registry: which components are installed, who provides them, and loading them by name.

Discovery reads the entry points of group ``neuropil`` (each names a plugin module), checks the
plugin API version each module declares, registers the module with a pluggy
:class:`~pluggy.PluginManager` and calls its hooks to collect :class:`~neuropil.Component`
descriptors. Discovery imports plugin modules only, never a component's ``target``: that happens
on first use (:meth:`Registry.load`), once, and is cached.

A broken plugin never stops the others: a plugin module that fails to import, declares no or an
incompatible plugin API, or whose hooks fail, is recorded in :attr:`Registry.problems` and the
rest keep working. Two plugins claiming one ``(kind, name)`` are both refused, with both owners
named.
"""

from __future__ import annotations

import difflib
import importlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

import pluggy

from neuropil import hookspecs
from neuropil._descriptors import KINDS, PLUGIN_API_VERSION, Component
from neuropil._models import LearningRule, NeuronModel, SurrogateDefinition, SynapseModel
from neuropil.errors import (
    IncompatiblePluginError,
    NeuropilError,
    PluginConflictError,
    PluginLoadError,
    UnknownComponentError,
)

__all__ = [
    "ENGINE_KINDS",
    "FIRST_PARTY_PLUGINS",
    "PluginProblem",
    "Registry",
    "RegistryEntry",
    "get_registry",
    "use_registry",
]

#: Kinds whose target is a class (or factory) that :meth:`Registry.create` calls with no
#: arguments. The other kinds name definition objects (data), see :meth:`Registry.load`.
ENGINE_KINDS: tuple[str, ...] = ("backend", "target", "dataset", "encoder", "analysis")

_DATASETS = "neuropil-datasets"

#: Components of first-party plugins, ``kind -> name -> distribution``: an unknown name listed
#: here is answered with the ``pip install`` line that provides it.
FIRST_PARTY_PLUGINS: dict[str, dict[str, str]] = {
    "backend": {"torch": "neuropil-torch", "jax": "neuropil-jax"},
    "target": {
        "spinnaker": "neuropil-spinnaker",
        "loihi": "neuropil-loihi",
        "loihi2": "neuropil-loihi",
    },
    "dataset": dict.fromkeys(
        ("shd", "ssc", "nmnist", "dvs_gesture", "digits", "digits_static"), _DATASETS
    ),
    "encoder": dict.fromkeys(
        ("rate", "poisson", "latency", "delta", "current", "population"), _DATASETS
    ),
}

_TYPED_KINDS: dict[str, type] = {
    "neuron": NeuronModel,
    "synapse": SynapseModel,
    "rule": LearningRule,
    "surrogate": SurrogateDefinition,
}
_HOOK_KIND = {hook: kind for kind, hook in KINDS.items()}
_NAME_RE = re.compile(r"[a-z0-9_]+")
_TARGET_RE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_API_LINE = f"NEUROPIL_PLUGIN_API = {PLUGIN_API_VERSION!r}"

Status = Literal["broken", "refused"]


@dataclass(frozen=True)
class RegistryEntry:
    """One component a plugin provides, as discovered (nothing imported).

    Attributes:
        kind: The component kind, a key of :data:`~neuropil.KINDS` (``"backend"``, ``"neuron"``).
        name: The registry name users type (``"torch"``, ``"lif"``).
        target: ``"package.module:attr"``, imported by :meth:`Registry.load` on first use.
        summary: One line describing the component.
        plugin: The plugin (entry point) name that provides it.
        distribution: The installed distribution providing the plugin (``"neuropil-torch"``),
            or ``None`` for a plugin registered by hand.
        version: That distribution's version, or ``None``.
    """

    kind: str
    name: str
    target: str
    summary: str
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def owner(self) -> str:
        """Who provides the component: ``"dist version"``, or ``"plugin 'name'"``."""
        return _owner(self.plugin, self.distribution, self.version)


@dataclass(frozen=True)
class PluginProblem:
    """A plugin, or some of its components, that the registry refused or could not load.

    Attributes:
        plugin: The plugin (entry point) name.
        distribution: The distribution providing it, or ``None`` for a plugin registered by hand.
        error: What went wrong: :class:`~neuropil.errors.PluginLoadError` (the plugin failed to
            import or its hooks failed), :class:`~neuropil.errors.IncompatiblePluginError` (built
            for another plugin API) or :class:`~neuropil.errors.PluginConflictError` (one of its
            names is claimed by another plugin too; one problem is recorded per claimant).
        version: The distribution's version, or ``None``.
        status: ``"broken"`` when nothing of the plugin could be read, ``"refused"`` when its
            components are known but not offered (incompatible API, missing API declaration,
            name conflict).
    """

    plugin: str
    distribution: str | None
    error: NeuropilError
    version: str | None = None
    status: Status = "broken"

    @property
    def owner(self) -> str:
        """Who provides the plugin: ``"dist version"``, or ``"plugin 'name'"``."""
        return _owner(self.plugin, self.distribution, self.version)


def _owner(plugin: str, distribution: str | None, version: str | None) -> str:
    if distribution is None:
        return f"plugin {plugin!r}"
    return f"{distribution} {version}" if version else distribution


@dataclass
class _Plugin:
    """What the registry knows about one plugin."""

    name: str
    obj: object
    distribution: str | None
    version: str | None
    entries: list[RegistryEntry] = field(default_factory=list)
    error: NeuropilError | None = None
    status: Status | None = None  # None: accepted

    @property
    def owner(self) -> str:
        return _owner(self.name, self.distribution, self.version)


@dataclass
class _Index:
    available: dict[tuple[str, str], RegistryEntry]
    conflicts: dict[tuple[str, str], list[RegistryEntry]]
    refused: dict[tuple[str, str], list[tuple[RegistryEntry, NeuropilError]]]


class Registry:
    """Installed components by ``(kind, name)``, with who provides them and what went wrong.

    ``Registry()`` discovers the plugins installed in this environment (entry point group
    ``neuropil``); ``Registry(discover=False)`` starts empty, for tests and notebooks that add
    plugins with :meth:`register_plugin`. Most code uses the process-wide one,
    :func:`get_registry`.

    Listing (:meth:`entries`, :meth:`names`, :attr:`problems`) imports no component; loading
    (:meth:`load`, :meth:`create` and the typed helpers) imports one target, once.

    Example::

        reg = neuropil.get_registry()
        reg.names("backend")            # ['numpy', 'torch']
        lif = reg.neuron("lif")         # a NeuronModel
        engine = reg.create("backend", "numpy")
    """

    def __init__(self, discover: bool = True) -> None:
        self._pm = pluggy.PluginManager("neuropil")
        self._pm.add_hookspecs(hookspecs)
        self._plugins: dict[str, _Plugin] = {}
        self._loaded: dict[RegistryEntry, Any] = {}
        self._index_cache: _Index | None = None
        self._lock = threading.RLock()
        if discover:
            self._discover()

    # -- adding plugins -----------------------------------------------------------------------

    def _discover(self) -> None:
        found = sorted(
            entry_points(group="neuropil"),
            key=lambda ep: (ep.dist.name if ep.dist is not None else "", ep.name),
        )
        for ep in found:
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            name = ep.name if ep.name not in self._plugins else f"{dist}:{ep.name}"
            try:
                obj = ep.load()
            except Exception as exc:
                self._add_broken(name, dist, version, _import_error(ep, name, dist, version, exc))
                continue
            self._add(obj, name, dist, version)

    def register_plugin(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> list[PluginProblem]:
        """Add a plugin by hand, with the same checks as discovery.

        Args:
            plugin: A module (``types.ModuleType``) or any object holding ``@neuropil.hookimpl``
                functions and a ``NEUROPIL_PLUGIN_API = (major, minor)`` attribute.
            name: The plugin's name (what an entry point name would be); unique in this registry.
            distribution: The distribution to report as its provider, if any.
            version: That distribution's version.

        Returns:
            The problems now recorded for this plugin (empty when all its components are
            offered). They stay in :attr:`problems`; nothing is raised for them.

        Raises:
            ValueError: A plugin called ``name`` is already registered.
        """
        with self._lock:
            if name in self._plugins:
                raise ValueError(
                    f"a plugin named {name!r} is already registered "
                    f"({self._plugins[name].owner}); pick another name or call "
                    f"unregister_plugin({name!r}) first"
                )
            self._add(plugin, name, distribution, version)
            return [p for p in self.problems if p.plugin == name]

    def unregister_plugin(self, name: str) -> None:
        """Remove the plugin called ``name`` and everything it provided.

        Raises:
            KeyError: No plugin of that name is registered.
        """
        with self._lock:
            try:
                info = self._plugins.pop(name)
            except KeyError:
                known = ", ".join(sorted(self._plugins)) or "none"
                raise KeyError(f"no plugin named {name!r}; registered: {known}") from None
            if self._pm.is_registered(info.obj):
                self._pm.unregister(info.obj)
            self._loaded = {e: v for e, v in self._loaded.items() if e.plugin != name}
            self._index_cache = None

    def _add_broken(
        self, name: str, dist: str | None, version: str | None, error: NeuropilError
    ) -> None:
        self._plugins[name] = _Plugin(name, None, dist, version, error=error, status="broken")
        self._index_cache = None

    def _add(self, obj: object, name: str, dist: str | None, version: str | None) -> None:
        info = _Plugin(name, obj, dist, version)
        self._plugins[name] = info
        self._index_cache = None
        api_error = _check_api(obj, name, info.owner)
        if api_error is not None:
            info.error, info.status = api_error, "refused"
            # Best effort, so that asking for one of its names says why it is refused.
            info.entries = _components_best_effort(obj, info)
            return
        try:
            self._pm.register(obj, name=name)
        except Exception as exc:
            err = PluginLoadError(
                f"plugin {name!r} ({info.owner}) could not be registered: "
                f"{type(exc).__name__}: {exc}",
                plugin=name,
                target=_module_name(obj),
            )
            err.__cause__ = exc
            info.error, info.status = err, "broken"
            return
        try:
            info.entries = self._collect(obj, info)
        except PluginLoadError as err:
            self._pm.unregister(obj)
            info.error, info.status = err, "broken"

    def _collect(self, obj: object, info: _Plugin) -> list[RegistryEntry]:
        entries: list[RegistryEntry] = []
        for caller in self._pm.get_hookcallers(obj) or []:
            if not caller.has_spec():
                close = difflib.get_close_matches(caller.name, list(_HOOK_KIND), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise PluginLoadError(
                    f"plugin {info.name!r} ({info.owner}) implements {caller.name!r}, which is "
                    f"not a neuropil hook; {hint}the hooks are: {', '.join(_HOOK_KIND)}",
                    plugin=info.name,
                    target=_module_name(obj),
                )
            for impl in caller.get_hookimpls():
                if impl.plugin is obj:
                    entries += _call_hook(impl.function, caller.name, info)
        seen: set[tuple[str, str]] = set()
        for entry in entries:
            if (entry.kind, entry.name) in seen:
                raise PluginLoadError(
                    f"plugin {info.name!r} ({info.owner}) returns {entry.kind} {entry.name!r} "
                    "more than once; return each component once",
                    plugin=info.name,
                    target=_module_name(obj),
                )
            seen.add((entry.kind, entry.name))
        return entries

    # -- the index ---------------------------------------------------------------------------

    def _index(self) -> _Index:
        with self._lock:
            if self._index_cache is not None:
                return self._index_cache
            claims: dict[tuple[str, str], list[RegistryEntry]] = {}
            refused: dict[tuple[str, str], list[tuple[RegistryEntry, NeuropilError]]] = {}
            for info in self._plugins.values():
                for entry in info.entries:
                    key = (entry.kind, entry.name)
                    if info.error is None:
                        claims.setdefault(key, []).append(entry)
                    else:
                        refused.setdefault(key, []).append((entry, info.error))
            available = {k: v[0] for k, v in claims.items() if len(v) == 1}
            conflicts: dict[tuple[str, str], list[RegistryEntry]] = {}
            for key, claimants in claims.items():
                if len(claimants) == 1:
                    continue
                core = [e for e in claimants if _is_core(e)]
                if len(core) != 1:
                    conflicts[key] = claimants
                    continue
                # A plugin cannot switch off a built-in: the core keeps the name.
                available[key] = core[0]
                err = PluginConflictError(
                    key[0], key[1], [e.owner for e in claimants], kept=core[0].owner
                )
                refused.setdefault(key, []).extend((e, err) for e in claimants if e is not core[0])
            self._index_cache = _Index(available, conflicts, refused)
            return self._index_cache

    # -- queries (import nothing) ------------------------------------------------------------

    def kinds(self) -> list[str]:
        """The kinds that have at least one available component, in :data:`~neuropil.KINDS`
        order."""
        present = {kind for kind, _ in self._index().available}
        return [kind for kind in KINDS if kind in present]

    def names(self, kind: str) -> list[str]:
        """The sorted names of the available components of ``kind``.

        Raises:
            UnknownComponentError: ``kind`` is not a component kind.
        """
        _check_kind(kind)
        return sorted(n for k, n in self._index().available if k == kind)

    def entries(self, kind: str | None = None) -> list[RegistryEntry]:
        """The available components (of ``kind``, or all), sorted by kind then name.

        Refused components are not included, see :meth:`refused`.
        """
        if kind is not None:
            _check_kind(kind)
        order = {k: i for i, k in enumerate(KINDS)}
        found = [e for e in self._index().available.values() if kind is None or e.kind == kind]
        return sorted(found, key=lambda e: (order[e.kind], e.name))

    def entry(self, kind: str, name: str) -> RegistryEntry:
        """The available component ``(kind, name)``.

        Raises:
            UnknownComponentError: Nothing of that name is installed (with close matches, the
                installed names and, for a first-party component, the ``pip install`` line).
            PluginConflictError: Two plugins provide it; both are refused.
            IncompatiblePluginError: Its plugin was built for another plugin API.
            PluginLoadError: Its plugin is refused or failed to load.
        """
        _check_kind(kind)
        index = self._index()
        found = index.available.get((kind, name))
        if found is not None:
            return found
        raise self._why_missing(kind, name, index)

    def refused(self, kind: str | None = None) -> list[tuple[RegistryEntry, NeuropilError]]:
        """Components that plugins declare but that are not offered, each with the reason.

        A name claimed by two plugins appears once per claimant with a
        :class:`~neuropil.errors.PluginConflictError`; a component of a plugin built for another
        plugin API appears with its :class:`~neuropil.errors.IncompatiblePluginError`.
        """
        if kind is not None:
            _check_kind(kind)
        index = self._index()
        out: list[tuple[RegistryEntry, NeuropilError]] = []
        for (k, n), claimants in index.conflicts.items():
            err = PluginConflictError(k, n, [e.owner for e in claimants])
            out += [(e, err) for e in claimants]
        for pairs in index.refused.values():
            out += pairs
        order = {k: i for i, k in enumerate(KINDS)}
        out = [(e, err) for e, err in out if kind is None or e.kind == kind]
        return sorted(out, key=lambda pair: (order[pair[0].kind], pair[0].name, pair[0].plugin))

    @property
    def problems(self) -> list[PluginProblem]:
        """Every plugin that was refused or failed to load, and every name conflict (one problem
        per claimant, sharing one :class:`~neuropil.errors.PluginConflictError`)."""
        out: list[PluginProblem] = []
        with self._lock:
            plugins = list(self._plugins.values())
        for info in plugins:
            if info.error is not None and info.status is not None:
                out.append(
                    PluginProblem(
                        info.name, info.distribution, info.error, info.version, info.status
                    )
                )
        index = self._index()
        for (kind, name), claimants in index.conflicts.items():
            err = PluginConflictError(kind, name, [e.owner for e in claimants])
            out += [
                PluginProblem(e.plugin, e.distribution, err, e.version, "refused")
                for e in claimants
            ]
        for pairs in index.refused.values():
            out += [
                PluginProblem(e.plugin, e.distribution, err, e.version, "refused")
                for e, err in pairs
                if isinstance(err, PluginConflictError)
            ]
        return out

    # -- loading -----------------------------------------------------------------------------

    def load(self, kind: str, name: str) -> Any:
        """The object the component's target names, imported on first use and cached.

        For neuron and synapse models, learning rules and surrogates it is the definition; for
        engine kinds (:data:`ENGINE_KINDS`) it is the class, see :meth:`create`.

        Raises:
            PluginLoadError: The target could not be imported (``could not import backend
                'torch' from 'neuropil_torch.engine:TorchBackend': ModuleNotFoundError: ...``),
                chained from the cause.
            UnknownComponentError, PluginConflictError, IncompatiblePluginError: see
                :meth:`entry`.
        """
        entry = self.entry(kind, name)
        with self._lock:
            if entry in self._loaded:
                return self._loaded[entry]
        module_name, _, attr = entry.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            raise PluginLoadError(
                f"could not import {kind} {name!r} from {entry.target!r}: "
                f"{type(exc).__name__}: {exc}",
                plugin=entry.plugin,
                target=entry.target,
                kind=kind,
                name=name,
            ) from exc
        with self._lock:
            self._loaded[entry] = obj
        return obj

    def create(self, kind: str, name: str) -> Any:
        """A ready-to-use component.

        For engine kinds (``backend``, ``target``, ``dataset``, ``encoder``, ``analysis``): the
        loaded class called with no arguments, a fresh instance each call. For the portable kinds
        (``neuron``, ``synapse``, ``rule``, ``surrogate``): the definition, type-checked as by
        :meth:`neuron` and friends (definitions are immutable data; there is nothing to build).

        Raises:
            PluginLoadError: The target could not be imported, is not callable, or (portable
                kinds) is not a definition of the right type.
            UnknownComponentError, PluginConflictError, IncompatiblePluginError: see
                :meth:`entry`.
        """
        if kind in _TYPED_KINDS:
            return self._typed(kind, name)
        factory = self.load(kind, name)
        if not callable(factory):
            entry = self.entry(kind, name)
            raise PluginLoadError(
                f"{kind} {name!r} from {entry.target!r} is a {type(factory).__name__}, which "
                f"cannot be called; the target of a {kind} must name a class (or factory) "
                "taking no arguments",
                plugin=entry.plugin,
                target=entry.target,
                kind=kind,
                name=name,
            )
        return factory()

    def neuron(self, name: str) -> NeuronModel:
        """The neuron model registered as ``name`` (``"lif"``).

        Raises:
            PluginLoadError: The target is not a :class:`~neuropil.NeuronModel`, or failed to
                import.
            UnknownComponentError: No such model (see :meth:`entry` for the other errors).
        """
        model: NeuronModel = self._typed("neuron", name)
        return model

    def synapse(self, name: str) -> SynapseModel:
        """The synapse model registered as ``name`` (``"exponential"``); errors as
        :meth:`neuron`."""
        model: SynapseModel = self._typed("synapse", name)
        return model

    def rule(self, name: str) -> LearningRule:
        """The learning rule registered as ``name`` (``"stdp"``); errors as :meth:`neuron`."""
        rule: LearningRule = self._typed("rule", name)
        return rule

    def surrogate(self, name: str) -> SurrogateDefinition:
        """The surrogate gradient registered as ``name`` (``"fast_sigmoid"``); errors as
        :meth:`neuron`."""
        surrogate: SurrogateDefinition = self._typed("surrogate", name)
        return surrogate

    def _typed(self, kind: str, name: str) -> Any:
        obj = self.load(kind, name)
        expected = _TYPED_KINDS[kind]
        if not isinstance(obj, expected):
            entry = self.entry(kind, name)
            raise PluginLoadError(
                f"{kind} {name!r} from {entry.target!r} is a {type(obj).__name__}, not a "
                f"neuropil.{expected.__name__}; the target of a {kind} must name a "
                f"{expected.__name__} instance (ask the author of {entry.owner} to fix it)",
                plugin=entry.plugin,
                target=entry.target,
                kind=kind,
                name=name,
            )
        return obj

    # -- why a name is missing -----------------------------------------------------------------

    def _why_missing(self, kind: str, name: str, index: _Index) -> NeuropilError:
        claimants = index.conflicts.get((kind, name))
        if claimants:
            return PluginConflictError(kind, name, [e.owner for e in claimants])
        refused = index.refused.get((kind, name))
        if refused:
            entry, cause = refused[0]
            if isinstance(cause, IncompatiblePluginError):
                return IncompatiblePluginError(
                    cause.plugin, cause.distribution, cause.required, cause.provided
                )
            err = PluginLoadError(
                f"{kind} {name!r} is refused: {cause}",
                plugin=entry.plugin,
                target=entry.target,
                kind=kind,
                name=name,
            )
            err.__cause__ = cause
            return err
        choices = self.names(kind)
        first_party = FIRST_PARTY_PLUGINS.get(kind, {})
        # First-party names are suggested even when not installed: 'troch' -> 'torch'.
        suggestions = difflib.get_close_matches(
            name, sorted((set(choices) | set(first_party)) - {name}), n=3, cutoff=0.6
        )
        dist = first_party.get(name)
        hint_for = name
        if dist is None and suggestions and suggestions[0] not in choices:
            hint_for = suggestions[0]
            dist = first_party[hint_for]
        hint = None
        if dist is not None:
            with self._lock:
                ours = [p for p in self._plugins.values() if p.distribution == dist]
            broken = [p for p in ours if p.error is not None]
            if broken:
                err = PluginLoadError(
                    f"{kind} {name!r} is unavailable: its plugin {broken[0].name!r} "
                    f"({broken[0].owner}) failed to load: {broken[0].error}",
                    plugin=broken[0].name,
                    target=_module_name(broken[0].obj),
                    kind=kind,
                    name=name,
                )
                err.__cause__ = broken[0].error
                return err
            if not ours:
                hint = f"pip install {dist}"
        return UnknownComponentError(kind, name, choices, suggestions, hint, hint_for)


# -- discovery helpers ---------------------------------------------------------------------------


def _is_core(entry: RegistryEntry) -> bool:
    """Whether ``entry`` is one of the core's own built-ins."""
    return entry.distribution == "neuropil" and entry.plugin == "builtins"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, list(KINDS), n=1)
        raise UnknownComponentError("kind", kind, list(KINDS), close)


def _module_name(obj: object) -> str:
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else type(obj).__name__


def _import_error(
    ep: EntryPoint, name: str, dist: str | None, version: str | None, exc: Exception
) -> PluginLoadError:
    err = PluginLoadError(
        f"could not import plugin {name!r} ({_owner(name, dist, version)}) from {ep.value!r}: "
        f"{type(exc).__name__}: {exc}",
        plugin=name,
        target=ep.value,
    )
    err.__cause__ = exc
    return err


def _check_api(obj: object, name: str, owner: str) -> NeuropilError | None:
    declared = getattr(obj, "NEUROPIL_PLUGIN_API", None)
    where = _module_name(obj)
    if declared is None:
        return PluginLoadError(
            f"plugin {name!r} ({owner}) does not declare the neuropil plugin API it was built "
            f"for, so it is refused; to fix, add this line to module {where!r}: {_API_LINE}",
            plugin=name,
            target=where,
        )
    if not (
        isinstance(declared, tuple | list)
        and len(declared) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in declared)
    ):
        return PluginLoadError(
            f"plugin {name!r} ({owner}) declares NEUROPIL_PLUGIN_API = {declared!r}, which is not "
            f"a (major, minor) pair of integers, so it is refused; to fix, write in module "
            f"{where!r}: {_API_LINE}",
            plugin=name,
            target=where,
        )
    major, minor = int(declared[0]), int(declared[1])
    if major != PLUGIN_API_VERSION[0] or minor > PLUGIN_API_VERSION[1]:
        return IncompatiblePluginError(name, owner, (major, minor), PLUGIN_API_VERSION)
    return None


def _call_hook(function: Any, hook: str, info: _Plugin) -> list[RegistryEntry]:
    """Call one hook implementation of one plugin and turn its result into entries."""

    def broken(why: str) -> PluginLoadError:
        return PluginLoadError(
            f"plugin {info.name!r} ({info.owner}) is broken: its hook {hook} {why}",
            plugin=info.name,
            target=_module_name(info.obj),
        )

    try:
        result = function()
    except Exception as exc:
        raise broken(f"raised {type(exc).__name__}: {exc}") from exc
    if result is None:
        return []
    if not isinstance(result, list | tuple):
        raise broken(
            f"returned a {type(result).__name__}; it must return a list of neuropil.Component"
        )
    kind = _HOOK_KIND[hook]
    entries = []
    for item in result:
        if not isinstance(item, Component):
            raise broken(
                f"returned {item!r}, which is not a neuropil.Component; return "
                "Component(name, 'package.module:attr', summary) for each component"
            )
        if not isinstance(item.name, str) or not _NAME_RE.fullmatch(item.name):
            raise broken(
                f"returned the {kind} name {item.name!r}; names use only lower-case letters, "
                "digits and '_' (e.g. 'my_lif')"
            )
        if not isinstance(item.target, str) or not _TARGET_RE.fullmatch(item.target):
            raise broken(
                f"returned {kind} {item.name!r} with target {item.target!r}; a target is "
                "'package.module:attr' (e.g. 'my_plugin.models:LIF')"
            )
        entries.append(
            RegistryEntry(
                kind,
                item.name,
                item.target,
                str(item.summary or ""),
                info.name,
                info.distribution,
                info.version,
            )
        )
    return entries


def _components_best_effort(obj: object, info: _Plugin) -> list[RegistryEntry]:
    """The components of a plugin refused for its API version, read without pluggy; empty when
    they cannot be read (the plugin may use hooks of another API)."""
    entries: list[RegistryEntry] = []
    for hook in _HOOK_KIND:
        function = getattr(obj, hook, None)
        if function is None or not hasattr(function, "neuropil_impl"):
            continue
        try:
            entries += _call_hook(function, hook, info)
        except PluginLoadError:
            return []
    return entries


# -- the process-wide registry -------------------------------------------------------------------

_current: Registry | None = None
_current_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry, discovering installed plugins on first call.

    Inside a :func:`use_registry` block, the registry given to it.
    """
    global _current
    with _current_lock:
        if _current is None:
            _current = Registry()
        return _current


@contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide registry for the ``with`` block, then restore the
    previous one (tests, the testkit, notebooks experimenting with a hand-made plugin)::

        reg = Registry(discover=False)
        reg.register_plugin(my_module, "mine")
        with use_registry(reg):
            net.validate()          # sees only "mine"
    """
    global _current
    with _current_lock:
        previous = _current
        _current = registry
    try:
        yield registry
    finally:
        with _current_lock:
            _current = previous
