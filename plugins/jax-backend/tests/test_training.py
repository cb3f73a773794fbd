"""Training with optax (item 3): losses, schedules, constraints, checkpoints, resume."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import neuropil
from neuropil import Network, TrainingConfig
from neuropil.errors import ExperimentError, SerializationError
from neuropil_jax import JaxBackend
from neuropil_jax._training import build_optimizer


def _config(**kw: object) -> TrainingConfig:
    table = {"loss": "ce_max_membrane", "epochs": 2, "batch_size": 8, "lr": 0.05, **kw}
    return TrainingConfig.from_table(table)


def test_training_lowers_the_loss_and_reports_metrics(
    dataset: Any, classifier: Callable[..., Network]
) -> None:
    metrics = JaxBackend().train(classifier(), dataset, _config(epochs=4))
    assert len(metrics["loss"]) == 4
    assert metrics["loss"][-1] < metrics["loss"][0]
    assert metrics["final_accuracy"] == metrics["accuracy"][-1]
    assert 0.0 <= metrics["final_train_accuracy"] <= 1.0
    assert metrics["steps"] == 4 * 3
    assert metrics["backend"] == "jax"
    params = metrics.pop("parameters")
    json.dumps(metrics)  # JSON-able apart from the parameters
    before = JaxBackend().compile(classifier()).get_parameters()
    assert set(params) == set(before)
    assert not np.allclose(params["in->hidden.weights"], before["in->hidden.weights"])
    assert np.array_equal(params["hidden.tau_mem"], before["hidden.tau_mem"])  # not trainable


def test_trained_parameters_reach_the_accuracy_reported(
    dataset: Any, classifier: Callable[..., Network]
) -> None:
    metrics = JaxBackend().train(classifier(), dataset, _config(epochs=3))
    sim = JaxBackend().compile(classifier())
    sim.set_parameters({k: v for k, v in metrics["parameters"].items() if not k.endswith("delay")})
    x, labels, _ = neuropil.pad_batch(dataset.split("test"))
    logits = sim.run({"in": x})["out.v"].max(axis=0)
    assert np.mean(logits.argmax(axis=1) == labels) == pytest.approx(metrics["final_accuracy"])


@pytest.mark.parametrize(
    "extra",
    [
        {
            "loss": "ce_count",
            "readout": "hidden",
            "optimizer": "sgd",
            "optimizer_params": {"momentum": 0.9},
        },
        {"loss": "mse_rate", "readout": "hidden", "optimizer": "rmsprop", "grad_clip": 1.0},
        {
            "loss": "ce_mean_membrane",
            "optimizer": "adamw",
            "tbptt": 5,
            "weight_decay": 1e-3,
            "rate_targets": {"hidden": {"target_hz": 20.0, "weight": 0.1}},
        },
    ],
    ids=["ce_count-sgd", "mse_rate-rmsprop-clip", "ce_mean-adamw-tbptt-reg"],
)
def test_every_loss_and_optimizer_trains(
    dataset: Any, classifier: Callable[..., Network], extra: dict[str, object]
) -> None:
    metrics = JaxBackend().train(classifier(), dataset, _config(epochs=1, **extra))
    assert np.isfinite(metrics["final_loss"])
    w = metrics["parameters"]["in->hidden.weights"]
    assert np.all(np.isfinite(w))


def test_schedule_sets_the_learning_rate_every_epoch(
    dataset: Any, classifier: Callable[..., Network]
) -> None:
    cfg = _config(epochs=3, schedule="step", schedule_params={"step_epochs": 1, "gamma": 0.5})
    metrics = JaxBackend().train(classifier(), dataset, cfg)
    assert metrics["lr"] == pytest.approx([0.05, 0.025, 0.0125])


def test_zero_learning_rate_epoch_leaves_parameters(
    dataset: Any, classifier: Callable[..., Network]
) -> None:
    cfg = _config(epochs=1, optimizer="sgd", schedule="cosine")  # cosine at epoch 0 is lr
    sgd = build_optimizer(cfg)
    state = sgd.init({"w": np.zeros(2)})
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.05)


def test_sign_and_mask_hold_after_every_step(
    dataset: Any, classifier: Callable[..., Network]
) -> None:
    net = classifier()
    proj = net.projections[0]
    proj.sign = "excitatory"
    assert isinstance(proj.weights, np.ndarray)  # the classifier gives explicit weights
    mask = np.ones(proj.weights.shape, dtype=bool)
    mask[:, :3] = False
    proj.mask = mask
    metrics = JaxBackend().train(net, dataset, _config(epochs=2, lr=0.5))
    w = metrics["parameters"]["in->hidden.weights"]
    assert np.all(w >= 0)
    assert np.all(w[:, :3] == 0)
    initial = classifier().projections[0].weights
    assert isinstance(initial, np.ndarray)
    assert np.any(w[:, 3:] != initial[:, 3:])


def test_resume_equals_uninterrupted(
    dataset: Any, classifier: Callable[..., Network], tmp_path: Path
) -> None:
    cfg = _config(
        epochs=3, schedule="exponential", schedule_params={"gamma": 0.7}, checkpoint_every=1
    )
    full = JaxBackend().train(classifier(), dataset, cfg, run_dir=str(tmp_path / "full"))
    ckpt = neuropil.checkpoint_path(tmp_path / "full", 1)
    assert ckpt.exists()
    assert neuropil.checkpoint_path(tmp_path / "full", 3).exists()
    meta = neuropil.read_checkpoint_metadata(ckpt)
    assert (meta["epoch"], meta["step"], meta["backend"]) == (1, 3, "jax")
    from safetensors.numpy import load_file

    tensors = load_file(str(ckpt))
    assert "in->hidden.weights" in tensors
    assert "in->hidden.delay" in tensors
    assert any(k.startswith("optimizer/") and "mu" in k for k in tensors)
    resumed_cfg = TrainingConfig.from_table({**cfg.to_dict(), "resume": str(ckpt)})
    resumed = JaxBackend().train(classifier(), dataset, resumed_cfg, run_dir=str(tmp_path / "r"))
    for key, value in full["parameters"].items():
        np.testing.assert_array_equal(resumed["parameters"][key], value, err_msg=key)
    assert resumed["loss"] == full["loss"]
    assert resumed["accuracy"] == full["accuracy"]
    assert not list((tmp_path / "full" / "checkpoints").glob(".*tmp"))


def test_resume_refuses_a_file_that_is_not_a_checkpoint(
    dataset: Any, classifier: Callable[..., Network], tmp_path: Path
) -> None:
    bogus = tmp_path / "x.safetensors"
    bogus.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    cfg = TrainingConfig.from_table({**_config().to_dict(), "resume": str(bogus)})
    with pytest.raises(SerializationError, match="not a neuropil training checkpoint"):
        JaxBackend().train(classifier(), dataset, cfg)


def test_membrane_loss_needs_a_membrane(dataset: Any, classifier: Callable[..., Network]) -> None:
    net = classifier()
    with pytest.raises(ExperimentError, match="counts spikes, but the readout 'out'"):
        JaxBackend().train(net, dataset, _config(loss="ce_count"))
