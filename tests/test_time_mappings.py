"""The rows of the table in docs/concepts/time.md, checked.

Each test re-implements one tool's step in plain numpy, from the facts stated on that page, and
checks that neuropil's reference engine, configured as the row says, emits the same spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import neuropil

F64 = npt.NDArray[np.float64]
DT = 1e-3
T, B, N_IN, N = 200, 3, 10, 12


@pytest.fixture
def data() -> tuple[F64, F64]:
    rng = np.random.default_rng(2)
    x = (rng.random((T, B, N_IN)) < 0.2).astype(np.float64)
    w = rng.normal(0.2, 0.3, (N, N_IN))
    return x, w


def _neuropil(
    x: F64,
    w: F64,
    model: str,
    delay: int,
    *,
    synapse: str = "delta",
    synapse_params: dict[str, Any] | None = None,
    initial_state: dict[str, float] | None = None,
    probe: str = "spikes",
    **params: Any,
) -> F64:
    net = neuropil.Network(dt=DT)
    net.input("in", N_IN)
    net.population("p", N, model, initial_state=initial_state, **params)
    net.connect("in", "p", synapse, weights=w, delay=delay, **(synapse_params or {}))
    net.probe("p", probe)
    out: F64 = neuropil.simulate(net, {"in": x})[f"p.{probe}"]
    return out


def _active(spikes: F64) -> None:
    # A mapping check means nothing on a silent or saturated population.
    assert 0.02 < spikes.mean() < 0.95


@pytest.mark.parametrize("linear_bias", [False, True])
def test_snntorch_leaky_subtract(data: tuple[F64, F64], linear_bias: bool) -> None:
    x, w = data
    beta, threshold = 0.9, 1.0
    # The bias of the nn.Linear in front of the layer: the post population's `bias`.
    b = np.random.default_rng(3).normal(0.0, 0.05, N) if linear_bias else np.zeros(N)
    mem, spk = np.zeros((B, N)), np.zeros((B, N))
    spikes, mems = [], []
    for t in range(T):
        mem = beta * mem + (x[t] @ w.T + b) - spk * threshold
        spk = (mem - threshold > 0).astype(np.float64)
        spikes.append(spk)
        mems.append(mem)
    options: dict[str, Any] = {
        "integration": "add_after_decay",
        "reset": "subtract",
        "reset_timing": "deferred",
    }
    tau = -DT / np.log(beta)
    got = _neuropil(x, w, "lif", 0, tau_mem=tau, bias=b, **options)
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))
    v = _neuropil(x, w, "lif", 0, probe="v", tau_mem=tau, bias=b, **options)
    np.testing.assert_allclose(v, np.array(mems), rtol=0, atol=1e-12)


def test_snntorch_leaky_zero(data: tuple[F64, F64]) -> None:
    x, w = data
    beta = 0.9
    mem, spk = np.zeros((B, N)), np.zeros((B, N))
    spikes = []
    for t in range(T):
        mem = beta * (1 - spk) * mem + x[t] @ w.T
        spk = (mem - 1.0 > 0).astype(np.float64)
        spikes.append(spk)
    got = _neuropil(
        x,
        w,
        "lif",
        0,
        tau_mem=-DT / np.log(beta),
        integration="add_after_decay",
        reset="value",
        reset_timing="immediate",
    )
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))


def test_norse_lif_box_cell(data: tuple[F64, F64]) -> None:
    x, w = data
    w = w * 30
    tau_mem_inv = 100.0
    v = np.zeros((B, N))
    spikes = []
    for t in range(T):
        v_decayed = v + DT * tau_mem_inv * ((0.0 - v) + x[t] @ w.T)
        z = (v_decayed - 1.0 > 0).astype(np.float64)
        v = (1 - z) * v_decayed
        spikes.append(z)
    got = _neuropil(
        x,
        w,
        "lif",
        0,
        tau_mem=1 / tau_mem_inv,
        integration="euler",
        reset="value",
        reset_timing="immediate",
    )
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))


def test_norse_lif_cell_has_one_step_of_latency(data: tuple[F64, F64]) -> None:
    x, w = data
    w = w * 10
    tau_mem_inv, tau_syn_inv = 100.0, 200.0
    v, i = np.zeros((B, N)), np.zeros((B, N))
    spikes = []
    for t in range(T):
        v_decayed = v + DT * tau_mem_inv * ((0.0 - v) + i)
        i_decayed = i - DT * tau_syn_inv * i
        z = (v_decayed - 1.0 > 0).astype(np.float64)
        v = (1 - z) * v_decayed
        i = i_decayed + x[t] @ w.T
        spikes.append(z)
    got = _neuropil(
        x,
        w,
        "cuba_lif",
        1,
        tau_mem=1 / tau_mem_inv,
        tau_syn=-DT / np.log(1 - DT * tau_syn_inv),
        integration="euler",
        reset="value",
        reset_timing="immediate",
    )
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))


def _brian2(
    x: F64, w: F64, tau: float, v_rest: float, v_reset: float, refractory: float, delay: int
) -> F64:
    """Brian2's schedule: state update, threshold, delivery, reset; writes dropped while
    refractory; refractory while timestep(t - lastspike) < timestep(refractory)."""
    decay = np.exp(-DT / tau)
    k = round(refractory / DT)
    u = np.full((B, N), v_rest)
    last = np.full((B, N), -(10**9))
    out = np.zeros((T, B, N))
    for n in range(T):
        free = (n - last) >= k
        b = np.where(free, v_rest + (u - v_rest) * decay, u)
        spike = (b > 1.0) & free
        delivered = x[n - delay] @ w.T if n - delay >= 0 else 0.0
        u = np.where(spike, v_reset, b + np.where(free, delivered, 0.0))
        last = np.where(spike, n, last)
        out[n] = spike
    return out


@pytest.mark.parametrize(
    ("v_rest", "v_reset", "refractory", "delay"),
    [(0.0, 0.0, 0.0, 0), (0.0, 0.0, 3e-3, 2), (0.0, -0.3, 0.0, 1), (0.1, 0.5, 4e-3, 3)],
)
def test_brian2_lif(
    data: tuple[F64, F64], v_rest: float, v_reset: float, refractory: float, delay: int
) -> None:
    x, w = data
    w = w * 0.5
    tau = 20e-3
    expected = _brian2(x, w, tau, v_rest, v_reset, refractory, delay)
    got = _neuropil(
        x,
        w,
        "lif",
        delay + 1,
        tau_mem=tau,
        v_rest=v_rest,
        v_reset=v_rest + (v_reset - v_rest) * np.exp(-DT / tau),
        tau_ref=max(refractory, DT),
        integration="add_before_decay",
        reset="value",
        reset_timing="immediate",
    )
    _active(got)
    np.testing.assert_array_equal(got, expected)


def test_lava_floating_point_lif_and_dense(data: tuple[F64, F64]) -> None:
    x, w = data
    du, dv = 0.3, 0.1
    bias = np.linspace(-0.05, 0.1, N)  # Lava's bias, one per neuron
    u, v, a = np.zeros((B, N)), np.zeros((B, N)), np.zeros((B, N))
    spikes, voltages = [], []
    for t in range(T):
        u = u * (1 - du) + a  # Dense sends what it accumulated in the last step
        v = v * (1 - dv) + u + bias
        s = (v > 1.0).astype(np.float64)
        v = np.where(s > 0, 0.0, v)
        spikes.append(s)
        voltages.append(v)
        a = x[t] @ w.T
    params: dict[str, Any] = {
        "tau_syn": -DT / np.log(1 - du),
        "tau_mem": -DT / np.log(1 - dv),
        "bias": bias,
        "r": 1.0,
        "v_reset": 0.0,
        "integration": "add_after_decay",
        "reset": "value",
        "reset_timing": "immediate",
    }
    got = _neuropil(x, w, "cuba_lif", 1, **params)
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))
    v_got = _neuropil(x, w, "cuba_lif", 1, probe="v", **params)
    np.testing.assert_allclose(v_got, np.array(voltages), rtol=0, atol=1e-12)


def test_spynnaker_if_curr_exp_in_floating_point(data: tuple[F64, F64]) -> None:
    x, w = data
    w = w * 300
    tau_m, c_m, v_rest, tau_syn, i_offset, t_refract, delay = 20e-3, 1.0, 0.0, 5e-3, 0.2, 2, 1
    r = tau_m / c_m
    exp_tc, decay = np.exp(-DT / tau_m), np.exp(-DT / tau_syn)
    init = tau_syn / DT * (1 - decay)
    syn, v, timer = np.zeros((B, N)), np.full((B, N), v_rest), np.zeros((B, N))
    spikes = []
    for t in range(T):
        if t - delay >= 0:
            syn = syn + (x[t - delay] @ w.T) * init
        refractory = timer > 0
        alpha = (syn + i_offset) * r + v_rest
        v = np.where(refractory, v, alpha - exp_tc * (alpha - v))
        timer = np.where(refractory, timer - 1, timer)
        s = (v > 1.0) & ~refractory
        v = np.where(s, 0.0, v)
        timer = np.where(s, t_refract, timer)
        spikes.append(s.astype(np.float64))
        syn = syn * decay
    got = _neuropil(
        x,
        w * init,
        "lif",
        delay,
        synapse="exponential",
        synapse_params={"tau_syn": tau_syn},
        tau_mem=tau_m,
        r=r,
        v_rest=v_rest,
        bias=i_offset,
        v_reset=0.0,
        initial_state={"v": v_rest},
        tau_ref=t_refract * DT,
        integration="exact",
        reset="value",
        reset_timing="immediate",
    )
    _active(got)
    np.testing.assert_array_equal(got, np.array(spikes))
