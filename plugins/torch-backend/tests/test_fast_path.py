"""The fused fast path agrees with the portable path: spikes exactly, gradients closely."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

import neuropil
from neuropil import Network
from neuropil_torch import TorchBackend, TorchOps
from neuropil_torch import _fast as fast_module
from neuropil_torch._fast import LayerSpec


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
    return ops.mean(v * v) + ops.mean(rec.get("hidden.spikes", v))


@pytest.mark.parametrize(
    ("model", "options"), CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)]
)
def test_fast_equals_portable(model: str, options: dict[str, Any]) -> None:
    net = _net(model, **options)
    fast = TorchBackend().compile(net, dtype="float64", fast=True)
    slow = TorchBackend().compile(net, dtype="float64", fast=False)
    assert fast.fast_layers == ["hidden", "out"]
    assert slow.fast_layers == []
    inputs = _inputs()
    a, b = fast.run(inputs), slow.run(inputs)
    assert a["hidden.spikes"].sum() > 0
    if model == "li":  # its output is v, equal up to the summation order of the matmul
        np.testing.assert_allclose(a["hidden.spikes"], b["hidden.spikes"], rtol=1e-12)
    else:
        np.testing.assert_array_equal(a["hidden.spikes"], b["hidden.spikes"])
    for key in ("hidden.v", "out.v"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12)
    assert set(a.final_state) == set(b.final_state)
    for key in a.final_state:
        np.testing.assert_allclose(a.final_state[key], b.final_state[key], rtol=1e-12, atol=1e-12)
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
    got = TorchBackend().compile(net, dtype="float64").run(_inputs())
    np.testing.assert_array_equal(ref["hidden.spikes"], got["hidden.spikes"])
    np.testing.assert_allclose(ref["out.v"], got["out.v"], rtol=1e-9, atol=1e-12)


def test_truncated_bptt_agrees_between_paths() -> None:
    net = _net("cuba_lif")
    fast = TorchBackend().compile(net, dtype="float64")
    slow = TorchBackend().compile(net, dtype="float64", fast=False)
    full = fast.loss_and_grad(_inputs(), _loss)[1]
    for sim in (fast, slow):
        sim.module.tbptt = 7
    ga = fast.loss_and_grad(_inputs(), _loss)[1]
    gb = slow.loss_and_grad(_inputs(), _loss)[1]
    for key in ga:
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)
    assert not np.allclose(ga["in->hidden.weights"], full["in->hidden.weights"])


def test_not_chosen_for_recurrent_or_refractory_layers() -> None:
    net = _net("lif", tau_ref=2e-3)
    assert TorchBackend().compile(net).fast_layers == ["out"]
    net = _net("lif")
    net.connect("hidden", "hidden", weights=np.zeros((32, 32)))
    sim = TorchBackend().compile(net)
    assert sim.fast_layers == ["out"]
    why = {g.pops[0]: g.why_not_fast for g in sim.module.groups}
    assert "recurrent projection" in why["hidden"]


def test_float32_and_ops_spike_surrogate() -> None:
    sim = TorchBackend().compile(_net("lif"), dtype="float32")
    result = sim.run(_inputs())
    assert result["out.v"].dtype == np.float32
    ops = TorchOps(torch.float64)
    x = torch.tensor([-0.5, 0.0, 0.25], dtype=torch.float64, requires_grad=True)
    sur = neuropil.get_registry().surrogate("fast_sigmoid").bind()
    s = ops.spike(x, sur)
    assert s.tolist() == [0.0, 0.0, 1.0]
    s.sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + 25 * np.abs(x.detach().numpy())) ** 2)


def _loss_with_v(ops: Any, rec: Any) -> Any:
    # the hidden membrane too, so that the gradient of v (not only of the spikes) flows back
    return _loss(ops, rec) + ops.mean(rec["hidden.v"] * rec["hidden.v"])


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("lif", {"surrogate": "arctan", "surrogate_params": {"slope": 3.0}}),
        ("lif", {"surrogate": "triangle", "reset": "subtract", "integration": "exact"}),
        ("lif", {"reset": "none", "v_rest": 0.1, "integration": "add_after_decay"}),
        ("cuba_lif", {"surrogate": "arctan", "integration": "add_before_decay"}),
        ("alif", {"surrogate": "triangle", "surrogate_params": {"slope": 0.5}}),
        ("li", {"integration": "euler"}),
    ],
)
def test_gradient_of_v_and_other_surrogates(model: str, options: dict[str, Any]) -> None:
    net = _net(model, **options)
    fast = TorchBackend().compile(net, dtype="float64")
    slow = TorchBackend().compile(net, dtype="float64", fast=False)
    assert fast.fast_layers == ["hidden", "out"]
    la, ga = fast.loss_and_grad(_inputs(), _loss_with_v)
    lb, gb = slow.loss_and_grad(_inputs(), _loss_with_v)
    assert la == pytest.approx(lb, rel=1e-12)
    for key in ga:
        assert np.any(ga[key] != 0)
        np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)


def test_backward_in_blocks_with_truncation(monkeypatch: pytest.MonkeyPatch) -> None:
    # blocks of 2 steps: the recurrence must carry across block edges, and stop at cuts
    monkeypatch.setattr(fast_module, "_BLOCK_BYTES", 2 * 3 * 32 * 8)
    net = _net("lif", reset="subtract")
    fast = TorchBackend().compile(net, dtype="float64")
    slow = TorchBackend().compile(net, dtype="float64", fast=False)
    for window in (None, 5):
        fast.module.tbptt = slow.module.tbptt = window
        ga = fast.loss_and_grad(_inputs(), _loss_with_v)[1]
        gb = slow.loss_and_grad(_inputs(), _loss_with_v)[1]
        for key in ga:
            np.testing.assert_allclose(ga[key], gb[key], rtol=1e-9, atol=1e-12)


def test_layer_without_input_during_the_run() -> None:
    # one step: the hidden layer's only projection (delay 1) delivers nothing yet
    net = _net("cuba_lif", bias=0.5)
    fast = TorchBackend().compile(net, dtype="float64").run(_inputs(steps=1))
    slow = TorchBackend().compile(net, dtype="float64", fast=False).run(_inputs(steps=1))
    for key in ("hidden.v", "out.v", "hidden.spikes"):
        np.testing.assert_allclose(fast[key], slow[key], rtol=1e-12, atol=1e-12)
    assert np.any(fast["hidden.v"] != 0)


@pytest.mark.parametrize("name", ["fast_sigmoid", "arctan", "triangle", "custom"])
def test_surrogate_derivative_in_place_matches_definition(name: str) -> None:
    registry = neuropil.get_registry()
    if name == "custom":  # not built in: evaluated through its definition
        base = registry.surrogate("arctan")
        definition = dataclasses.replace(base, name="custom")
        bound = definition.bind(slope=2.0)
    else:
        bound = registry.surrogate(name).bind(slope=2.0)
    ops = TorchOps(torch.float64)
    spec = LayerSpec("lif", "exact", "value", {}, bound, ops)
    v1 = torch.linspace(-1.0, 3.0, 41, dtype=torch.float64)
    threshold = torch.tensor(1.0, dtype=torch.float64)
    got = fast_module._surrogate_grad(spec, v1, threshold)
    want = bound.derivative(ops, v1 - threshold)
    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-15, atol=0)
    assert v1[0] == -1.0  # the input is left alone
