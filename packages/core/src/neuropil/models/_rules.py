"""The standard local learning rules: ``stdp`` and ``oja``.

A rule keeps traces per pre-synaptic neuron (``[B, N_pre]``) and per post-synaptic neuron
(``[B, N_post]``); ``view.pre`` / ``view.post`` spread them onto the synapses (``[B, N_post,
N_pre]`` for dense projections, ``[B, nnz]`` otherwise). ``pre`` are the spikes arriving at the
synapses this step (after the projection's delay), ``post`` the post-synaptic output of this step.
Weights ``w`` have no batch axis: the change is averaged over the batch. The new weights act from
the next step.

Each definition's ``doc`` holds its exact "Discrete update" block, which the code follows
line for line; docs/models.md shows the same blocks (a test keeps the two identical).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuropil._models import LearningRule, SynapseView
from neuropil._ops import Array, Ops, StepContext
from neuropil._schema import Option, Param, StateVar
from neuropil.models._lookup import option, param

__all__ = ["OJA", "STDP"]


def _tau(default: float, doc: str) -> Param:
    # STDP windows are ~10-40 ms (Bi & Poo 1998), the slow traces of triplet rules a few hundred
    # ms (Pfister & Gerstner 2006), rate estimates tens to hundreds of ms: a second or more is a
    # unit slip far more often than a choice (tau_plus=20 meant as 20 ms), warned as UnitWarning.
    return Param(
        default,
        "s",
        doc,
        low=0.0,
        high=10.0,
        low_inclusive=False,
        per_neuron=False,
        typical=(0.0, 1.0),
    )


# -------------------------------------------------------------------------------------- stdp

_STDP_OPTIONS = {
    "weight_dependence": Option(
        "additive",
        ("additive", "multiplicative"),
        "'additive': dw does not depend on w (then clipped to [w_min, w_max]); 'multiplicative': "
        "potentiation scaled by w_max - w and depression by w - w_min (soft bounds)",
    ),
}


def _stdp_step(
    ops: Ops,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    w: Array,
    pre: Array,
    post: Array,
    view: SynapseView,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``stdp``; see :data:`STDP`'s doc for the exact update."""
    dependence = option(options, _STDP_OPTIONS, "weight_dependence", "stdp")
    a_plus = param(ops, params, "a_plus", "stdp")
    a_minus = param(ops, params, "a_minus", "stdp")
    tau_plus = param(ops, params, "tau_plus", "stdp")
    tau_minus = param(ops, params, "tau_minus", "stdp")
    w_min = param(ops, params, "w_min", "stdp")
    w_max = param(ops, params, "w_max", "stdp")

    x1 = state["x"] * ops.exp(-ctx.dt / tau_plus)
    y1 = state["y"] * ops.exp(-ctx.dt / tau_minus)
    ltd = a_minus * view.post(y1) * view.pre(pre)
    x_new = x1 + pre
    ltp = a_plus * view.pre(x_new) * view.post(post)
    y_new = y1 + post
    dw = ltp - ltd if dependence == "additive" else ltp * (w_max - w) - ltd * (w - w_min)
    w_new = ops.clip(w + ops.mean(dw, axis=0), w_min, w_max)
    return {"x": x_new, "y": y_new}, w_new


STDP = LearningRule(
    name="stdp",
    params={
        "a_plus": Param(
            0.01,
            "1",
            "potentiation per pre-before-post pair (in weight units)",
            low=0.0,
            per_neuron=False,
        ),
        "a_minus": Param(
            0.0105,
            "1",
            "depression per post-before-pre pair (in weight units)",
            low=0.0,
            per_neuron=False,
        ),
        "tau_plus": _tau(20e-3, "time constant of the pre-synaptic trace x (potentiation)"),
        "tau_minus": _tau(20e-3, "time constant of the post-synaptic trace y (depression)"),
        "w_min": Param(0.0, "1", "lowest weight (in weight units)", per_neuron=False),
        "w_max": Param(1.0, "1", "highest weight (in weight units)", per_neuron=False),
    },
    options=_STDP_OPTIONS,
    pre_state={"x": StateVar("1", "pre-synaptic trace: decaying sum of pre spikes", 0.0)},
    post_state={"y": StateVar("1", "post-synaptic trace: decaying sum of post spikes", 0.0)},
    step=_stdp_step,
    doc="""Pair-based spike-timing-dependent plasticity, all-to-all pairing, on traces.

Within a step the traces decay, then the pre spikes act (depression, read from the post trace,
then added to the pre trace), then the post spikes act (potentiation, read from the pre trace
that already holds this step's pre spikes, then added to the post trace): Brian2's order with
on_pre before on_post.

Discrete update (stdp):
    x1 = x * exp(-dt / tau_plus)
    y1 = y * exp(-dt / tau_minus)
    ltd = a_minus * view.post(y1) * view.pre(pre)
    x' = x1 + pre
    ltp = a_plus * view.pre(x') * view.post(post)
    y' = y1 + post
    weight_dependence="additive":       dw = ltp - ltd
    weight_dependence="multiplicative": dw = ltp * (w_max - w) - ltd * (w - w_min)
    w' = clip(w + mean_B(dw), w_min, w_max)

For one pre spike arriving at step t_pre and one post spike at step t_post, the additive rule
changes the weight by exactly a_plus * exp(-(t_post - t_pre) * dt / tau_plus) if t_post >= t_pre
(simultaneous spikes potentiate), and by -a_minus * exp(-(t_pre - t_post) * dt / tau_minus) if
t_post < t_pre. Every pair of spikes contributes (all-to-all). The defaults
follow Song, Miller & Abbott (2000): a_minus / a_plus = 1.05, tau_plus = tau_minus = 20 ms.
Options: weight_dependence="additive" (default) or "multiplicative" (Gütig et al. 2003 with
mu = 1, van Rossum et al. 2000 style soft bounds), using the weights before the step.

State: x (per pre-synaptic neuron), y (per post-synaptic neuron), both starting at 0.
""",
)


# --------------------------------------------------------------------------------------- oja


def _oja_step(
    ops: Ops,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    w: Array,
    pre: Array,
    post: Array,
    view: SynapseView,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``oja``; see :data:`OJA`'s doc for the exact update."""
    eta = param(ops, params, "eta", "oja")
    tau = param(ops, params, "tau", "oja")

    k = 1 - ops.exp(-ctx.dt / tau)
    x_new = state["x"] + k * (pre - state["x"])
    y_new = state["y"] + k * (post - state["y"])
    xs = view.pre(x_new)
    ys = view.post(y_new)
    w_new = w + ops.mean(eta * (ys * xs - ys * ys * w), axis=0)
    return {"x": x_new, "y": y_new}, w_new


OJA = LearningRule(
    name="oja",
    params={
        "eta": Param(1e-3, "1", "learning rate (per step)", low=0.0, per_neuron=False),
        "tau": _tau(20e-3, "time constant of the rate estimates x and y"),
    },
    pre_state={"x": StateVar("1", "pre-synaptic rate estimate (running mean of pre)", 0.0)},
    post_state={"y": StateVar("1", "post-synaptic rate estimate (running mean of post)", 0.0)},
    step=_oja_step,
    doc="""Oja's rule (Oja 1982): Hebbian learning with a decay that keeps each post-synaptic
neuron's weight vector at unit norm.

The traces x and y are exponential running means of the pre and post activity (spikes per
step for spiking populations, the value itself for rate or readout populations). For a linear
post neuron, y = w . x, the weights converge to the principal eigenvector of the inputs'
correlation matrix, with unit norm.

Discrete update (oja):
    k = 1 - exp(-dt / tau)
    x' = x + k * (pre - x)
    y' = y + k * (post - y)
    xs = view.pre(x')
    ys = view.post(y')
    w' = w + mean_B(eta * (ys * xs - ys * ys * w))

A tau much smaller than dt makes k = 1 and the rule act on the instantaneous activity.

State: x (per pre-synaptic neuron), y (per post-synaptic neuron), both starting at 0.
""",
)
