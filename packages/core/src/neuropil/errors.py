"""Error families of neuropil.

Every error a user can cause is one of these. Each carries its data as attributes and a message
that says what failed, where, the likely cause and the one-line fix.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "DatasetError",
    "EngineError",
    "ExperimentError",
    "IncompatiblePluginError",
    "NetworkValidationError",
    "NeuropilError",
    "PluginConflictError",
    "PluginLoadError",
    "SerializationError",
    "UnitWarning",
    "UnknownComponentError",
]


class NeuropilError(Exception):
    """Base class of every error neuropil raises on purpose."""


class UnknownComponentError(NeuropilError, LookupError):
    """No component of ``kind`` is registered under ``name``.

    Attributes:
        kind: The component kind asked for (``"backend"``, ``"neuron"``, ...).
        name: The name that was asked for.
        choices: The installed names of that kind, sorted.
        suggestions: Close matches among ``choices``.
        install_hint: The ``pip install`` line of the first-party plugin that provides ``name``
            (or the suggested name, when that one is not installed), or ``None``.
        install_for: The name ``install_hint`` provides (``name`` or a suggestion).
    """

    def __init__(
        self,
        kind: str,
        name: str,
        choices: Sequence[str],
        suggestions: Sequence[str] = (),
        install_hint: str | None = None,
        install_for: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(choices)
        self.suggestions = list(suggestions)
        self.install_hint = install_hint
        self.install_for = install_for if install_for is not None else name
        msg = f"no {kind} named {name!r}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        # "did you mean 'x'?" already ends the clause; DESIGN.md's exact form follows it with " ".
        msg += " installed: " if self.suggestions else "; installed: "
        msg += ", ".join(self.choices) if self.choices else "none"
        if install_hint:
            msg += f". {self.install_for!r} is provided by a plugin: {install_hint}"
        super().__init__(msg)


class PluginLoadError(NeuropilError, ImportError):
    """A plugin, or one of its components, could not be imported.

    Attributes:
        plugin: The plugin (entry point) name.
        target: The ``"module:attr"`` that failed, or the entry point value.
        kind: The component kind, or ``None`` when the whole plugin failed.
        name: The component name, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        target: str,
        kind: str | None = None,
        name: str | None = None,
    ) -> None:
        # ImportError.__init__ resets ``self.name``: call it before setting the attributes.
        super().__init__(message)
        self.plugin = plugin
        self.target = target
        self.kind = kind
        self.name = name


class PluginConflictError(NeuropilError):
    """Two plugins claim the same ``(kind, name)``; both are refused, unless one of them is the
    core's own built-in, which is kept (a plugin cannot switch off ``lif``).

    Attributes:
        kind: The component kind.
        name: The contested name.
        owners: The plugins (``"dist version"``) that claim it.
        kept: The owner whose component is kept (the core), or ``None`` when all are refused.
    """

    def __init__(
        self, kind: str, name: str, owners: Sequence[str], kept: str | None = None
    ) -> None:
        self.kind = kind
        self.name = name
        self.owners = list(owners)
        self.kept = kept
        if kept is None:
            message = (
                f"{kind} {name!r} is provided by more than one plugin "
                f"({' and '.join(self.owners)}); both are refused. Uninstall one of them, or "
                "ask its author to rename the component."
            )
        else:
            others = " and ".join(o for o in self.owners if o != kept)
            message = (
                f"{kind} {name!r} is a built-in of {kept}; the {kind} of the same name from "
                f"{others} is refused. Ask its author to rename it."
            )
        super().__init__(message)


class IncompatiblePluginError(NeuropilError):
    """A plugin was built for a plugin-API version this core does not provide.

    Attributes:
        plugin: The plugin's entry point name.
        distribution: The distribution (``"name version"``) that provides it.
        required: The API version the plugin declares, as ``(major, minor)``.
        provided: The API version of this core, as ``(major, minor)``.
    """

    def __init__(
        self,
        plugin: str,
        distribution: str,
        required: tuple[int, int],
        provided: tuple[int, int],
    ) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.required = required
        self.provided = provided
        req = f"{required[0]}.{required[1]}"
        have = f"{provided[0]}.{provided[1]}"
        if required[0] > provided[0] or (required[0] == provided[0] and required[1] > provided[1]):
            fix = "upgrade neuropil (pip install -U neuropil)"
        else:
            fix = f"install a release of {distribution.split()[0]} built for plugin API {have}"
        super().__init__(
            f"plugin {plugin!r} ({distribution}) needs neuropil plugin API {req}, "
            f"but this core provides plugin API {have}; it is refused. To fix: {fix}."
        )


class NetworkValidationError(NeuropilError, ValueError):
    """A network description is invalid.

    Attributes:
        problems: One ``(path, message)`` pair per problem, e.g.
            ``("projections[2].synapse", "unknown synapse model 'expo'; did you mean ...")``.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        lines = [f"{path}: {message}" for path, message in self.problems]
        if len(lines) == 1:
            text = lines[0]
        else:
            text = f"{len(lines)} problems in the network:\n  " + "\n  ".join(lines)
        super().__init__(text)


class SerializationError(NeuropilError, ValueError):
    """A network or experiment file could not be read or written.

    Attributes:
        path: The file concerned, or ``None``.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class EngineError(NeuropilError, RuntimeError):
    """A backend was asked for something it cannot do with the given inputs."""


class DatasetError(NeuropilError):
    """A dataset could not be found, downloaded, verified or read.

    Attributes:
        path: The file concerned, or ``None``.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class ExperimentError(NeuropilError, ValueError):
    """An experiment file is invalid or one of its stages failed.

    Attributes:
        section: The experiment section concerned (``"network"``, ``"training"``...), or ``None``.
    """

    def __init__(self, message: str, section: str | None = None) -> None:
        self.section = section
        super().__init__(message)


class UnitWarning(UserWarning):
    """A value is inside its bounds but outside the range models typically use, so it is more
    likely a unit slip than a choice (``tau_mem=5``: 5 s, where 5 ms was probably meant).

    A warning, not an error: the value is accepted and used as given. The message names the
    place, the typical range and the fix, e.g. ``populations[0].params.tau_mem: 5 s is unusually
    long for tau_mem (typical: up to 1 s); if you meant milliseconds, write 5e-3``.

    Attributes:
        place: Where the value is (``"populations[0].params.tau_mem"``, ``"[stimulus]
            duration"``), or ``None``.
        value: The value concerned, or ``None``.
    """

    def __init__(
        self, message: str, *, place: str | None = None, value: float | None = None
    ) -> None:
        self.place = place
        self.value = value
        super().__init__(message)
