"""The standard neuron models: ``lif``, ``if``, ``li``, ``cuba_lif``, ``alif``, ``izhikevich``.

Conventions shared by every model here:

* SI units. The input ``current`` is in amperes and ``r`` (ohm, default 1) turns it into the
  volts it adds, ``drive = r * (current + bias)``; with the defaults (``r = 1``, ``bias = 0``,
  ``v_rest = v_reset = 0``, ``v_th = 1``) numbers behave as in the dimensionless models of
  snnTorch and Norse.
* ``bias`` (A, default 0, per neuron) is a constant current added to every step's input: the
  bias of an ``nn.Linear`` (snnTorch), of a NIR ``Affine``, Lava's ``bias`` (with ``r = 1``),
  PyNN's ``i_offset``. In ``cuba_lif`` it bypasses the synaptic current and enters the drive
  directly, as Lava's bias does.
* ``spike(x)`` is ``ops.spike(x, surrogate)``: ``1`` where ``x > 0`` (strict), else ``0``, with the
  population's surrogate gradient.
* Primed names are the values after the step; unprimed names the values before it. Decay factors
  are computed from the time constants inside the step, so that they can be trained.
* ``held`` is the refractory hold (Brian2's ``unless refractory``): ``ref`` counts the remaining
  refractory *steps*; a spike sets it to ``round(tau_ref / dt)``; while ``ref > 0`` the membrane
  keeps its value (the input of the step is dropped) and the threshold is not tested.

Each definition's ``doc`` holds its exact "Discrete update" block, which the code follows
line for line; docs/models.md shows the same blocks (a test keeps the two identical).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuropil._models import NeuronModel
from neuropil._ops import Array, Ops, StepContext, SurrogateFn
from neuropil._schema import Option, Param, StateVar
from neuropil.errors import EngineError
from neuropil.models._lookup import option, param

__all__ = ["ALIF", "CUBA_LIF", "IF", "IZHIKEVICH", "LI", "LIF"]

# Bounds double as unit hints: a tau of 20 (meant: ms) or a threshold of -50 (meant: mV) is
# outside them by exactly an SI prefix, and the IR answers "did you mean 20e-3?".
_TAU_LOW, _TAU_HIGH = 0.0, 10.0
_V_LOW, _V_HIGH = -10.0, 10.0
_BIAS_LOW, _BIAS_HIGH = -1e3, 1e3

# Typical ranges catch the unit slips the bounds let through (tau_mem=5 meant as 5 ms): a value
# inside the bounds but outside its typical range validates with a UnitWarning. Membrane and
# synaptic time constants are milliseconds to a few hundred ms (cortical membranes 10-100 ms,
# AMPA ~5 ms, NMDA and GABA-B up to ~300 ms; snnTorch, Norse and Lava use 1-100 ms), so a full
# second already leaves a margin. Refractory periods are a few ms (absolute ~1-5 ms, relative up
# to ~20 ms); 100 ms caps a neuron at 10 Hz, which nobody sets on purpose without knowing it.
# Threshold adaptation is slow by design: LSNNs and e-prop use tau_adapt of 200 ms to 2 s (up
# to a few seconds for working-memory tasks), hence 5 s. Voltages get no typical range: the
# dimensionless convention (v_th = 1) and SI volts (v_th = -50e-3) overlap, so no range tells a
# slip from a choice.
_TAU_TYPICAL = (0.0, 1.0)
_TAU_REF_TYPICAL = (0.0, 0.1)
_TAU_ADAPT_TYPICAL = (0.0, 5.0)


def _tau(default: float, doc: str, typical: tuple[float, float] = _TAU_TYPICAL) -> Param:
    return Param(
        default, "s", doc, low=_TAU_LOW, high=_TAU_HIGH, low_inclusive=False, typical=typical
    )


def _volt(default: float, doc: str) -> Param:
    return Param(default, "V", doc, low=_V_LOW, high=_V_HIGH)


def _resistance() -> Param:
    return Param(
        1.0,
        "ohm",
        "input resistance: turns the input current (A) into the drive (V)",
        low=0.0,
        low_inclusive=False,
    )


def _bias(doc: str) -> Param:
    return Param(0.0, "A", doc, low=_BIAS_LOW, high=_BIAS_HIGH)


def _tau_ref() -> Param:
    return Param(
        0.0,
        "s",
        "refractory period, held for round(tau_ref / dt) steps after a spike",
        low=0.0,
        high=_TAU_HIGH,
        typical=_TAU_REF_TYPICAL,
    )


_INTEGRATION = Option(
    "exact",
    ("exact", "euler", "add_after_decay", "add_before_decay"),
    "how the membrane integrates one step: 'exact' (input held constant over the step, "
    "Brian2 'exact'), 'euler' (forward Euler, Norse), 'add_after_decay' (snnTorch Leaky, Lava), "
    "'add_before_decay' (input added, then the sum decays)",
)
_RESET = Option(
    "value",
    ("value", "subtract", "none"),
    "what a spike does to v: 'value' sets v_reset, 'subtract' removes v_th - v_reset, "
    "'none' leaves v",
)
_RESET_TIMING = Option(
    "immediate",
    ("immediate", "deferred"),
    "'immediate': threshold and reset in the same step (Brian2, Norse, Lava); 'deferred': the "
    "reset of a spike is applied at the next step, after the decay (snnTorch)",
)

_REFRACTORY_STATE = StateVar("1", "refractory steps left (0: not refractory)", 0.0)
_LAST_SPIKE_STATE = StateVar("1", "the spike of the last step (0 or 1)", 0.0)


def _surrogate(ctx: StepContext, model: str) -> SurrogateFn:
    if ctx.surrogate is None:
        raise EngineError(
            f"{model}: the step context has no surrogate; an engine passes the population's "
            "bound surrogate as StepContext(dt, surrogate=...)"
        )
    return ctx.surrogate


def _integrate(
    integration: str, v: Array, v_rest: Array, drive: Array, decay: Array, dt: float, tau_mem: Array
) -> Array:
    if integration == "exact":
        v_inf = v_rest + drive
        return v_inf + (v - v_inf) * decay
    if integration == "euler":
        return v + dt / tau_mem * (v_rest - v + drive)
    if integration == "add_after_decay":
        return v_rest + decay * (v - v_rest) + drive
    return v_rest + decay * (v - v_rest + drive)


def _reset(reset: str, x: Array, z: Array, v_th: Array, v_reset: Array) -> Array:
    if reset == "value":
        # (1 - z) * x + z * v_reset is exactly v_reset or exactly x; x - z * (x - v_reset) is not.
        return (1 - z) * x + z * v_reset
    if reset == "subtract":
        return x - z * (v_th - v_reset)
    return x


def _fire(
    ops: Ops,
    ctx: StepContext,
    model: str,
    reset: str,
    timing: str,
    state: Mapping[str, Array],
    v1: Array,
    v_th: Array,
    v_reset: Array,
    tau_ref: Array,
) -> tuple[Array, Array, Array]:
    """Threshold, reset and refractory hold shared by lif, if and cuba_lif: ``(v', s', ref')``."""
    v, s, ref = state["v"], state["s"], state["ref"]
    surrogate = _surrogate(ctx, model)
    held = ref > 0
    if timing == "immediate":
        v2 = ops.where(held, v, v1)
        s_new = ops.where(held, 0.0, ops.spike(v2 - v_th, surrogate))
        v_new = _reset(reset, v2, s_new, v_th, v_reset)
    else:
        v_new = ops.where(
            held, _reset(reset, v, s, v_th, v_reset), _reset(reset, v1, s, v_th, v_reset)
        )
        s_new = ops.where(held, 0.0, ops.spike(v_new - v_th, surrogate))
    ref_new = ops.where(s_new > 0, ops.floor(tau_ref / ctx.dt + 0.5), ops.maximum(ref - 1, 0.0))
    return v_new, s_new, ref_new


# --------------------------------------------------------------------------------------- lif

_LIF_PARAMS = {
    "tau_mem": _tau(20e-3, "membrane time constant"),
    "v_rest": _volt(0.0, "resting potential, where v decays to"),
    "v_th": _volt(1.0, "threshold: a spike when v > v_th"),
    "v_reset": _volt(0.0, "potential after a spike (reset='value'); see reset"),
    "r": _resistance(),
    "bias": _bias("constant current added to every step's input: drive = r * (current + bias)"),
    "tau_ref": _tau_ref(),
}
_LIF_OPTIONS = {"integration": _INTEGRATION, "reset": _RESET, "reset_timing": _RESET_TIMING}
_LIF_STATE = {
    "v": StateVar("V", "membrane potential", "v_rest"),
    "ref": _REFRACTORY_STATE,
    "s": _LAST_SPIKE_STATE,
}


def _lif_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``lif``; see :data:`LIF`'s doc for the exact update."""
    integration = option(options, _LIF_OPTIONS, "integration", "lif")
    reset = option(options, _LIF_OPTIONS, "reset", "lif")
    timing = option(options, _LIF_OPTIONS, "reset_timing", "lif")
    tau_mem = param(ops, params, "tau_mem", "lif")
    v_rest = param(ops, params, "v_rest", "lif")
    v_th = param(ops, params, "v_th", "lif")
    v_reset = param(ops, params, "v_reset", "lif")
    r = param(ops, params, "r", "lif")
    bias = param(ops, params, "bias", "lif")
    tau_ref = param(ops, params, "tau_ref", "lif")

    decay = ops.exp(-ctx.dt / tau_mem)
    drive = r * (current + bias)
    v1 = _integrate(integration, state["v"], v_rest, drive, decay, ctx.dt, tau_mem)
    v_new, s_new, ref_new = _fire(ops, ctx, "lif", reset, timing, state, v1, v_th, v_reset, tau_ref)
    return {"v": v_new, "ref": ref_new, "s": s_new}, s_new


LIF = NeuronModel(
    name="lif",
    params=_LIF_PARAMS,
    options=_LIF_OPTIONS,
    state=_LIF_STATE,
    step=_lif_step,
    doc="""Leaky integrate-and-fire neuron.

The membrane relaxes toward v_rest with time constant tau_mem while the input drives it; a spike
is emitted when v > v_th (strict), and the membrane is reset. With the defaults (v_rest = v_reset
= 0, v_th = 1 V, r = 1 ohm) an input current of 1.5 A is a drive of 1.5 "units", as in snnTorch
and Norse.

Discrete update (lif):
    decay = exp(-dt / tau_mem)
    drive = r * (current + bias)
    integration="exact":            v_inf = v_rest + drive
                                    v1 = v_inf + (v - v_inf) * decay
    integration="euler":            v1 = v + dt / tau_mem * (v_rest - v + drive)
    integration="add_after_decay":  v1 = v_rest + decay * (v - v_rest) + drive
    integration="add_before_decay": v1 = v_rest + decay * (v - v_rest + drive)
    reset="value":    reset(x, z) = (1 - z) * x + z * v_reset
    reset="subtract": reset(x, z) = x - z * (v_th - v_reset)
    reset="none":     reset(x, z) = x
    held = ref > 0
    reset_timing="immediate":       v2 = where(held, v, v1)
                                    s' = where(held, 0, spike(v2 - v_th))
                                    v' = reset(v2, s')
    reset_timing="deferred":        v' = where(held, reset(v, s), reset(v1, s))
                                    s' = where(held, 0, spike(v' - v_th))
    ref' = where(s' > 0, floor(tau_ref / dt + 0.5), max(ref - 1, 0))
    output = s'

Options:

- integration="exact" (default) holds the input constant over the step and solves the ODE
  tau_mem dv/dt = v_rest - v + r (I + bias) exactly, so the time to the first spike under a
  constant drive D = r (I + bias) is tau_mem ln(D / (D - (v_th - v_rest))), rounded up to the
  step. "euler" is
  Norse's forward Euler; "add_after_decay" is snnTorch's Leaky (decay = beta) and Lava's LIF
  (decay = 1 - dv); "add_before_decay" adds the input and lets the sum decay.
- reset="value" (default) sets v_reset; "subtract" removes v_th - v_reset (snnTorch's
  "subtract" with v_reset = 0); "none" never resets.
- reset_timing="immediate" (default) tests the threshold and resets within the step (Brian2,
  Norse, Lava). "deferred" is snnTorch's order: the spike of step t is computed on the
  un-reset v, and the reset is applied at step t + 1 after the decay, from the spike kept in
  state s; for reset="subtract" that is v_{t+1} = decay(v_t) + input - s_t (v_th - v_reset).

Refractory period: with tau_ref > 0, a spike holds v for round(tau_ref / dt) steps (at v_reset
for reset="value"; at the value after the reset otherwise), drops the input of those steps and
skips their threshold test, as Brian2's "unless refractory".

State: v (V, starts at v_rest), ref (refractory steps left), s (the last step's spike).
""",
)


# ---------------------------------------------------------------------------------------- if

_IF_PARAMS = {
    "v_th": _volt(1.0, "threshold: a spike when v > v_th"),
    "v_reset": _volt(0.0, "potential after a spike, and the initial potential"),
    "r": _resistance(),
    "bias": _bias("constant current added to every step's input: v1 = v + r * (current + bias)"),
    "tau_ref": _tau_ref(),
}
_IF_OPTIONS = {"reset": _RESET, "reset_timing": _RESET_TIMING}
_IF_STATE = {
    "v": StateVar("V", "membrane potential", "v_reset"),
    "ref": _REFRACTORY_STATE,
    "s": _LAST_SPIKE_STATE,
}


def _if_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``if``; see :data:`IF`'s doc for the exact update."""
    reset = option(options, _IF_OPTIONS, "reset", "if")
    timing = option(options, _IF_OPTIONS, "reset_timing", "if")
    v_th = param(ops, params, "v_th", "if")
    v_reset = param(ops, params, "v_reset", "if")
    r = param(ops, params, "r", "if")
    bias = param(ops, params, "bias", "if")
    tau_ref = param(ops, params, "tau_ref", "if")

    v1 = state["v"] + r * (current + bias)
    v_new, s_new, ref_new = _fire(ops, ctx, "if", reset, timing, state, v1, v_th, v_reset, tau_ref)
    return {"v": v_new, "ref": ref_new, "s": s_new}, s_new


IF = NeuronModel(
    name="if",
    params=_IF_PARAMS,
    options=_IF_OPTIONS,
    state=_IF_STATE,
    step=_if_step,
    doc="""Integrate-and-fire neuron without leak.

Each step adds its input to the membrane: the input is a per-step charge, expressed in volts
through r (r * (current + bias) is the jump of v in one step, independent of dt). This is the
non-leaky neuron of ANN-to-SNN conversion (the bias carries the converted layer's bias); NIR's IF
(dv/dt = R I) read with forward Euler is this model with r = R * dt.

Discrete update (if):
    v1 = v + r * (current + bias)
    reset="value":    reset(x, z) = (1 - z) * x + z * v_reset
    reset="subtract": reset(x, z) = x - z * (v_th - v_reset)
    reset="none":     reset(x, z) = x
    held = ref > 0
    reset_timing="immediate":       v2 = where(held, v, v1)
                                    s' = where(held, 0, spike(v2 - v_th))
                                    v' = reset(v2, s')
    reset_timing="deferred":        v' = where(held, reset(v, s), reset(v1, s))
                                    s' = where(held, 0, spike(v' - v_th))
    ref' = where(s' > 0, floor(tau_ref / dt + 0.5), max(ref - 1, 0))
    output = s'

Options: reset and reset_timing as for lif ("subtract" is the reset of rate-preserving
ANN-to-SNN conversion).

State: v (V, starts at v_reset), ref (refractory steps left), s (the last step's spike).
""",
)


# ---------------------------------------------------------------------------------------- li

_LI_PARAMS = {
    "tau_mem": _tau(20e-3, "membrane time constant"),
    "v_rest": _volt(0.0, "resting potential, where v decays to"),
    "r": _resistance(),
    "bias": _bias("constant current added to every step's input: drive = r * (current + bias)"),
}
_LI_OPTIONS = {"integration": _INTEGRATION}
_LI_STATE = {"v": StateVar("V", "membrane potential (the output)", "v_rest")}


def _li_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``li``; see :data:`LI`'s doc for the exact update."""
    integration = option(options, _LI_OPTIONS, "integration", "li")
    tau_mem = param(ops, params, "tau_mem", "li")
    v_rest = param(ops, params, "v_rest", "li")
    r = param(ops, params, "r", "li")
    bias = param(ops, params, "bias", "li")

    decay = ops.exp(-ctx.dt / tau_mem)
    drive = r * (current + bias)
    v_new = _integrate(integration, state["v"], v_rest, drive, decay, ctx.dt, tau_mem)
    return {"v": v_new}, v_new


LI = NeuronModel(
    name="li",
    params=_LI_PARAMS,
    options=_LI_OPTIONS,
    state=_LI_STATE,
    step=_li_step,
    output="v",
    doc="""Leaky integrator: a non-spiking readout whose output is its membrane potential v.

Discrete update (li):
    decay = exp(-dt / tau_mem)
    drive = r * (current + bias)
    integration="exact":            v_inf = v_rest + drive
                                    v' = v_inf + (v - v_inf) * decay
    integration="euler":            v' = v + dt / tau_mem * (v_rest - v + drive)
    integration="add_after_decay":  v' = v_rest + decay * (v - v_rest) + drive
    integration="add_before_decay": v' = v_rest + decay * (v - v_rest + drive)
    output = v'

Options: integration as for lif ("add_after_decay" is snnTorch's Leaky with no threshold, "euler"
Norse's LI with the synaptic current removed, i.e. NIR's LI read with forward Euler).

State: v (V, starts at v_rest).
""",
)


# ---------------------------------------------------------------------------------- cuba_lif

_CUBA_PARAMS = {
    "tau_syn": _tau(5e-3, "synaptic current time constant"),
    "tau_mem": _tau(20e-3, "membrane time constant"),
    "v_rest": _volt(0.0, "resting potential (NIR's v_leak)"),
    "v_th": _volt(1.0, "threshold: a spike when v > v_th"),
    "v_reset": _volt(0.0, "potential after a spike (reset='value'); see reset"),
    "r": _resistance(),
    "bias": _bias(
        "constant current added to the drive, past the synaptic current: drive = r * (i' + bias)"
    ),
    "w_in": Param(1.0, "1", "input weight: the current jumps by w_in * input (NIR's w_in)"),
    "tau_ref": _tau_ref(),
}
_CUBA_OPTIONS = {"integration": _INTEGRATION, "reset": _RESET, "reset_timing": _RESET_TIMING}
_CUBA_STATE = {
    "i": StateVar("A", "synaptic current", 0.0),
    "v": StateVar("V", "membrane potential", "v_rest"),
    "ref": _REFRACTORY_STATE,
    "s": _LAST_SPIKE_STATE,
}


def _cuba_lif_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``cuba_lif``; see :data:`CUBA_LIF`'s doc for the exact update."""
    integration = option(options, _CUBA_OPTIONS, "integration", "cuba_lif")
    reset = option(options, _CUBA_OPTIONS, "reset", "cuba_lif")
    timing = option(options, _CUBA_OPTIONS, "reset_timing", "cuba_lif")
    tau_syn = param(ops, params, "tau_syn", "cuba_lif")
    tau_mem = param(ops, params, "tau_mem", "cuba_lif")
    v_rest = param(ops, params, "v_rest", "cuba_lif")
    v_th = param(ops, params, "v_th", "cuba_lif")
    v_reset = param(ops, params, "v_reset", "cuba_lif")
    r = param(ops, params, "r", "cuba_lif")
    bias = param(ops, params, "bias", "cuba_lif")
    w_in = param(ops, params, "w_in", "cuba_lif")
    tau_ref = param(ops, params, "tau_ref", "cuba_lif")

    i_new = state["i"] * ops.exp(-ctx.dt / tau_syn) + w_in * current
    decay = ops.exp(-ctx.dt / tau_mem)
    drive = r * (i_new + bias)
    v1 = _integrate(integration, state["v"], v_rest, drive, decay, ctx.dt, tau_mem)
    v_new, s_new, ref_new = _fire(
        ops, ctx, "cuba_lif", reset, timing, state, v1, v_th, v_reset, tau_ref
    )
    return {"i": i_new, "v": v_new, "ref": ref_new, "s": s_new}, s_new


CUBA_LIF = NeuronModel(
    name="cuba_lif",
    params=_CUBA_PARAMS,
    options=_CUBA_OPTIONS,
    state=_CUBA_STATE,
    step=_cuba_lif_step,
    doc="""Current-based LIF: a synaptic current i filters the input before the membrane
(NIR CubaLIF, Lava LIF, snnTorch Synaptic).

The current is updated first, then the membrane integrates the new current (Lava's order); the
spike resets v only, never i.

Discrete update (cuba_lif):
    i' = i * exp(-dt / tau_syn) + w_in * current
    decay = exp(-dt / tau_mem)
    drive = r * (i' + bias)
    integration="exact":            v_inf = v_rest + drive
                                    v1 = v_inf + (v - v_inf) * decay
    integration="euler":            v1 = v + dt / tau_mem * (v_rest - v + drive)
    integration="add_after_decay":  v1 = v_rest + decay * (v - v_rest) + drive
    integration="add_before_decay": v1 = v_rest + decay * (v - v_rest + drive)
    reset="value":    reset(x, z) = (1 - z) * x + z * v_reset
    reset="subtract": reset(x, z) = x - z * (v_th - v_reset)
    reset="none":     reset(x, z) = x
    held = ref > 0
    reset_timing="immediate":       v2 = where(held, v, v1)
                                    s' = where(held, 0, spike(v2 - v_th))
                                    v' = reset(v2, s')
    reset_timing="deferred":        v' = where(held, reset(v, s), reset(v1, s))
                                    s' = where(held, 0, spike(v' - v_th))
    ref' = where(s' > 0, floor(tau_ref / dt + 0.5), max(ref - 1, 0))
    output = s'

Options: as for lif. integration="euler" is the forward-Euler reading of NIR's membrane equation
tau_mem dv/dt = (v_leak - v) + r i; integration="add_after_decay" with reset="value",
v_reset = 0 is Lava's floating-point LIF (decay = 1 - dv, current decay = 1 - du); with
reset="subtract", reset_timing="deferred" it is snnTorch's Synaptic (alpha = exp(-dt / tau_syn),
beta = exp(-dt / tau_mem)). The "exact" integration holds the new current i' constant over the
step. During a refractory hold the current keeps integrating its input; only v is held.
The bias is added past the synaptic current, unfiltered: Lava's v = v (1 - dv) + u + bias is
integration="add_after_decay" with bias = Lava's bias and r = 1.

State: i (A, starts at 0), v (V, starts at v_rest), ref (refractory steps left), s (the last
step's spike).
""",
)


# -------------------------------------------------------------------------------------- alif

_ALIF_PARAMS = {
    "tau_mem": _tau(20e-3, "membrane time constant"),
    "tau_adapt": _tau(
        200e-3, "time constant of the threshold adaptation b", typical=_TAU_ADAPT_TYPICAL
    ),
    "v_th": _volt(1.0, "baseline threshold (Bellec's b0)"),
    "beta": Param(
        0.1,
        "V",
        "adaptation strength: the threshold rises by beta per unit of b",
        low=0.0,
        high=_V_HIGH,
    ),
    "v_rest": _volt(0.0, "resting potential, where v decays to"),
    "v_reset": _volt(0.0, "potential after a spike (reset='value'); see reset"),
    "r": _resistance(),
    "bias": _bias("constant current added to every step's input: drive = r * (current + bias)"),
}
_ALIF_OPTIONS = {
    "integration": _INTEGRATION,
    "reset": Option(
        "value",
        ("value", "subtract"),
        "what a spike does to v: 'value' sets v_reset, 'subtract' removes A - v_reset "
        "(A the adapted threshold of the step)",
    ),
}
_ALIF_STATE = {
    "v": StateVar("V", "membrane potential", "v_rest"),
    "b": StateVar("1", "threshold adaptation (a decaying spike count)", 0.0),
}


def _alif_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``alif``; see :data:`ALIF`'s doc for the exact update."""
    integration = option(options, _ALIF_OPTIONS, "integration", "alif")
    reset = option(options, _ALIF_OPTIONS, "reset", "alif")
    tau_mem = param(ops, params, "tau_mem", "alif")
    tau_adapt = param(ops, params, "tau_adapt", "alif")
    v_th = param(ops, params, "v_th", "alif")
    beta = param(ops, params, "beta", "alif")
    v_rest = param(ops, params, "v_rest", "alif")
    v_reset = param(ops, params, "v_reset", "alif")
    r = param(ops, params, "r", "alif")
    bias = param(ops, params, "bias", "alif")

    decay = ops.exp(-ctx.dt / tau_mem)
    rho = ops.exp(-ctx.dt / tau_adapt)
    drive = r * (current + bias)
    v1 = _integrate(integration, state["v"], v_rest, drive, decay, ctx.dt, tau_mem)
    A = v_th + beta * state["b"]
    s_new = ops.spike(v1 - A, _surrogate(ctx, "alif"))
    v_new = _reset(reset, v1, s_new, A, v_reset)
    b_new = rho * state["b"] + s_new
    return {"v": v_new, "b": b_new}, s_new


ALIF = NeuronModel(
    name="alif",
    params=_ALIF_PARAMS,
    options=_ALIF_OPTIONS,
    state=_ALIF_STATE,
    step=_alif_step,
    doc="""Adaptive-threshold LIF (Bellec et al. 2018, the neurons of LSNNs and e-prop).

Each spike raises the threshold A = v_th + beta * b by beta; b decays with tau_adapt. The spike
of a step is tested against the threshold of that step, and then counted into b: adaptation
raises the threshold from the next step on.

Discrete update (alif):
    decay = exp(-dt / tau_mem)
    rho = exp(-dt / tau_adapt)
    drive = r * (current + bias)
    integration="exact":            v_inf = v_rest + drive
                                    v1 = v_inf + (v - v_inf) * decay
    integration="euler":            v1 = v + dt / tau_mem * (v_rest - v + drive)
    integration="add_after_decay":  v1 = v_rest + decay * (v - v_rest) + drive
    integration="add_before_decay": v1 = v_rest + decay * (v - v_rest + drive)
    A = v_th + beta * b
    s' = spike(v1 - A)
    reset="value":    v' = (1 - s') * v1 + s' * v_reset
    reset="subtract": v' = v1 - s' * (A - v_reset)
    b' = rho * b + s'
    output = s'

Options: integration as for lif; reset="value" (default) or "subtract" (by the adapted
threshold, as in Bellec et al.). b counts spikes without Bellec's (1 - rho) factor (as in
e-prop, Bellec et al. 2020): to reproduce the 2018 paper use beta_here = beta_paper (1 - rho).
The defaults (tau_adapt = 200 ms, beta = 0.1 V) are a moderate adaptation, not a paper's values.

State: v (V, starts at v_rest), b (starts at 0).
""",
)


# -------------------------------------------------------------------------------- izhikevich

_IZ_V_LOW, _IZ_V_HIGH = -1.0, 1.0


def _izhikevich_u0(values: Mapping[str, Any]) -> Any:
    """b * v"""
    return values["b"] * values["v"]


_IZ_PARAMS = {
    "a": Param(20.0, "1/s", "recovery rate (Izhikevich's a = 0.02 /ms)", low=0.5, high=1e4),
    "b": Param(0.2, "1", "sensitivity of u to v", low=-10.0, high=10.0),
    "c": Param(-65e-3, "V", "reset potential, and the initial v", low=_IZ_V_LOW, high=_IZ_V_HIGH),
    "d": Param(8e-3, "V", "jump of u at a spike", low=_IZ_V_LOW, high=_IZ_V_HIGH),
    "v_peak": Param(
        30e-3, "V", "spike cut-off: a spike when v > v_peak", low=_IZ_V_LOW, high=_IZ_V_HIGH
    ),
    "r": _resistance(),
    "bias": _bias("constant current added to every step's input: drive = r * (current + bias)"),
}
_IZ_STATE = {
    "v": StateVar("V", "membrane potential", "c"),
    "u": StateVar("V", "recovery variable (Izhikevich's u / 1000)", _izhikevich_u0),
}


def _izhikevich_step(
    ops: Ops,
    params: Mapping[str, Array],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    """One step of ``izhikevich``; see :data:`IZHIKEVICH`'s doc for the exact update."""
    a = param(ops, params, "a", "izhikevich")
    b = param(ops, params, "b", "izhikevich")
    c = param(ops, params, "c", "izhikevich")
    d = param(ops, params, "d", "izhikevich")
    v_peak = param(ops, params, "v_peak", "izhikevich")
    r = param(ops, params, "r", "izhikevich")
    bias = param(ops, params, "bias", "izhikevich")
    v, u, dt = state["v"], state["u"], ctx.dt

    drive = r * (current + bias)
    v1 = v + dt * (4e4 * v * v + 5e3 * v + 140 - 1e3 * u + 1e3 * drive)
    u1 = u + dt * a * (b * v - u)
    s_new = ops.spike(v1 - v_peak, _surrogate(ctx, "izhikevich"))
    v_new = (1 - s_new) * v1 + s_new * c
    u_new = u1 + s_new * d
    return {"v": v_new, "u": u_new}, s_new


IZHIKEVICH = NeuronModel(
    name="izhikevich",
    params=_IZ_PARAMS,
    state=_IZ_STATE,
    step=_izhikevich_step,
    doc="""Izhikevich (2003) neuron, in SI units, integrated with forward Euler.

The paper's model, in mV and ms, is dv/dt = 0.04 v^2 + 5 v + 140 - u + I and du/dt = a (b v - u),
with v = c, u = u + d after v >= 30 mV. Writing V = v / 1000 (volts), U = u / 1000 and time in
seconds, one mV/ms is one V/s, so dV/dt = 4e4 V^2 + 5e3 V + 140 - 1e3 U + 1e3 I_V with
I_V = r * (current + bias) = I / 1000 (volts), and dU/dt = a (b V - U) with a in 1/s
(0.02 /ms = 20 /s). c, d and v_peak are in volts (-65 mV = -65e-3). A constant input, as in
the paper's tonic-spiking demos, is the bias (I = 10 is bias = 10e-3 with r = 1).

Discrete update (izhikevich):
    drive = r * (current + bias)
    v1 = v + dt * (4e4 * v * v + 5e3 * v + 140 - 1e3 * u + 1e3 * drive)
    u1 = u + dt * a * (b * v - u)
    s' = spike(v1 - v_peak)
    v' = (1 - s') * v1 + s' * c
    u' = u1 + s' * d
    output = s'

Both variables are advanced from the values before the step (plain forward Euler; the paper's
own code takes two half steps for v and updates u with the new v). The quadratic term needs a
small step: use dt <= 0.5e-3 s. The defaults are the paper's regular-spiking cell (a = 0.02 /ms,
b = 0.2, c = -65 mV, d = 8 mV); intrinsically bursting is c = -55e-3, d = 4e-3, chattering
c = -50e-3, d = 2e-3, fast spiking a = 100.

State: v (V, starts at c), u (V, starts at b * v, the paper's convention, so it follows b, c and
a given initial v).
""",
)
