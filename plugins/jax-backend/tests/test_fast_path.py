"""The layer-by-layer fast path agrees with the portable path: spikes exactly, gradients closely."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuropil
from neuropil import Network
from neuropil_jax import JaxBackend
from neuropil_jax._engine import JaxSimulator, simulate


def _net(model: str, readout: str = "li", **options: Any) -> Network:
    rng = np.random.default_rng(3)
    net = Network(dt=1e-3)
    inp = net.input("in", 20)
    hid = net.population("hidden", 32, model, **options)
    out = net.population("out", 5, readout)
    net.connect(inp, hid, weights=rng.normal(0.0, 4.0, (32, 20)))
    net.connect(hid, out, weights=rng.normal(0.0, 1.0, (5, 32)), delay=2)
    net.connect(inp, out, weights=rng.normal(0.0, 0.5, (5, 20)), delay=0)
    net.probe(hid, "spikes")
    net.probe(hid, "v")
    net.probe(out, "v" if readout == "li" else "spikes")
    return net


CASES = [
    ("lif", {}),
    ("lif", {"integration": "euler", "reset": "subtract"}),
    ("lif", {"integration": "add_after_decay", "reset": "none", "v_th": 0.8}),
    ("lif", {"integration": "add_before_decay", "v_reset": -0.2}),
    ("lif", {"reset_timing": "deferred", "tau_ref": 2e-3}),
    ("cuba_lif", {}),
    ("cuba_lif", {"reset": "subtract", "w_in": 2.0}),
    ("alif", {}),
    ("alif", {"reset": "subtract", "beta": 0.5, "integration": "euler"}),
    ("li", {}),
]


def _inputs(steps: int = 40, batch: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {"in": (rng.random((steps, batch, 20)) < 0.3).astype(np.float64)}


def _loss(ops: Any, rec: Any) -> Any:
    v = rec["out.v"]
    return ops.mean(v * v) + ops.mean(rec["hidden.spikes"]) + ops.mean(rec["hidden.v"] ** 2)


def _pair(net: Network) -> tuple[JaxSimulator, JaxSimulator]:
    fast = JaxBackend().compile(net, dtype="float64")
    slow = JaxBackend().compile(net, dtype="float64", fast=False)
    return fast, slow


def _assert_same_run(a: Any, b: Any, exact_spikes: bool = True) -> None:
    if exact_spikes:
        np.testing.assert_array_equal(a["hidden.spikes"], b["hidden.spikes"])
    for key in a.recordings:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12)
    assert list(a.final_state) == list(b.final_state)
    for key in a.final_state:
        np.testing.assert_allclose(a.final_state[key], b.final_state[key], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("model", "options"), CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)]
)
def test_fast_equals_portable(model: str, options: dict[str, Any]) -> None:
    fast, slow = _pair(_net(model, **options))
    assert fast.fast_layers == ["hidden", "out"]
    assert fast.stages == [["hidden"], ["out"]]
    assert slow.fast_layers == []
    assert slow.stages == [["hidden", "out"]]
    inputs = _inputs()
    a, b = fast.run(inputs), slow.run(inputs)
    assert a["hidden.spikes"].sum() > 0
    _assert_same_run(a, b, exact_spikes=model != "li")
    la, ga = fast.loss_and_grad(inputs, _loss)
    lb, gb = slow.loss_and_grad(inputs, _loss)
    assert la == pytest.approx(lb, rel=1e-12)
    assert set(ga) == set(gb) == {"in->hidden.weights", "hidden->out.weights", "in->out.weights"}
    for key in ga:
        assert np.any(ga[key] != 0)
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)


def test_fast_path_matches_reference_float64() -> None:
    net = _net("lif")
    ref = neuropil.compile(net, backend="numpy", dtype="float64").run(_inputs())
    got = JaxBackend().compile(net, dtype="float64").run(_inputs())
    np.testing.assert_array_equal(ref["hidden.spikes"], got["hidden.spikes"])
    np.testing.assert_allclose(ref["out.v"], got["out.v"], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ref.final_state["hidden.ref"], got.final_state["hidden.ref"])


def test_refractory_counter_held_at_zero_only_without_a_refractory_period() -> None:
    net = _net("lif")
    net.probe("hidden", "ref")
    fast, slow = _pair(net)
    assert fast.plan.still == {"hidden": ("ref",)}
    assert slow.plan.still == {}
    a, b = fast.run(_inputs()), slow.run(_inputs())
    _assert_same_run(a, b)
    assert not np.any(a["hidden.ref"])
    # a refractory period set later makes the counter live again, on both paths
    for sim in (fast, slow):
        sim.set_parameters({"hidden.tau_ref": 3e-3})
    assert fast.plan.still == {}
    a, b = fast.run(_inputs()), slow.run(_inputs())
    _assert_same_run(a, b)
    assert np.any(a["hidden.ref"] > 0)
    ga = fast.loss_and_grad(_inputs(), _loss)[1]
    gb = slow.loss_and_grad(_inputs(), _loss)[1]
    for key in ga:
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)


def test_truncated_bptt_agrees_between_paths() -> None:
    net = _net("cuba_lif")
    fast, slow = _pair(net)
    inputs = {k: jnp.asarray(v) for k, v in _inputs().items()}

    def grads(sim: JaxSimulator, tbptt: int | None) -> dict[str, Any]:
        params = sim.device_params()
        train = {k: params.pop(k) for k in sim.trainable}

        def objective(t: dict[str, Any]) -> Any:
            recs, _ = simulate(
                sim.plan, sim.ops, sim.seed, {**params, **t}, inputs, sim.records, tbptt
            )
            return _loss(sim.ops, recs)

        return {k: np.asarray(g) for k, g in jax.grad(objective)(train).items()}

    full = grads(fast, None)
    for window in (3, 7):
        ga, gb = grads(fast, window), grads(slow, window)
        for key in ga:
            np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)
        assert not np.allclose(ga["in->hidden.weights"], full["in->hidden.weights"])


def test_recurrent_and_plastic_networks() -> None:
    net = _net("lif")
    net.connect("hidden", "hidden", weights=np.full((32, 32), 0.05))
    fast, slow = _pair(net)
    assert fast.stages == [["hidden"], ["out"]]
    assert fast.fast_layers == ["out"]
    _assert_same_run(fast.run(_inputs()), slow.run(_inputs()))
    # a cycle through two populations is one stage
    net = _net("lif")
    net.connect("out", "hidden", weights=np.full((32, 5), 0.1))
    fast, slow = _pair(net)
    assert fast.stages == [["hidden", "out"]]
    assert fast.fast_layers == []
    _assert_same_run(fast.run(_inputs()), slow.run(_inputs()))
    # plastic weights change during the run: the whole network stays in one scan
    net = _net("lif")
    w = np.full((5, 32), 0.1)
    net.connect("hidden", "out", weights=w, plasticity="stdp", sign="excitatory")
    fast, slow = _pair(net)
    assert fast.stages == [["hidden", "out"]]
    _assert_same_run(fast.run(_inputs()), slow.run(_inputs()))


def test_delays_between_stages() -> None:
    rng = np.random.default_rng(5)
    net = Network(dt=1e-3)
    inp = net.input("in", 20)
    a = net.population("a", 16, "lif", tau_mem=10e-3)
    b = net.population("b", 12, "cuba_lif")
    c = net.population("c", 4, "li")
    net.connect(inp, a, weights=rng.normal(0.0, 4.0, (16, 20)), delay=0)
    net.connect(
        a,
        b,
        weights=rng.normal(0.0, 3.0, (12, 16)),
        delay=rng.integers(0, 4, (12, 16)),
        synapse="exponential",
    )
    net.connect(a, c, weights=rng.normal(0.0, 1.0, (4, 16)), delay=50)  # beyond the run
    net.connect(b, c, weights=rng.normal(0.0, 1.0, (4, 12)), delay=0)
    for pop in ("a", "b", "c"):
        net.probe(pop, "v")
    fast, slow = _pair(net)
    assert fast.fast_layers == ["a", "b", "c"]
    x = _inputs(steps=30)
    ra, rb = fast.run(x), slow.run(x)
    for key in ra.recordings:
        np.testing.assert_allclose(ra[key], rb[key], rtol=1e-12, atol=1e-12)
    assert np.any(ra["b.v"] != 0)
    ref = neuropil.compile(net, backend="numpy", dtype="float64").run(x)
    np.testing.assert_allclose(ra["c.v"], ref["c.v"], rtol=1e-9, atol=1e-12)

    def loss(ops: Any, rec: Any) -> Any:
        return ops.mean(rec["c.v"] ** 2) + ops.mean(rec["b.v"] ** 2)

    ga, gb = fast.loss_and_grad(x, loss)[1], slow.loss_and_grad(x, loss)[1]
    for key in ga:
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)


def test_float32_fast_path_runs_and_trains() -> None:
    sim = JaxBackend().compile(_net("lif"), dtype="float32")
    result = sim.run(_inputs())
    assert result["out.v"].dtype == np.float32
    loss, grads = sim.loss_and_grad(_inputs(), _loss)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
