"""Light descriptors of what a plugin provides."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "PLUGIN_API_VERSION", "Component"]

#: The plugin API version this core provides, ``(major, minor)``. A plugin declares the version
#: it was built for as ``NEUROPIL_PLUGIN_API = (major, minor)`` in its entry-point module; the
#: registry accepts it when the majors are equal and the plugin's minor is not newer.
PLUGIN_API_VERSION: tuple[int, int] = (1, 0)

#: Component kinds, each with its hook (see :mod:`neuropil.hookspecs`).
KINDS: dict[str, str] = {
    "neuron": "neuropil_neuron_models",
    "synapse": "neuropil_synapse_models",
    "rule": "neuropil_learning_rules",
    "surrogate": "neuropil_surrogates",
    "backend": "neuropil_backends",
    "target": "neuropil_targets",
    "dataset": "neuropil_datasets",
    "encoder": "neuropil_encoders",
    "analysis": "neuropil_analyses",
}


@dataclass(frozen=True)
class Component:
    """What a hook returns for one component: light data, nothing imported.

    Attributes:
        name: The registry name users type (``"torch"``, ``"lif"``); lower case, ``[a-z0-9_]``.
        target: ``"package.module:attr"``: the object to load on first use. For neuron and
            synapse models, learning rules and surrogates it is a definition object; for
            backends, targets, datasets, encoders and analyses a class (or factory) called with
            no arguments.
        summary: One line shown by ``neuropil plugins``.
    """

    name: str
    target: str
    summary: str = ""
