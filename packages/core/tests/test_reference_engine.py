"""The reference engine against closed forms and the documented time-step semantics."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest

import neuropil as npl
from neuropil.errors import EngineError
from neuropil.reference import NumpyBackend


def _const(value: float, steps: int, n: int = 1) -> np.ndarray:
    return np.full((steps, 1, n), value)


def _pulse(steps: int, n: int, at: dict[int, list[int]]) -> np.ndarray:
    x = np.zeros((steps, 1, n))
    for t, idx in at.items():
        x[t, 0, idx] = 1.0
    return x


@pytest.mark.parametrize("current", [1.2, 1.5, 2.0, 5.0])
@pytest.mark.parametrize("tau", [10e-3, 20e-3])
def test_lif_time_to_first_spike_matches_closed_form(current: float, tau: float) -> None:
    dt = 1e-4
    net = npl.Network(dt=dt)
    drive = net.input("drive", 1)
    pop = net.population("n", 1, "lif", tau_mem=tau, v_th=1.0, r=1.0)
    net.connect(drive, pop, "delta", weights=np.ones(1), connectivity="one_to_one", delay=0)
    net.probe(pop, "spikes")
    steps = 2000
    res = npl.simulate(net, {"drive": _const(current, steps)})
    spikes = res["n.spikes"][:, 0, 0]
    first = int(np.argmax(spikes > 0))
    assert spikes[first] == 1.0
    # after step k the membrane has integrated (k + 1) steps: v = R I (1 - e^{-(k+1) dt / tau})
    t_closed = tau * math.log(current / (current - 1.0))
    assert (first + 1) * dt == pytest.approx(math.ceil(t_closed / dt - 1e-9) * dt)


def test_exponential_synapse_decays_exactly() -> None:
    dt, tau = 1e-3, 5e-3
    net = npl.Network(dt=dt)
    inp = net.input("in", 1)
    pop = net.population("n", 1, "li", tau_mem=10e-3)
    proj = net.connect(inp, pop, "exponential", weights=np.full((1, 1), 0.7), delay=1, tau_syn=tau)
    net.probe(proj, "syn.i")
    res = npl.simulate(net, {"in": _pulse(10, 1, {0: [0]})})
    i = res[f"{proj.name}.syn.i"][:, 0, 0]
    assert i[0] == 0.0  # delay 1: the spike of step 0 arrives at step 1
    expected = [0.7 * math.exp(-n * dt / tau) for n in range(9)]
    np.testing.assert_allclose(i[1:], expected, rtol=1e-12)


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_delay_in_steps(delay: int) -> None:
    net = npl.Network(dt=1e-3)
    inp = net.input("in", 1)
    pop = net.population("n", 1, "if", v_th=0.5)
    net.connect(inp, pop, weights=np.ones((1, 1)), delay=delay)
    net.probe(pop)
    res = npl.simulate(net, {"in": _pulse(8, 1, {2: [0]})})
    assert np.flatnonzero(res["n.spikes"][:, 0, 0]).tolist() == [2 + delay]


def test_chain_latency_one_step_per_hop_and_zero_delay_same_step() -> None:
    for delay, expected in ((1, [3]), (0, [0])):
        net = npl.Network(dt=1e-3)
        prev: npl.Input | npl.Population = net.input("in", 1)
        for k in range(3):
            pop = net.population(f"p{k}", 1, "if", v_th=0.5)
            net.connect(prev, pop, weights=np.ones((1, 1)), delay=delay)
            prev = pop
        net.probe("p2")
        res = npl.simulate(net, {"in": _pulse(6, 1, {0: [0]})})
        assert np.flatnonzero(res["p2.spikes"][:, 0, 0]).tolist() == expected


def test_per_synapse_delays_equal_separate_projections() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(0.3, 0.2, (4, 6))
    d = rng.integers(0, 4, (4, 6))
    x = (rng.random((30, 2, 6)) < 0.3).astype(float)

    net_a = npl.Network(dt=1e-3)
    net_a.input("in", 6)
    net_a.population("n", 4, "lif", tau_mem=10e-3, v_th=0.5, integration="add_after_decay")
    net_a.connect("in", "n", weights=w, delay=d)
    net_a.probe("n", "v")

    net_b = npl.Network(dt=1e-3)
    net_b.input("in", 6)
    net_b.population("n", 4, "lif", tau_mem=10e-3, v_th=0.5, integration="add_after_decay")
    for k in range(4):
        net_b.connect("in", "n", weights=np.where(d == k, w, 0.0), delay=k)
    net_b.probe("n", "v")
    va = npl.simulate(net_a, {"in": x})["n.v"]
    vb = npl.simulate(net_b, {"in": x})["n.v"]
    np.testing.assert_allclose(va, vb, rtol=1e-12, atol=1e-12)


def _run_kind(
    connectivity: npl.Connectivity | Literal["dense", "one_to_one"],
    w: np.ndarray,
    n_pre: int,
    n_post: int,
    x: np.ndarray,
    *,
    pre_shape: tuple[int, ...] | None = None,
    post_shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    net = npl.Network(dt=1e-3)
    net.input("in", n_pre, shape=pre_shape)
    net.population("n", n_post, "li", tau_mem=5e-3, shape=post_shape)
    net.connect("in", "n", weights=w, connectivity=connectivity, delay=1)
    net.probe("n", "v")
    return npl.simulate(net, {"in": x})["n.v"]


def test_connectivity_kinds_agree_with_dense() -> None:
    rng = np.random.default_rng(2)
    x = (rng.random((12, 3, 5)) < 0.4).astype(float)
    dense = rng.normal(size=(4, 5))
    pre, post = np.nonzero(dense.T > 0.0)  # (pre, post) pairs of positive weights
    w_sparse = dense[post, pre]
    masked = np.where(dense.T > 0.0, dense.T, 0.0).T
    ref = _run_kind("dense", masked, 5, 4, x)
    got = _run_kind(npl.Connectivity.sparse(pre, post), w_sparse, 5, 4, x)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    got_list = _run_kind(
        npl.Connectivity.from_list(list(zip(pre, post, strict=True))), w_sparse, 5, 4, x
    )
    np.testing.assert_allclose(got_list, ref, rtol=1e-12, atol=1e-14)
    diag = rng.normal(size=5)
    np.testing.assert_allclose(
        _run_kind("one_to_one", diag, 5, 5, x),
        _run_kind("dense", np.diag(diag), 5, 5, x),
        rtol=1e-12,
        atol=1e-14,
    )


def test_conv2d_matches_explicit_convolution() -> None:
    rng = np.random.default_rng(3)
    c_in, h, w_, c_out, k, stride, pad = 2, 5, 6, 3, 3, 2, 1
    h_out = (h + 2 * pad - k) // stride + 1
    w_out = (w_ + 2 * pad - k) // stride + 1
    kernel = rng.normal(size=(c_out, c_in, k, k))
    dense = np.zeros((c_out * h_out * w_out, c_in * h * w_))
    for o in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                for c in range(c_in):
                    for a in range(k):
                        for b in range(k):
                            y, xx = i * stride + a - pad, j * stride + b - pad
                            if 0 <= y < h and 0 <= xx < w_:
                                dense[(o * h_out + i) * w_out + j, (c * h + y) * w_ + xx] += kernel[
                                    o, c, a, b
                                ]
    x = (rng.random((6, 2, c_in * h * w_)) < 0.5).astype(float)
    got = _run_kind(
        npl.Connectivity.conv2d(k, stride, pad),
        kernel,
        c_in * h * w_,
        c_out * h_out * w_out,
        x,
        pre_shape=(c_in, h, w_),
        post_shape=(c_out, h_out, w_out),
    )
    ref = _run_kind("dense", dense, c_in * h * w_, c_out * h_out * w_out, x)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def _stdp_net(pre_step: int, post_step: int, delay: int) -> float:
    dt = 1e-3
    net = npl.Network(dt=dt)
    net.input("pre", 1)
    net.input("drive", 1)
    net.population("post", 1, "if", v_th=0.5)
    net.connect("drive", "post", weights=np.ones((1, 1)), delay=0, name="drive_proj")
    proj = net.connect(
        "pre",
        "post",
        weights=np.full((1, 1), 0.0),
        delay=delay,
        plasticity=npl.Plasticity(
            "stdp",
            {
                "a_plus": 0.01,
                "a_minus": 0.012,
                "tau_plus": 20e-3,
                "tau_minus": 20e-3,
                "w_min": -1.0,
                "w_max": 1.0,
            },
        ),
    )
    net.probe(proj, "weights")
    steps = 120
    res = npl.simulate(
        net,
        {"pre": _pulse(steps, 1, {pre_step: [0]}), "drive": _pulse(steps, 1, {post_step: [0]})},
        steps=steps,
    )
    return float(res[f"{proj.name}.weights"][-1, 0])


@pytest.mark.parametrize("lag", [-30, -7, -1, 0, 1, 5, 25])
@pytest.mark.parametrize("delay", [1, 4])
def test_stdp_window_closed_form(lag: int, delay: int) -> None:
    # the pre spike reaches the synapse `delay` steps after emission: that is its time for STDP
    arrival = 40
    dw = _stdp_net(arrival - delay, arrival + lag, delay)
    dt = 1e-3
    ltp, ltd = 0.01 * math.exp(-lag * dt / 20e-3), -0.012 * math.exp(lag * dt / 20e-3)
    expected = ltp if lag >= 0 else ltd
    assert dw == pytest.approx(expected, rel=1e-12)


def test_plasticity_respects_sign_and_mask() -> None:
    rng = np.random.default_rng(4)
    net = npl.Network(dt=1e-3)
    net.input("in", 4)
    net.population("n", 3, "lif", tau_mem=10e-3, v_th=0.2, integration="add_after_decay")
    mask = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool)
    proj = net.connect(
        "in",
        "n",
        weights=np.full((3, 4), 0.05),
        mask=mask,
        sign="excitatory",
        plasticity=npl.Plasticity(
            "stdp", {"a_plus": 0.0, "a_minus": 0.2, "w_min": 0.0, "w_max": 1.0}
        ),
    )
    net.probe(proj, "weights")
    x = (rng.random((60, 1, 4)) < 0.5).astype(float)
    w = npl.simulate(net, {"in": x})[f"{proj.name}.weights"][-1].reshape(3, 4)
    assert np.all(w >= 0.0)
    assert np.all(w[~mask] == 0.0)
    assert np.any(w[mask] < 0.05)  # depression happened


def test_float32_and_float64_agree_and_keep_dtype() -> None:
    rng = np.random.default_rng(5)
    net = npl.Network(dt=1e-3)
    net.input("in", 20)
    net.population("h", 30, "lif", tau_mem=20e-3)
    net.population("o", 5, "li", tau_mem=20e-3)
    net.connect(
        "in", "h", "exponential", weights=npl.WeightInit("normal", {"std": 0.8}, 7), tau_syn=5e-3
    )
    net.connect("h", "o", weights=npl.WeightInit("normal", {"std": 0.3}, 8))
    net.probe("o", "v")
    x = (rng.random((50, 2, 20)) < 0.2).astype(float)
    r64 = NumpyBackend().compile(net, dtype="float64").run({"in": x})["o.v"]
    r32 = NumpyBackend().compile(net, dtype="float32").run({"in": x})["o.v"]
    assert r64.dtype == np.float64
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, r64, rtol=1e-3, atol=1e-4)


def test_deterministic_and_parameters_round_trip() -> None:
    rng = np.random.default_rng(6)
    net = npl.Network(dt=1e-3)
    net.input("in", 8)
    net.population("h", 10, "lif", tau_mem=np.linspace(5e-3, 30e-3, 10), v_th=0.3)
    net.connect("in", "h", weights=npl.WeightInit("uniform", {"low": 0.0, "high": 0.5}, 3))
    net.connect("h", "h", weights=npl.WeightInit("normal", {"std": 0.1}, 4), delay=2)
    net.probe("h")
    x = (rng.random((40, 3, 8)) < 0.3).astype(float)
    sim = NumpyBackend().compile(net)
    a = sim.run({"in": x})["h.spikes"]
    b = sim.run({"in": x})["h.spikes"]
    np.testing.assert_array_equal(a, b)
    params = sim.get_parameters()
    assert params["h.tau_mem"].shape == (10,)
    assert params["in->h.weights"].shape == (10, 8)
    sim.set_parameters({"in->h.weights": np.zeros((10, 8))})
    assert sim.run({"in": x})["h.spikes"].sum() == 0
    with pytest.raises(EngineError, match=r"no parameter named 'in->h.weight'; did you mean"):
        sim.set_parameters({"in->h.weight": 0.0})
    with pytest.raises(EngineError, match=r"has shape \(10, 8\), got \(8, 10\)"):
        sim.set_parameters({"in->h.weights": np.zeros((8, 10))})


def test_input_errors_are_clear() -> None:
    net = npl.Network(dt=1e-3)
    net.input("in", 3)
    net.population("n", 2, "lif")
    net.connect("in", "n")
    sim = NumpyBackend().compile(net)
    with pytest.raises(EngineError, match=r"no input named 'inn'; did you mean 'in'\?"):
        sim.run({"inn": np.zeros((5, 1, 3))})
    with pytest.raises(EngineError, match=r"must be \[T, B, 3\]"):
        sim.run({"in": np.zeros((5, 3))})
    with pytest.raises(
        EngineError,
        match=r"no input given, so the number of steps is unknown: pass the network's inputs "
        r"\('in' \[T, B, 3\]\), or give steps=T to run with every input at zero",
    ):
        sim.run({})
    with pytest.raises(EngineError, match="has 5 steps but the run asks for 9"):
        sim.run({"in": np.zeros((5, 1, 3))}, steps=9)
    with pytest.raises(EngineError, match="dtype 'float32' or 'float64'"):
        NumpyBackend().compile(net, dtype="float16")
    assert sim.run({}, steps=4).steps == 4


def test_set_parameters_checks_everything_before_applying_anything() -> None:
    net = npl.Network(dt=1e-3)
    net.input("in", 3)
    net.population("h", 2, "lif", tau_mem=20e-3)
    net.connect("in", "h", weights=np.full((2, 3), 0.5), sign="excitatory")
    sim = NumpyBackend().compile(net)
    with pytest.raises(EngineError, match=r"'h.tau_mem' must lie in \(0, 10\] s, got -1"):
        sim.set_parameters({"h.tau_mem": -1.0})
    with pytest.raises(EngineError, match=r"excitatory, so its weights must be >= 0; 6 are not"):
        sim.set_parameters({"in->h.weights": -np.ones((2, 3))})
    with pytest.raises(EngineError, match=r"no parameter named 'h\.bogus'"):
        sim.set_parameters({"h.tau_mem": 0.05, "h.bogus": 1.0})
    assert float(sim.get_parameters()["h.tau_mem"]) == 20e-3  # nothing applied
    sim.set_parameters({"h.tau_mem": [0.01, 0.03]})
    np.testing.assert_array_equal(sim.get_parameters()["h.tau_mem"], [0.01, 0.03])


def test_inputs_must_be_numbers_and_steps_whole() -> None:
    net = npl.Network(dt=1e-3)
    net.input("in", 2)
    net.population("h", 2, "lif")
    net.connect("in", "h")
    sim = NumpyBackend().compile(net)
    with pytest.raises(EngineError, match="must hold numbers"):
        sim.run({"in": np.full((3, 1, 2), "a")})
    with pytest.raises(EngineError, match=r"steps must be a whole number >= 0, got 2\.5"):
        sim.run({}, steps=2.5)  # type: ignore[arg-type]
    assert sim.run({"in": np.ones((3, 1, 2), dtype=bool)}).steps == 3


def test_a_delay_longer_than_the_run_costs_no_memory() -> None:
    net = npl.Network(dt=1e-3)
    net.input("in", 1000)
    net.population("h", 1, "lif")
    net.connect("in", "h", weights=np.ones((1, 1000)), delay=10**8)
    net.probe("h", "v")
    res = npl.simulate(net, {"in": np.ones((5, 1, 1000))})
    assert np.all(res["h.v"] == 0.0)


def test_inputs_of_different_lengths_are_refused() -> None:
    net = npl.Network(dt=1e-3)
    net.input("a", 1)
    net.input("b", 1)
    net.population("h", 1, "lif")
    net.connect("a", "h")
    net.connect("b", "h")
    with pytest.raises(
        EngineError, match="inputs disagree on the number of steps: 'b' has 12, 'a' has 10"
    ):
        npl.simulate(net, {"a": np.ones((10, 1, 1)), "b": np.ones((12, 1, 1))})


def test_a_result_reads_like_a_mapping_of_recordings() -> None:
    net = npl.Network(dt=1e-3)
    net.input("in", 2)
    net.population("h", 3, "lif")
    net.connect("in", "h")
    net.probe("h", "v")
    net.probe("h")
    res = npl.simulate(net, {"in": np.ones((4, 1, 2))})
    assert list(res) == list(res.keys()) == ["h.v", "h.spikes"]
    assert len(res) == 2
    assert "h.v" in res
    assert "h.u" not in res
    assert dict(res.items())["h.v"].shape == (4, 1, 3)
    with pytest.raises(KeyError, match=r"nothing recorded as 'h\.u'; recorded: h\.spikes, h\.v"):
        res["h.u"]
