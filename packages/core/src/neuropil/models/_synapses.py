"""The standard synapse models: ``delta`` and ``exponential``.

A synapse model turns the weighted spikes arriving at each post-synaptic neuron in a step
(``arriving[b, j] = sum_i w[j, i] * pre[t - d][b, i]``, in amperes) into the current that the
neuron receives in the same step.

Each definition's ``doc`` holds its exact "Discrete update" block, which the code follows
line for line; docs/models.md shows the same blocks (a test keeps the two identical).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuropil._models import SynapseModel
from neuropil._ops import Array, Ops, StepContext
from neuropil._schema import Param, StateVar
from neuropil.models._lookup import param

__all__ = ["DELTA", "EXPONENTIAL"]


def _delta_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    arriving: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``delta``: the arriving weighted spikes are the current."""
    return {}, arriving


DELTA = SynapseModel(
    name="delta",
    params={},
    state={},
    step=_delta_step,
    doc="""Instantaneous synapse: each weighted spike is a current for the one step it arrives in.

Discrete update (delta):
    current = arriving

With lif's default integration a weight w (A) arriving at a neuron at rest raises v, at the end
of the step, by r * w * (1 - exp(-dt / tau_mem)); with integration="add_after_decay" by r * w
(as snnTorch's Leaky adds its input).

State: none.
""",
)


def _exponential_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    arriving: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``exponential``; see :data:`EXPONENTIAL`'s doc for the exact update."""
    tau_syn = param(ops, params, "tau_syn", "exponential")
    i_new = state["i"] * ops.exp(-ctx.dt / tau_syn) + arriving
    return {"i": i_new}, i_new


EXPONENTIAL = SynapseModel(
    name="exponential",
    params={
        "tau_syn": Param(
            5e-3,
            "s",
            "decay time constant of the synaptic current",
            low=0.0,
            high=10.0,
            low_inclusive=False,
            # AMPA ~5 ms to NMDA / GABA-B ~300 ms: a second or more is a unit slip far more
            # often than a choice (tau_syn=5 meant as 5 ms); it validates with a UnitWarning.
            typical=(0.0, 1.0),
        ),
    },
    state={"i": StateVar("A", "synaptic current", 0.0)},
    step=_exponential_step,
    doc="""Current-based synapse with an exponentially decaying current.

A spike of weight w arriving at step k gives the current w at step k, w exp(-dt / tau_syn) at
step k + 1, w exp(-2 dt / tau_syn) at k + 2, and so on (the jump is w, not w / tau_syn: w is
the peak current).

Discrete update (exponential):
    i' = i * exp(-dt / tau_syn) + arriving
    current = i'

State: i (A, starts at 0).
""",
)
