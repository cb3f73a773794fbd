"""The hook specifications: the whole contract between the core and a plugin.

A plugin is a distribution with an entry point in group ``neuropil`` whose value is a module.
The module:

* declares ``NEUROPIL_PLUGIN_API = (1, 0)``, the plugin API it was built for;
* implements any of the hooks below with ``@neuropil.hookimpl``;
* imports nothing heavy at module level: each hook returns :class:`~neuropil.Component`
  descriptors whose ``target`` (``"module:attr"``) is imported only when the component is used.

Every hook is called once per registry discovery, with no arguments, and its results are
collected from all plugins (not first-result). Two plugins returning the same name for one kind
are both refused. The core's own components come in through the same hooks, from the entry
point ``builtins = "neuropil._builtins"``.

Phases: discovery (``neuropil plugins`` lists what these hooks return, importing no target);
use (the registry imports one ``target`` when a network, experiment or user asks for it by name).
"""

from __future__ import annotations

import pluggy

from neuropil._descriptors import Component

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("neuropil")
hookimpl = pluggy.HookimplMarker("neuropil")


# -- portable components ----------------------------------------------------------------------


@hookspec
def neuropil_neuron_models() -> list[Component]:  # type: ignore[empty-body]
    """Return the neuron models this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a :class:`~neuropil.NeuronModel`. A model registered here runs on every
    installed backend through its portable ``step``.

    Implemented by: the core (``lif``, ``cuba_lif``, ``alif``, ``izhikevich``, ``li``, ``if``)
    and model plugins.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_synapse_models() -> list[Component]:  # type: ignore[empty-body]
    """Return the synapse models this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a :class:`~neuropil.SynapseModel`.

    Implemented by: the core (``delta``, ``exponential``) and model plugins.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_learning_rules() -> list[Component]:  # type: ignore[empty-body]
    """Return the local learning rules this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a :class:`~neuropil.LearningRule`.

    Implemented by: the core (``stdp``, ``oja``) and model plugins.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_surrogates() -> list[Component]:  # type: ignore[empty-body]
    """Return the surrogate gradients this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a :class:`~neuropil.SurrogateDefinition`.

    Implemented by: the core (``fast_sigmoid``, ``arctan``, ``triangle``).

    .. versionadded:: 0.1 (plugin API 1.0)
    """


# -- engines ----------------------------------------------------------------------------------


@hookspec
def neuropil_backends() -> list[Component]:  # type: ignore[empty-body]
    """Return the simulation backends this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a class implementing :class:`~neuropil.protocols.Backend`, constructed
    with no arguments on first use.

    Implemented by: the core (``numpy``, the reference engine), ``neuropil-torch``,
    ``neuropil-jax``.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_targets() -> list[Component]:  # type: ignore[empty-body]
    """Return the hardware targets this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a class implementing :class:`~neuropil.protocols.HardwareTarget`.

    Implemented by: ``neuropil-spinnaker``, ``neuropil-loihi``.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_datasets() -> list[Component]:  # type: ignore[empty-body]
    """Return the datasets this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a class implementing :class:`~neuropil.protocols.Dataset`.

    Implemented by: ``neuropil-datasets``.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_encoders() -> list[Component]:  # type: ignore[empty-body]
    """Return the spike encoders this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a class implementing :class:`~neuropil.protocols.Encoder`.

    Implemented by: ``neuropil-datasets``.

    .. versionadded:: 0.1 (plugin API 1.0)
    """


@hookspec
def neuropil_analyses() -> list[Component]:  # type: ignore[empty-body]
    """Return the analyses this plugin provides.

    Called once at discovery. Results from all plugins are concatenated.

    Each ``target`` names a class implementing :class:`~neuropil.protocols.Analysis`.

    Implemented by: ``neuropil-interp``.

    .. versionadded:: 0.1 (plugin API 1.0)
    """
