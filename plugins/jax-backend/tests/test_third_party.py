"""A third party's portable neuron model trains on jax with no change to the backend, and the
same experiment file trains through the experiment runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import neuropil
from neuropil import Network, NeuronModel, Ops, Param, StateVar, StepContext, TrainingConfig
from neuropil._experiment import run_experiment
from neuropil.reference import NumpyBackend
from neuropil_jax import JaxBackend


def _qif_step(
    ops: Ops,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    state: Mapping[str, Any],
    current: Any,
    ctx: StepContext,
) -> tuple[dict[str, Any], Any]:
    tau = ops.asarray(params["tau"])
    v_th = ops.asarray(params["v_th"])
    v = state["v"]
    v1 = v + ctx.dt / tau * (v * v * 0.5 - v) + current
    assert ctx.surrogate is not None
    s = ops.spike(v1 - v_th, ctx.surrogate)
    return {"v": (1 - s) * v1}, s


QIF = NeuronModel(
    name="toy_qif",
    params={
        "tau": Param(10e-3, "s", "time constant", low=0.0, low_inclusive=False),
        "v_th": Param(1.0, "V", "threshold", low=-10.0, high=10.0),
    },
    state={"v": StateVar("V", "membrane potential", 0.0)},
    step=_qif_step,
    doc="""A toy quadratic integrate-and-fire neuron (third-party test model).

Discrete update (toy_qif):
    v1 = v + dt / tau * (v * v / 2 - v) + current
    s' = spike(v1 - v_th)
    v' = (1 - s') * v1
""",
)


def test_third_party_model_runs_and_trains_on_jax(
    register_plugin: Callable[..., str],
    dataset: Any,
    classifier: Callable[..., Network],
) -> None:
    register_plugin({"neuron": [QIF], "backend": [JaxBackend]}, "toy")
    net = classifier("toy_qif")
    net.probe(net.population_by_name("hidden"), "spikes")
    x = np.stack([s for s, _ in dataset.split("test")[:4]], axis=1)
    got = neuropil.compile(net, backend="jax", dtype="float64").run({"in": x})
    ref = NumpyBackend().compile(net).run({"in": x})
    assert ref["hidden.spikes"].sum() > 0
    np.testing.assert_array_equal(got["hidden.spikes"], ref["hidden.spikes"])
    cfg = TrainingConfig.from_table(
        {"loss": "ce_max_membrane", "epochs": 3, "batch_size": 8, "lr": 0.05}
    )
    metrics = JaxBackend().train(net, dataset, cfg)
    assert metrics["loss"][-1] < metrics["loss"][0]


EXPERIMENT = """
[experiment]
name = "patterns"
backend = "jax"
seed = 3

[network]
file = "net.json"

[dataset]
name = "patterns"

[training]
loss = "ce_max_membrane"
epochs = 2
batch_size = 8
lr = 0.05
"""


def test_experiment_file_trains_on_jax(
    register_plugin: Callable[..., str],
    dataset: Any,
    classifier: Callable[..., Network],
    tmp_path: Path,
) -> None:
    class Patterns:
        name = "patterns"

        def __new__(cls) -> Any:
            return dataset

    register_plugin({"backend": [JaxBackend], "dataset": [Patterns]}, "toy")
    classifier().save(tmp_path / "net.json")
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    run = run_experiment(path, out_dir=tmp_path / "runs", quiet=True)
    metrics = json.loads((run / "metrics.json").read_text())["training"]
    assert len(metrics["loss"]) == 2
    assert metrics["backend"] == "jax"
    assert (run / "checkpoints" / "epoch-2.safetensors").exists()
