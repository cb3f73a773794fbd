"""torch and jax agree (issue 5, item 6): the same network, parameters and input give the same
spikes in float64 and the same loss and gradients; a model trained on one backend, exported and
loaded into the other, gives the same accuracy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import neuropil
from neuropil import Network, TrainingConfig
from neuropil.protocols import DatasetInfo
from neuropil_testkit import GradientSimulator, networks

pytest.importorskip("neuropil_torch")
pytest.importorskip("neuropil_jax")

CASES = (
    "lif-exponential",
    "alif-delta",
    "conn-sparse",
    "conn-conv2d",
    "delay-per_synapse",
    "stdp-dense",
)


def _loss(ops: Any, recordings: Mapping[str, Any]) -> Any:
    v = recordings["out.v"]
    return ops.mean(v * v)


@pytest.mark.parametrize("name", CASES)
def test_same_spikes_in_float64(name: str) -> None:
    cases = networks.reference_cases()
    if name not in cases:
        pytest.skip(f"no reference case {name!r} in this testkit")
    case = cases[name]
    net = case.build()
    inputs = case.inputs(net)
    results = {
        b: neuropil.compile(case.build(), backend=b, dtype="float64", seed=case.seed).run(
            inputs, steps=case.steps
        )
        for b in ("torch", "jax")
    }
    for key in results["jax"]:
        if key.endswith(".spikes"):
            np.testing.assert_array_equal(results["torch"][key], results["jax"][key], key)
        else:
            np.testing.assert_allclose(
                results["torch"][key], results["jax"][key], rtol=1e-9, atol=1e-12, err_msg=key
            )


def test_same_loss_and_gradients() -> None:
    net = networks.gradient()
    case = networks.Case("gradient", lambda: net)
    inputs = case.inputs(net)
    out = {}
    for backend in ("torch", "jax"):
        sim = neuropil.compile(networks.gradient(), backend=backend, dtype="float64")
        assert isinstance(sim, GradientSimulator)  # both backends differentiate
        out[backend] = sim.loss_and_grad(inputs, _loss, steps=case.steps)
    (loss_t, grads_t), (loss_j, grads_j) = out["torch"], out["jax"]
    assert loss_t == pytest.approx(loss_j, rel=1e-9)
    for key in ("in->hidden.weights", "hidden->out.weights"):
        assert np.any(grads_j[key] != 0)
        np.testing.assert_allclose(grads_t[key], grads_j[key], rtol=1e-7, atol=1e-12, err_msg=key)


class _Patterns:
    """Three classes of Poisson patterns on 12 channels (class c: channels 4c..4c+3 at 50 %)."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="patterns",
            shape=(12,),
            classes=("0", "1", "2"),
            dt=1e-3,
            steps=20,
            size={"train": 24, "test": 12},
            licence="CC0",
            citation="",
        )
        rng = np.random.default_rng(0)
        self._splits = {"train": self._make(rng, 24), "test": self._make(rng, 12)}

    @staticmethod
    def _make(rng: np.random.Generator, n: int) -> list[tuple[npt.NDArray[Any], int]]:
        out = []
        for i in range(n):
            p = np.full(12, 0.05)
            p[4 * (i % 3) : 4 * (i % 3) + 4] = 0.5
            out.append(((rng.random((20, 12)) < p).astype(np.float64), i % 3))
        return out

    def split(self, name: str) -> list[tuple[npt.NDArray[Any], int]]:
        return self._splits[name]


def _classifier() -> Network:
    net = Network(dt=1e-3, name="classifier")
    inp = net.input("in", 12)
    hid = net.population("hidden", 16, "lif")
    out = net.population("out", 3, "li")
    rng = np.random.default_rng(3)
    net.connect(inp, hid, weights=rng.uniform(0.0, 0.6, (16, 12)))
    net.connect(hid, out, weights=rng.normal(0.0, 0.5, (3, 16)))
    net.probe(out, "v")
    return net


def _accuracy(backend: str, params: Mapping[str, Any], data: _Patterns) -> float:
    sim = neuropil.compile(_classifier(), backend=backend, dtype="float64")
    sim.set_parameters({k: v for k, v in params.items() if not k.endswith(".delay")})
    x, labels, _ = neuropil.pad_batch(data.split("test"))
    logits = sim.run({"in": x})["out.v"].max(axis=0)
    return float(np.mean(logits.argmax(axis=1) == labels))


@pytest.mark.parametrize(("trainer", "other"), [("torch", "jax"), ("jax", "torch")])
def test_trained_on_one_backend_same_accuracy_on_the_other(trainer: str, other: str) -> None:
    data = _Patterns()
    cfg = TrainingConfig.from_table(
        {"loss": "ce_max_membrane", "epochs": 3, "batch_size": 8, "lr": 0.05}
    )
    engine = neuropil.get_registry().create("backend", trainer)
    metrics = engine.train(_classifier(), data, cfg)
    params = metrics["parameters"]
    assert _accuracy(trainer, params, data) == _accuracy(other, params, data)
    assert _accuracy(other, params, data) == pytest.approx(metrics["final_accuracy"])
