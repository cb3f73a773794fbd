"""neuropil: one coherent, typed system for brain-inspired computing.

The core holds the registry of components (found through plugins), the network IR, the portable
model definitions and their standard library, the reference engine (``numpy``), and the
experiment runner. It never imports torch or jax.
"""

from __future__ import annotations

from neuropil import errors
from neuropil._api import compile, simulate
from neuropil._batching import epoch_order, iterate_batches, pad_batch
from neuropil._descriptors import KINDS, PLUGIN_API_VERSION, Component
from neuropil._engine_support import (
    DelayGroup,
    check_input_layout,
    check_inputs,
    check_parameter_values,
    delay_groups,
    synapse_view,
)
from neuropil._models import (
    BoundSurrogate,
    LearningRule,
    NeuronModel,
    SurrogateDefinition,
    SynapseModel,
    SynapseView,
)
from neuropil._network import (
    Connectivity,
    Input,
    Network,
    Plasticity,
    Population,
    Probe,
    Projection,
    WeightInit,
)
from neuropil._ops import Ops, StepContext
from neuropil._registry import PluginProblem, Registry, RegistryEntry, get_registry, use_registry
from neuropil._resolve import resolve
from neuropil._resolve_types import (
    ResolvedInput,
    ResolvedNetwork,
    ResolvedPlasticity,
    ResolvedPopulation,
    ResolvedProbe,
    ResolvedProjection,
)
from neuropil._schema import UNITS, Option, Param, Schema, StateInit, StateVar, initial_state
from neuropil._training import (
    RateTarget,
    TrainingConfig,
    checkpoint_metadata,
    checkpoint_path,
    read_checkpoint_metadata,
)
from neuropil.hookspecs import hookimpl, hookspec
from neuropil.protocols import SimulationResult

__version__ = "0.1.1"

__all__ = [
    "KINDS",
    "PLUGIN_API_VERSION",
    "UNITS",
    "BoundSurrogate",
    "Component",
    "Connectivity",
    "DelayGroup",
    "Input",
    "LearningRule",
    "Network",
    "NeuronModel",
    "Ops",
    "Option",
    "Param",
    "Plasticity",
    "PluginProblem",
    "Population",
    "Probe",
    "Projection",
    "Registry",
    "RegistryEntry",
    "ResolvedInput",
    "ResolvedNetwork",
    "ResolvedPlasticity",
    "ResolvedPopulation",
    "ResolvedProbe",
    "ResolvedProjection",
    "RateTarget",
    "Schema",
    "SimulationResult",
    "StateInit",
    "StateVar",
    "StepContext",
    "SurrogateDefinition",
    "SynapseModel",
    "SynapseView",
    "TrainingConfig",
    "WeightInit",
    "__version__",
    "check_input_layout",
    "check_inputs",
    "check_parameter_values",
    "checkpoint_metadata",
    "checkpoint_path",
    "compile",
    "delay_groups",
    "epoch_order",
    "errors",
    "get_registry",
    "hookimpl",
    "hookspec",
    "initial_state",
    "iterate_batches",
    "pad_batch",
    "read_checkpoint_metadata",
    "resolve",
    "simulate",
    "synapse_view",
    "use_registry",
]
