"""Golden trajectories of the standard neuron models, stepped with NumpyOps.

Every expected number below is computed by hand from the model's documented "Discrete update"
block. Time constants are chosen so that decays are round numbers: tau = dt / ln 2 gives
exp(-dt / tau) = 0.5, tau = dt / ln 4 gives 0.25, and euler's dt / tau = 1e-3 / 4e-3 = 0.25.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import neuropil as npl
from neuropil import NeuronModel, StepContext
from neuropil.errors import EngineError
from neuropil.models import ALIF, CUBA_LIF, FAST_SIGMOID, IF, IZHIKEVICH, LI, LIF
from neuropil.reference._ops import NumpyOps

DT = 1e-3
HALF = DT / math.log(2)  # exp(-DT / HALF) == 0.5
QUARTER = DT / math.log(4)  # exp(-DT / QUARTER) == 0.25
EULER_QUARTER = 4e-3  # DT / EULER_QUARTER == 0.25
SURROGATE = FAST_SIGMOID.bind()
ALL_NEURONS = [LIF, IF, LI, CUBA_LIF, ALIF, IZHIKEVICH]

Arr = npt.NDArray[Any]


def defaults(model: NeuronModel, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {name: p.default for name, p in model.params.items()}
    unknown = set(overrides) - set(params)
    assert not unknown, unknown
    params.update(overrides)
    return params


def initial_state(
    model: NeuronModel, params: Mapping[str, Any], shape: tuple[int, int], dtype: Any = np.float64
) -> dict[str, Arr]:
    return {
        name: np.broadcast_to(np.asarray(value, dtype=dtype), shape).copy()
        for name, value in npl.initial_state(model.state, params).items()
    }


def run(
    model: NeuronModel,
    params: Mapping[str, Any],
    currents: Sequence[float] | Arr,
    options: Mapping[str, Any] | None = None,
    *,
    dt: float = DT,
    state: dict[str, Arr] | None = None,
    dtype: Any = np.float64,
) -> dict[str, Arr]:
    """Step ``model`` on ``currents`` ([T] for one neuron or [T, B, N]); trajectories [T, B, N]."""
    cur = np.asarray(currents, dtype=dtype)
    if cur.ndim == 1:
        cur = cur[:, None, None]
    ops = NumpyOps(dtype)
    if state is None:
        state = initial_state(model, params, cur.shape[1:], dtype)
    ctx = StepContext(dt=dt, surrogate=SURROGATE)
    frames: dict[str, list[Arr]] = {"out": []}
    for t in range(cur.shape[0]):
        state, out = model.step(ops, params, options or {}, state, cur[t], ctx)
        frames["out"].append(out)
        for name, value in state.items():
            frames.setdefault(name, []).append(value)
    return {name: np.stack(values) for name, values in frames.items()}


def one(traj: Arr) -> Arr:
    return traj[:, 0, 0]


# ----------------------------------------------------------------------------------------- lif


def test_lif_exact_value_reset() -> None:
    # v_inf = 1.2; v = 1.2 + (v - 1.2) / 2; at 1.05 > 1 it spikes and is set to v_reset = 0.25.
    traj = run(LIF, defaults(LIF, tau_mem=HALF, v_reset=0.25), [1.2] * 6)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 0.25, 0.725, 0.9625, 0.25], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(one(traj["s"]), one(traj["out"]))
    np.testing.assert_array_equal(one(traj["ref"]), 0.0)


@pytest.mark.parametrize(("current", "bias"), [(0.5, 0.0), (0.0, 0.5), (0.75, -0.25)])
def test_lif_rest_resistance_and_bias(current: float, bias: float) -> None:
    # v starts at v_rest = -0.2; drive = r * (I + bias) = 2 * 0.5 = 1; v_inf = 0.8.
    params = defaults(LIF, tau_mem=HALF, v_rest=-0.2, r=2.0, bias=bias)
    traj = run(LIF, params, [current] * 4)
    np.testing.assert_allclose(one(traj["v"]), [0.3, 0.55, 0.675, 0.7375], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), 0.0)


def test_lif_bias_drives_without_input() -> None:
    # add_after_decay, drive = 2 * (I + 0.3): v' = v / 2 + 0.6 while I = 0; I = -0.3 cancels the
    # bias and v only decays: 0.6, 0.9, 0.45, 0.225, 0.7125, 0.95625, 1.078125 -> spike -> 0.
    params = defaults(LIF, tau_mem=HALF, r=2.0, bias=0.3)
    current = [0.0, 0.0, -0.3, -0.3, 0.0, 0.0, 0.0]
    traj = run(LIF, params, current, {"integration": "add_after_decay"})
    np.testing.assert_allclose(
        one(traj["v"]), [0.6, 0.9, 0.45, 0.225, 0.7125, 0.95625, 0.0], rtol=1e-12, atol=1e-15
    )
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 0, 0, 0, 0, 1])


def test_lif_refractory_drops_the_bias_too() -> None:
    # exact, v_inf = bias = 1.2: the held steps after the spike keep v = 0 despite the bias.
    params = defaults(LIF, tau_mem=HALF, tau_ref=2e-3, bias=1.2)
    traj = run(LIF, params, [0.0] * 6)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 0.0, 0.0, 0.0, 0.6], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 0])


def test_lif_euler() -> None:
    # v' = v + 0.25 * (2 - v): 0.5, 0.875, 1.15625 -> spike -> 0.
    traj = run(LIF, defaults(LIF, tau_mem=EULER_QUARTER), [2.0] * 5, {"integration": "euler"})
    np.testing.assert_allclose(one(traj["v"]), [0.5, 0.875, 0.0, 0.5, 0.875], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0])


def test_lif_add_after_decay_subtract() -> None:
    # v' = v / 2 + 0.6; a spike removes v_th - v_reset = 0.75.
    params = defaults(LIF, tau_mem=HALF, v_reset=0.25)
    options = {"integration": "add_after_decay", "reset": "subtract"}
    traj = run(LIF, params, [0.6] * 6, options)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 0.3, 0.75, 0.975, 0.3375], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 1])


def test_lif_add_before_decay_no_reset() -> None:
    # v' = (v + 3.6) / 4 and never reset: it stays above threshold and spikes every step.
    options = {"integration": "add_before_decay", "reset": "none"}
    traj = run(LIF, defaults(LIF, tau_mem=QUARTER), [3.6] * 4, options)
    np.testing.assert_allclose(one(traj["v"]), [0.9, 1.125, 1.18125, 1.1953125], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 1, 1, 1])


def test_lif_threshold_is_strict() -> None:
    # add_after_decay from rest with r * I = 1.0 exactly lands on v_th: no spike.
    traj = run(LIF, defaults(LIF), [1.0], {"integration": "add_after_decay"})
    assert one(traj["v"])[0] == 1.0
    assert one(traj["out"])[0] == 0.0


def test_lif_deferred_subtract() -> None:
    # The spike of step 2 (v = 1.05) is kept; step 3 decays, adds, then subtracts 1.
    options = {"integration": "add_after_decay", "reset": "subtract", "reset_timing": "deferred"}
    traj = run(LIF, defaults(LIF, tau_mem=HALF), [0.6] * 6, options)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 1.05, 0.125, 0.6625, 0.93125], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 0])


def test_lif_deferred_value() -> None:
    # v_{t+1} = (v_t / 2 + 0.6) (1 - s_t) + s_t v_reset
    options = {"integration": "add_after_decay", "reset_timing": "deferred"}
    traj = run(LIF, defaults(LIF, tau_mem=HALF, v_reset=0.25), [0.6] * 6, options)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 1.05, 0.25, 0.725, 0.9625], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 0])


@pytest.mark.parametrize("reset", ["subtract", "value"])
def test_lif_deferred_is_snntorch_leaky(reset: str) -> None:
    # snnTorch Leaky: reset = H(mem_prev - thr); mem = beta mem + x - reset thr (subtract) or
    # mem = (beta mem + x) (1 - reset) (zero); spk = H(mem - thr).
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 0.8, size=(60, 3, 4))
    beta, thr = 0.9, 1.0
    mem = np.zeros((3, 4))
    spikes, mems = [], []
    for t in range(60):
        fired = (mem > thr).astype(float)
        if reset == "subtract":
            mem = beta * mem + x[t] - fired * thr
        else:
            mem = (beta * mem + x[t]) * (1 - fired)
        spikes.append((mem > thr).astype(float))
        mems.append(mem)
    options = {"integration": "add_after_decay", "reset": reset, "reset_timing": "deferred"}
    traj = run(LIF, defaults(LIF, tau_mem=-DT / math.log(beta)), x, options)
    np.testing.assert_allclose(traj["v"], np.stack(mems), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(traj["out"], np.stack(spikes))
    assert traj["out"].sum() > 20


def test_lif_refractory_holds_and_drops_input() -> None:
    # tau_ref = 2 dt: after the spike at step 2, steps 3 and 4 hold v = v_reset = 0 and ignore
    # their (huge) input; step 5 integrates again from 0.
    current = [1.2, 1.2, 1.2, 50.0, 50.0, 1.2, 1.2, 1.2]
    traj = run(LIF, defaults(LIF, tau_mem=HALF, tau_ref=2e-3), current)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 0.0, 0.0, 0.0, 0.6, 0.9, 0.0], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(one(traj["ref"]), [0, 0, 2, 1, 0, 0, 0, 2])


def test_lif_refractory_skips_the_threshold() -> None:
    # v_reset = 1.5 > v_th: held steps sit above threshold without spiking.
    params = defaults(LIF, tau_mem=HALF, tau_ref=2e-3, v_reset=1.5)
    traj = run(LIF, params, [2.4, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(one(traj["v"]), [1.5, 1.5, 1.5, 0.75], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [1, 0, 0, 0])
    np.testing.assert_array_equal(one(traj["ref"]), [2, 1, 0, 0])


@pytest.mark.parametrize(("tau_ref", "steps"), [(1.4e-3, 1), (1.6e-3, 2), (3e-3, 3), (0.4e-3, 0)])
def test_lif_refractory_steps_are_rounded(tau_ref: float, steps: int) -> None:
    traj = run(LIF, defaults(LIF, tau_ref=tau_ref), [1e3])
    assert one(traj["out"])[0] == 1.0
    assert one(traj["ref"])[0] == steps


def test_lif_refractory_with_deferred_reset() -> None:
    # The deferred reset still applies in the first held step: 1.05 - 1 = 0.05, then free again.
    options = {"integration": "add_after_decay", "reset": "subtract", "reset_timing": "deferred"}
    traj = run(LIF, defaults(LIF, tau_mem=HALF, tau_ref=1e-3), [0.6] * 6, options)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 1.05, 0.05, 0.625, 0.9125], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(one(traj["ref"]), [0, 0, 1, 0, 0, 0])


def test_lif_refractory_with_subtract_holds_the_reset_value() -> None:
    options = {"integration": "add_after_decay", "reset": "subtract"}
    traj = run(LIF, defaults(LIF, tau_mem=HALF, tau_ref=1e-3), [0.6] * 5, options)
    np.testing.assert_allclose(one(traj["v"]), [0.6, 0.9, 0.05, 0.05, 0.625], rtol=1e-12)


@pytest.mark.parametrize("drive", [1.05, 1.3, 1.5, 2.0, 4.0])
def test_lif_exact_time_to_first_spike(drive: float) -> None:
    # Closed form: v(t) = r I (1 - exp(-t / tau)) crosses v_th = 1 at t* = tau ln(rI / (rI - 1));
    # step k ends at time (k + 1) dt, so the first spike is at step ceil(t* / dt) - 1.
    tau, dt = 20e-3, 1e-4
    t_star = tau * math.log(drive / (drive - 1.0))
    assert abs(t_star / dt - round(t_star / dt)) > 1e-6  # not on a step boundary
    expected = math.ceil(t_star / dt) - 1
    traj = run(LIF, defaults(LIF, tau_mem=tau), [drive] * (expected + 5), dt=dt)
    spikes = one(traj["out"])
    assert int(np.argmax(spikes > 0)) == expected
    assert spikes[:expected].sum() == 0


# ------------------------------------------------------------------------------------------ if


def test_if_value_reset_and_strict_threshold() -> None:
    # v starts at v_reset = 0.25 and gains r I = 0.5 * 0.75 = 0.375 per step; 1.0 does not spike.
    traj = run(IF, defaults(IF, r=0.5, v_reset=0.25), [0.75] * 6)
    np.testing.assert_array_equal(one(traj["v"]), [0.625, 1.0, 0.25, 0.625, 1.0, 0.25])
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 1])


def test_if_subtract_keeps_the_excess() -> None:
    traj = run(IF, defaults(IF, r=0.5), [0.75] * 7, {"reset": "subtract"})
    np.testing.assert_array_equal(one(traj["v"]), [0.375, 0.75, 0.125, 0.5, 0.875, 0.25, 0.625])
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 1, 0])


def test_if_bias_adds_each_step() -> None:
    # v1 = v + (I + 0.3), subtract reset: 0.5, 1.0 (strict: no spike), 1.0 (I cancels the bias),
    # 1.3 -> spike -> 0.3, 0.3 + 0.8 = 1.1 -> spike -> 0.1.
    params = defaults(IF, bias=0.3)
    traj = run(IF, params, [0.2, 0.2, -0.3, 0.0, 0.5], {"reset": "subtract"})
    np.testing.assert_allclose(one(traj["v"]), [0.5, 1.0, 1.0, 0.3, 0.1], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 0, 1, 1])


def test_if_does_not_depend_on_dt() -> None:
    a = run(IF, defaults(IF), [0.3] * 10, dt=1e-3)
    b = run(IF, defaults(IF), [0.3] * 10, dt=1e-4)
    np.testing.assert_array_equal(a["v"], b["v"])


def test_if_deferred_and_refractory() -> None:
    # Spike at step 2 (v = 1.125); step 3 is held but applies the deferred subtraction.
    options = {"reset": "subtract", "reset_timing": "deferred"}
    traj = run(IF, defaults(IF, r=0.5, tau_ref=1e-3), [0.75] * 5, options)
    np.testing.assert_array_equal(one(traj["v"]), [0.375, 0.75, 1.125, 0.125, 0.5])
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0])


# ------------------------------------------------------------------------------------------ li

LI_CASES = {
    # v_rest = 0.1, drive = 2 * 0.45 = 0.9, decay 0.25 (euler: dt / tau = 0.25)
    "exact": [0.775, 0.94375, 0.9859375],
    "euler": [0.325, 0.49375, 0.6203125],
    "add_after_decay": [1.0, 1.225, 1.28125],
    "add_before_decay": [0.325, 0.38125, 0.3953125],
}


@pytest.mark.parametrize("integration", sorted(LI_CASES))
@pytest.mark.parametrize(("current", "bias"), [(0.45, 0.0), (0.2, 0.25)])
def test_li_integration_modes(integration: str, current: float, bias: float) -> None:
    tau = EULER_QUARTER if integration == "euler" else QUARTER
    params = defaults(LI, tau_mem=tau, v_rest=0.1, r=2.0, bias=bias)
    traj = run(LI, params, [current] * 3, {"integration": integration})
    np.testing.assert_allclose(one(traj["v"]), LI_CASES[integration], rtol=1e-12)
    np.testing.assert_array_equal(traj["out"], traj["v"])
    assert LI.output == "v"
    assert not LI.spiking


def test_li_negative_bias_without_input() -> None:
    # exact, decay 0.25, v_inf = v_rest + bias = 0.5 - 1 = -0.5: v' = -0.5 + (v + 0.5) / 4.
    traj = run(LI, defaults(LI, tau_mem=QUARTER, v_rest=0.5, bias=-1.0), [0.0] * 3)
    np.testing.assert_allclose(one(traj["v"]), [-0.25, -0.4375, -0.484375], rtol=1e-12)


# ------------------------------------------------------------------------------------ cuba_lif

CUBA_INPUT = [0.5, 0.25, 0.0, 0.0, 0.0]
CUBA_CURRENT = [1.0, 1.0, 0.5, 0.25, 0.125]  # i' = i / 2 + 2 * input


def test_cuba_lif_lava_order() -> None:
    # add_after_decay: v' = v / 2 + i'; step 0 lands exactly on v_th (no spike), step 1 fires.
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, w_in=2.0)
    traj = run(CUBA_LIF, params, CUBA_INPUT, {"integration": "add_after_decay"})
    np.testing.assert_allclose(one(traj["i"]), CUBA_CURRENT, rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [1.0, 0.0, 0.5, 0.5, 0.375], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 1, 0, 0, 0])


def test_cuba_lif_exact() -> None:
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, w_in=2.0)
    traj = run(CUBA_LIF, params, CUBA_INPUT)
    np.testing.assert_allclose(one(traj["i"]), CUBA_CURRENT, rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [0.5, 0.75, 0.625, 0.4375, 0.28125], rtol=1e-12)


def test_cuba_lif_euler() -> None:
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=EULER_QUARTER, w_in=2.0)
    traj = run(CUBA_LIF, params, CUBA_INPUT, {"integration": "euler"})
    np.testing.assert_allclose(
        one(traj["v"]), [0.25, 0.4375, 0.453125, 0.40234375, 0.3330078125], rtol=1e-12
    )


def test_cuba_lif_bias_bypasses_the_synaptic_current() -> None:
    # i' as without bias; drive = i' + 0.25 = 1.25, 1.25, 0.75, 0.5, 0.375 with v' = v / 2 + drive:
    # 1.25 -> spike -> 0, 1.25 -> spike -> 0, 0.75, 0.875, 0.8125.
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, w_in=2.0, bias=0.25)
    traj = run(CUBA_LIF, params, CUBA_INPUT, {"integration": "add_after_decay"})
    np.testing.assert_allclose(one(traj["i"]), CUBA_CURRENT, rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [0.0, 0.0, 0.75, 0.875, 0.8125], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [1, 1, 0, 0, 0])


def test_cuba_lif_exact_with_bias() -> None:
    # exact with v_rest = 0, decay 0.5: v' = (v + drive) / 2, drive = 2 * (i' + 0.25).
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, w_in=2.0, r=2.0, bias=0.25)
    traj = run(CUBA_LIF, params, CUBA_INPUT, {"reset": "none"})
    np.testing.assert_allclose(one(traj["i"]), CUBA_CURRENT, rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [1.25, 1.875, 1.6875, 1.34375, 1.046875], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [1, 1, 1, 1, 1])


def test_cuba_lif_bias_alone_leaves_the_current_at_zero() -> None:
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, bias=0.5)
    traj = run(CUBA_LIF, params, [0.0] * 3, {"integration": "add_after_decay"})
    np.testing.assert_array_equal(one(traj["i"]), 0.0)
    np.testing.assert_allclose(one(traj["v"]), [0.5, 0.75, 0.875], rtol=1e-12)


def test_cuba_lif_reset_leaves_the_current() -> None:
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF)
    traj = run(CUBA_LIF, params, [3.0, 0.0, 0.0], {"integration": "add_after_decay"})
    np.testing.assert_array_equal(one(traj["out"]), [1, 1, 0])
    np.testing.assert_allclose(one(traj["i"]), [3.0, 1.5, 0.75], rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [0.0, 0.0, 0.75], rtol=1e-12)


def test_cuba_lif_deferred_subtract_is_snntorch_synaptic() -> None:
    # snnTorch Synaptic: syn = alpha syn + x; mem = beta mem + syn - H(mem_prev - thr) thr.
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 0.5, size=(50, 2, 3))
    alpha, beta, thr = 0.8, 0.9, 1.0
    syn, mem = np.zeros((2, 3)), np.zeros((2, 3))
    mems, spikes = [], []
    for t in range(50):
        fired = (mem > thr).astype(float)
        syn = alpha * syn + x[t]
        mem = beta * mem + syn - fired * thr
        mems.append(mem)
        spikes.append((mem > thr).astype(float))
    params = defaults(CUBA_LIF, tau_syn=-DT / math.log(alpha), tau_mem=-DT / math.log(beta))
    options = {"integration": "add_after_decay", "reset": "subtract", "reset_timing": "deferred"}
    traj = run(CUBA_LIF, params, x, options)
    np.testing.assert_allclose(traj["v"], np.stack(mems), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(traj["out"], np.stack(spikes))
    assert traj["out"].sum() > 10


def test_cuba_lif_refractory_holds_v_not_i() -> None:
    params = defaults(CUBA_LIF, tau_syn=HALF, tau_mem=HALF, tau_ref=1e-3)
    traj = run(CUBA_LIF, params, [3.0, 0.0, 0.0], {"integration": "add_after_decay"})
    np.testing.assert_array_equal(one(traj["out"]), [1, 0, 0])
    np.testing.assert_allclose(one(traj["i"]), [3.0, 1.5, 0.75], rtol=1e-12)
    np.testing.assert_allclose(one(traj["v"]), [0.0, 0.0, 0.75], rtol=1e-12)


# ---------------------------------------------------------------------------------------- alif


def test_alif_adaptation_raises_the_next_threshold() -> None:
    # v' = v / 2 + 0.8; A = 1 + 0.5 b; b' = b / 2 + s'. Without adaptation step 3 (v = 1.2)
    # would spike; with it A = 1.25.
    params = defaults(ALIF, tau_mem=HALF, tau_adapt=HALF, beta=0.5)
    traj = run(ALIF, params, [0.8] * 6, {"integration": "add_after_decay"})
    np.testing.assert_allclose(one(traj["v"]), [0.8, 0.0, 0.8, 1.2, 0.0, 0.8], rtol=1e-12)
    np.testing.assert_allclose(one(traj["b"]), [0, 1, 0.5, 0.25, 1.125, 0.5625], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 1, 0, 0, 1, 0])


def test_alif_subtract_removes_the_adapted_threshold() -> None:
    params = defaults(ALIF, tau_mem=HALF, tau_adapt=HALF, beta=0.5)
    options = {"integration": "add_after_decay", "reset": "subtract"}
    traj = run(ALIF, params, [0.9] * 5, options)
    np.testing.assert_allclose(one(traj["v"]), [0.9, 0.35, 1.075, 0.1875, 0.99375], rtol=1e-12)
    np.testing.assert_allclose(one(traj["b"]), [0, 1, 0.5, 1.25, 0.625], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 1, 0, 1, 0])


def test_alif_euler_with_bias() -> None:
    # euler, dt / tau = 0.25, drive = -1 + 3 = 2: v1 = 0.75 v + 0.5; A = 1 + 0.5 b, b' = b / 2 + s'.
    # Steps 2 and 5 reach 1.15625, above A = 1 and A = 1.125.
    params = defaults(ALIF, tau_mem=EULER_QUARTER, tau_adapt=HALF, beta=0.5, bias=3.0)
    traj = run(ALIF, params, [-1.0] * 7, {"integration": "euler"})
    np.testing.assert_allclose(one(traj["v"]), [0.5, 0.875, 0.0, 0.5, 0.875, 0.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(one(traj["b"]), [0, 0, 1, 0.5, 0.25, 1.125, 0.5625], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), [0, 0, 1, 0, 0, 1, 0])


def test_alif_without_adaptation_is_lif() -> None:
    x = np.random.default_rng(2).uniform(0.0, 3.0, size=(40, 2, 3))
    a = run(ALIF, defaults(ALIF, beta=0.0), x)
    b = run(LIF, defaults(LIF), x)
    np.testing.assert_array_equal(a["v"], b["v"])
    np.testing.assert_array_equal(a["out"], b["out"])


# ---------------------------------------------------------------------------------- izhikevich


@pytest.mark.parametrize(
    ("current", "bias", "r"),
    [(10e-3, 0.0, 1.0), (0.0, 10e-3, 1.0), (4e-3, 6e-3, 1.0), (0.0, 5e-3, 2.0)],
)
def test_izhikevich_forward_euler_in_si(current: float, bias: float, r: float) -> None:
    # In mV and ms with dt = 0.5 ms and I = 10 (r * (current + bias) = 10e-3 V in every case):
    # dv = 0.04 v^2 + 5 v + 140 - u + I, du = 0.02 (0.2 v - u); from v = -65, u = -13: dv = 7
    # -> v = -61.5, du = 0 -> u = -13, ...
    params = defaults(IZHIKEVICH, bias=bias, r=r)
    traj = run(IZHIKEVICH, params, [current] * 3, dt=0.5e-3)
    np.testing.assert_allclose(one(traj["v"]), [-61.5e-3, -58.105e-3, -54.3471795e-3], rtol=1e-12)
    np.testing.assert_allclose(one(traj["u"]), [-13e-3, -12.993e-3, -12.97928e-3], rtol=1e-12)
    np.testing.assert_array_equal(one(traj["out"]), 0.0)


def test_izhikevich_spike_resets_v_and_bumps_u() -> None:
    # From v = 29 mV, u = -13 mV: v1 = 29 + 0.5 (33.64 + 145 + 140 + 13 + 10) = 199.82 > 30;
    # u1 = -13 + 0.5 * 0.02 (5.8 + 13) = -12.812; then v = c = -65, u = -12.812 + 8 = -4.812.
    state = {"v": np.full((1, 1), 29e-3), "u": np.full((1, 1), -13e-3)}
    traj = run(IZHIKEVICH, defaults(IZHIKEVICH), [10e-3], dt=0.5e-3, state=state)
    assert one(traj["out"])[0] == 1.0
    np.testing.assert_allclose(one(traj["v"]), [-65e-3], rtol=1e-12)
    np.testing.assert_allclose(one(traj["u"]), [-4.812e-3], rtol=1e-12)


def test_izhikevich_regular_spiking_fires_tonically() -> None:
    traj = run(IZHIKEVICH, defaults(IZHIKEVICH), [10e-3] * 2000, dt=0.5e-3)
    times = np.flatnonzero(one(traj["out"])) * 0.5e-3
    assert 5 <= len(times) <= 30  # about 10-20 Hz over one second
    isi = np.diff(times)
    assert isi[-1] >= isi[0]  # spike-frequency adaptation of the regular-spiking cell


def test_izhikevich_initial_u_is_b_times_v() -> None:
    p = {k: spec.default for k, spec in IZHIKEVICH.params.items()}
    start = npl.initial_state(IZHIKEVICH.state, p)
    assert start == pytest.approx({"v": -65e-3, "u": 0.2 * -65e-3})
    assert IZHIKEVICH.state["u"].init_text() == "b * v"
    # u follows other parameters and a given initial v; a given u wins
    p.update(b=0.25, c=-55e-3)
    assert npl.initial_state(IZHIKEVICH.state, p)["u"] == pytest.approx(0.25 * -55e-3)
    given_v = npl.initial_state(IZHIKEVICH.state, p, {"v": -70e-3})
    assert given_v["u"] == pytest.approx(0.25 * -70e-3)
    assert npl.initial_state(IZHIKEVICH.state, p, {"u": 1e-3})["u"] == 1e-3
    net = npl.Network(dt=0.5e-3)
    net.population("cell", 3, "izhikevich", c=np.array([-65e-3, -55e-3, -50e-3]))
    u0 = npl.resolve(net).populations[0].initial_state["u"]
    np.testing.assert_allclose(u0, [0.2 * -65e-3, 0.2 * -55e-3, 0.2 * -50e-3])


# ------------------------------------------------------------------------ every neuron model

HETERO = {
    "lif": (
        {
            "tau_mem": [HALF, QUARTER, 0.02],
            "v_th": [1.0, 0.5, 0.8],
            "tau_ref": [0.0, 2e-3, 1e-3],
            "bias": [0.0, 0.3, -0.2],
        },
        {},
    ),
    "if": (
        {"v_th": [1.0, 0.7, 2.0], "r": [1.0, 0.5, 2.0], "bias": [-0.1, 0.0, 0.2]},
        {"reset": "subtract"},
    ),
    "li": (
        {"tau_mem": [HALF, QUARTER, 0.02], "v_rest": [0.0, 0.1, -0.2], "bias": [0.0, 1.0, -1.0]},
        {},
    ),
    "cuba_lif": (
        {
            "tau_syn": [HALF, 0.01, 0.002],
            "w_in": [1.0, 2.0, 0.5],
            "v_reset": [0.0, 0.2, -0.1],
            "bias": [0.5, 0.0, -0.2],
        },
        {"integration": "euler"},
    ),
    "alif": (
        {"tau_adapt": [HALF, 0.1, 0.5], "beta": [0.5, 0.0, 1.0], "bias": [0.2, -0.3, 0.0]},
        {"integration": "add_before_decay"},
    ),
    "izhikevich": (
        {"a": [20.0, 100.0, 20.0], "c": [-65e-3, -50e-3, -55e-3], "bias": [0.0, 2e-3, -1e-3]},
        {},
    ),
}


@pytest.mark.parametrize("model", ALL_NEURONS, ids=lambda m: m.name)
def test_per_neuron_params_broadcast(model: NeuronModel) -> None:
    arrays, options = HETERO[model.name]
    dt = 0.5e-3 if model is IZHIKEVICH else DT
    scale = 10e-3 if model is IZHIKEVICH else 1.0
    x = np.random.default_rng(3).uniform(0.0, 2.5, size=(30, 2, 3)) * scale
    params = defaults(model, **{k: np.array(v) for k, v in arrays.items()})
    together = run(model, params, x, options, dt=dt)
    for n in range(3):
        alone = run(
            model,
            defaults(model, **{k: v[n] for k, v in arrays.items()}),
            x[:, :, n : n + 1],
            options,
            dt=dt,
        )
        for name, traj in alone.items():
            np.testing.assert_allclose(
                together[name][:, :, n : n + 1],
                traj,
                rtol=1e-12,
                err_msg=f"{model.name}.{name}, neuron {n}",
            )


def _option_grid(model: NeuronModel) -> list[dict[str, Any]]:
    grid: list[dict[str, Any]] = [{}]
    for name, option in model.options.items():
        grid = [{**g, name: choice} for g in grid for choice in option.choices]
    return grid


@pytest.mark.parametrize("model", ALL_NEURONS, ids=lambda m: m.name)
def test_step_is_pure_and_keeps_float32(model: NeuronModel) -> None:
    ops = NumpyOps(np.float32)
    ctx = StepContext(dt=0.5e-3 if model is IZHIKEVICH else DT, surrogate=SURROGATE)
    scale = 10e-3 if model is IZHIKEVICH else 1.0
    rng = np.random.default_rng(4)
    # Python floats and float64 per-neuron arrays must not upcast float32 state.
    params = defaults(model)
    first = next(iter(params))
    params[first] = np.full(3, params[first])
    for options in _option_grid(model):
        state = initial_state(model, params, (2, 3), np.float32)
        state = {
            k: (v + rng.uniform(0, 0.1, v.shape) * scale).astype(np.float32)
            for k, v in state.items()
        }
        if "ref" in state:
            state["ref"] = np.array([[0, 1, 2], [0, 0, 3]], dtype=np.float32)
        if "s" in state:
            state["s"] = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
        current = (rng.uniform(0.0, 3.0, (2, 3)) * scale).astype(np.float32)
        frozen = {k: v.copy() for k, v in state.items()}
        for arr in (*state.values(), current, params[first]):
            arr.setflags(write=False)
        for _ in range(3):
            new_state, out = model.step(ops, params, options, state, current, ctx)
            assert set(new_state) == set(model.state), options
            assert out.dtype == np.float32, options
            assert out.shape == (2, 3)
            for name, value in new_state.items():
                assert value.dtype == np.float32, (name, options)
                assert value.shape == (2, 3), (name, options)
        for name, value in state.items():
            np.testing.assert_array_equal(value, frozen[name])


@pytest.mark.parametrize("model", ALL_NEURONS, ids=lambda m: m.name)
def test_float32_follows_float64(model: NeuronModel) -> None:
    dt = 0.5e-3 if model is IZHIKEVICH else DT
    scale = 10e-3 if model is IZHIKEVICH else 1.0
    x = np.random.default_rng(5).uniform(0.0, 1.5, size=(20, 2, 3)) * scale
    a = run(model, defaults(model), x, dt=dt)
    b = run(model, defaults(model), x, dt=dt, dtype=np.float32)
    for name in a:
        assert b[name].dtype == np.float32
    # These inputs keep v away from the threshold by more than float32 rounding, so the spikes
    # are the same and the state agrees to float32 precision (izhikevich's quadratic term
    # amplifies rounding a little more).
    rtol = 1e-4 if model is IZHIKEVICH else 1e-5
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=rtol, atol=1e-7 * scale, err_msg=name)


def test_spiking_models_output_spikes() -> None:
    for model in (LIF, IF, CUBA_LIF, ALIF, IZHIKEVICH):
        assert model.spiking, model.name
        assert model.output == "spikes"


def test_unknown_option_is_refused_with_the_choices() -> None:
    ops = NumpyOps(np.float64)
    state = initial_state(LIF, defaults(LIF), (1, 1))
    ctx = StepContext(dt=DT, surrogate=SURROGATE)
    with pytest.raises(
        EngineError,
        match=(
            r"lif: option integration='rk4' is not one of 'exact', 'euler', 'add_after_decay', "
            r"'add_before_decay'; pass one of them"
        ),
    ):
        LIF.step(ops, defaults(LIF), {"integration": "rk4"}, state, np.zeros((1, 1)), ctx)


def test_missing_param_and_surrogate_are_explained() -> None:
    ops = NumpyOps(np.float64)
    state = initial_state(LIF, defaults(LIF), (1, 1))
    params = defaults(LIF)
    del params["tau_mem"]
    ctx = StepContext(dt=DT, surrogate=SURROGATE)
    with pytest.raises(EngineError, match="lif: parameter 'tau_mem' is missing"):
        LIF.step(ops, params, {}, state, np.zeros((1, 1)), ctx)
    with pytest.raises(EngineError, match="alif: the step context has no surrogate"):
        ALIF.step(
            ops,
            defaults(ALIF),
            {},
            initial_state(ALIF, defaults(ALIF), (1, 1)),
            np.zeros((1, 1)),
            StepContext(dt=DT),
        )
