"""Portable component definitions: neuron models, synapse models, learning rules, surrogates.

A definition is a schema plus pure functions written against :class:`~neuropil.Ops`. The same
definition runs on every backend. Rules for a ``step`` (checked by the testkit):

* pure: returns new state, never mutates its inputs;
* traceable: no Python branching on array values, no host round trip (``float(x)``, ``.item()``);
* random only through ``ctx.key`` with ``ops.normal`` / ``ops.uniform``.

Shapes: neuron and synapse state arrays are ``[B, N]`` (batch, neurons of the population);
parameters are scalars or per-neuron ``[N]`` arrays that broadcast against them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from neuropil._ops import Array, Ops, StepContext
from neuropil._schema import Option, Param, Schema, StateVar

__all__ = [
    "BoundSurrogate",
    "LearningRule",
    "NeuronModel",
    "NeuronStep",
    "RuleStep",
    "SurrogateDefinition",
    "SynapseModel",
    "SynapseStep",
    "SynapseView",
]

#: ``step(ops, params, options, state, current, ctx) -> (new_state, output)``
NeuronStep = Callable[
    [Ops, Mapping[str, Array], Mapping[str, Any], Mapping[str, Array], Array, StepContext],
    tuple[dict[str, Array], Array],
]
#: ``step(ops, params, options, state, arriving, ctx) -> (new_state, current)``
SynapseStep = Callable[
    [Ops, Mapping[str, Array], Mapping[str, Any], Mapping[str, Array], Array, StepContext],
    tuple[dict[str, Array], Array],
]


class SynapseView(Protocol):
    """Per-synapse views of per-neuron arrays, supplied by the engine to learning rules.

    For a dense projection the per-synapse layout is ``[B, N_post, N_pre]`` (by broadcasting);
    for a sparse, list or one-to-one projection it is ``[B, nnz]``.
    """

    def pre(self, x: Array) -> Array:
        """The pre-synaptic neuron's value of ``x`` (``[B, N_pre]``) at every synapse."""
        ...

    def post(self, x: Array) -> Array:
        """The post-synaptic neuron's value of ``x`` (``[B, N_post]``) at every synapse."""
        ...


#: ``step(ops, params, options, state, weights, pre, post, view, ctx) -> (new_state, new_weights)``
#: ``state`` holds the rule's traces: names in ``pre_state`` are ``[B, N_pre]``, names in
#: ``post_state`` are ``[B, N_post]``. ``pre`` are the spikes arriving at the synapses this step
#: (after the projection's delay), ``post`` the post-synaptic spikes of this step. ``weights`` and
#: ``new_weights`` are in the projection's per-synapse layout without a batch axis: a rule averages
#: its change over the batch.
RuleStep = Callable[
    [
        Ops,
        Mapping[str, Array],
        Mapping[str, Any],
        Mapping[str, Array],
        Array,
        Array,
        Array,
        SynapseView,
        StepContext,
    ],
    tuple[dict[str, Array], Array],
]


@dataclass(frozen=True)
class NeuronModel:
    """A portable neuron model.

    Attributes:
        name: The registry name (``"lif"``).
        params: Parameter schema, by name.
        options: Discrete choices, by name.
        state: State variables, by name; each is ``[B, N]``.
        output: ``"spikes"`` for a spiking model, else the name of the state variable that the
            population sends through its projections (``"v"`` for ``li``).
        step: The discrete-time update, see :data:`NeuronStep`.
        doc: The model's documentation, with its exact "Discrete update" block.
    """

    name: str
    params: dict[str, Param]
    state: dict[str, StateVar]
    step: NeuronStep
    doc: str
    options: dict[str, Option] = field(default_factory=dict)
    output: str = "spikes"

    @property
    def schema(self) -> Schema:
        """The model's :class:`Schema`."""
        return Schema(self.params, self.options, self.state)

    @property
    def spiking(self) -> bool:
        """Whether the population's output is spikes."""
        return self.output == "spikes"


@dataclass(frozen=True)
class SynapseModel:
    """A portable synapse model (post-synaptic, one state per post-synaptic neuron).

    The engine sums the weighted spikes arriving at each post-synaptic neuron in a step
    (``arriving``, ``[B, N_post]``) and the model turns them into the current it adds to the
    neuron's input.

    Attributes:
        name: The registry name (``"exponential"``).
        params: Parameter schema, by name.
        options: Discrete choices, by name.
        state: State variables, by name; each is ``[B, N_post]``.
        step: The discrete-time update, see :data:`SynapseStep`.
        doc: The model's documentation, with its exact "Discrete update" block.
    """

    name: str
    params: dict[str, Param]
    state: dict[str, StateVar]
    step: SynapseStep
    doc: str
    options: dict[str, Option] = field(default_factory=dict)

    @property
    def schema(self) -> Schema:
        """The model's :class:`Schema`."""
        return Schema(self.params, self.options, self.state)


@dataclass(frozen=True)
class LearningRule:
    """A portable local learning rule written on traces.

    Attributes:
        name: The registry name (``"stdp"``).
        params: Parameter schema, by name (scalars only).
        options: Discrete choices, by name.
        pre_state: Traces kept per pre-synaptic neuron, ``[B, N_pre]``.
        post_state: Traces kept per post-synaptic neuron, ``[B, N_post]``.
        step: The update, see :data:`RuleStep`.
        doc: The rule's documentation, with its exact "Discrete update" block.
    """

    name: str
    params: dict[str, Param]
    pre_state: dict[str, StateVar]
    post_state: dict[str, StateVar]
    step: RuleStep
    doc: str
    options: dict[str, Option] = field(default_factory=dict)

    @property
    def schema(self) -> Schema:
        """The rule's :class:`Schema` (its state is the pre- and post-synaptic traces)."""
        return Schema(self.params, self.options, {**self.pre_state, **self.post_state})


@dataclass(frozen=True)
class SurrogateDefinition:
    """A surrogate gradient for the spike nonlinearity.

    Attributes:
        name: The registry name (``"fast_sigmoid"``).
        params: Parameter schema (e.g. ``slope``), scalars only.
        derivative: ``derivative(ops, x, params) -> d spike / d x``.
        doc: The exact formula.
    """

    name: str
    params: dict[str, Param]
    derivative: Callable[[Ops, Array, Mapping[str, float]], Array]
    doc: str

    def bind(self, **values: float) -> BoundSurrogate:
        """This surrogate with its parameters fixed (defaults for those not given)."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise ValueError(
                f"surrogate {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                f"it has: {', '.join(sorted(self.params)) or 'none'}"
            )
        full = {k: float(values.get(k, p.default)) for k, p in self.params.items()}
        return BoundSurrogate(self, full)


@dataclass(frozen=True)
class BoundSurrogate:
    """A surrogate definition with its parameter values: what ``ops.spike`` receives."""

    definition: SurrogateDefinition
    values: Mapping[str, float]

    @property
    def name(self) -> str:
        """The surrogate's registry name."""
        return self.definition.name

    def derivative(self, ops: Ops, x: Array) -> Array:
        """``d spike / d x`` at ``x``."""
        return self.definition.derivative(ops, x, self.values)
