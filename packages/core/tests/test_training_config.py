"""The ``[training]`` schema shared by every training backend."""

from __future__ import annotations

import json
import math
import struct
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w

import neuropil
from neuropil._training import RateTarget, TrainingConfig
from neuropil.errors import ExperimentError, SerializationError


def test_defaults_and_a_full_table() -> None:
    assert TrainingConfig.from_table({}) == TrainingConfig()
    cfg = TrainingConfig.from_table(
        {
            "loss": "ce_max_membrane",
            "readout": "out",
            "epochs": 3,
            "batch_size": 64,
            "optimizer": "sgd",
            "lr": 0.1,
            "optimizer_params": {"momentum": 0.9},
            "schedule": "step",
            "schedule_params": {"step_epochs": 2, "gamma": 0.5},
            "grad_clip": 1.0,
            "tbptt": 50,
            "weight_decay": 1e-4,
            "rate_targets": {"hidden": {"target_hz": 10.0, "weight": 0.1}},
            "checkpoint_every": 1,
        }
    )
    assert cfg.optimizer_params == {"momentum": 0.9}
    assert cfg.schedule_params == {"step_epochs": 2.0, "gamma": 0.5}
    assert cfg.rate_targets == {"hidden": RateTarget(10.0, 0.1)}
    assert (cfg.loss, cfg.readout, cfg.tbptt, cfg.grad_clip) == ("ce_max_membrane", "out", 50, 1.0)


def test_round_trips_through_toml() -> None:
    cfg = TrainingConfig.from_table(
        {"loss": "mse_rate", "rate_on": 80.0, "rate_targets": {"h": {"target_hz": 5.0}}}
    )
    text = tomli_w.dumps({"training": cfg.to_dict()})
    assert TrainingConfig.from_table(tomllib.loads(text)["training"]) == cfg


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"los": "ce_count"}, r"unknown key 'los'; did you mean 'loss'\?"),
        ({"loss": "ce_cout"}, r"loss = 'ce_cout' is not one of .*did you mean 'ce_count'\?"),
        ({"optimizer": "adma"}, r"did you mean 'adam'\?"),
        ({"epochs": 0}, r"epochs must be >= 1, got 0"),
        ({"epochs": 2.5}, r"epochs must be a whole number, got 2\.5"),
        ({"lr": 0.0}, r"lr must be > 0, got 0\.0"),
        ({"lr": True}, r"lr must be a number, got True"),
        ({"optimizer_params": {"momentum": 0.9}}, r"'adam' has no setting 'momentum'"),
        ({"schedule": "step", "schedule_params": {"gama": 0.5}}, r"did you mean 'gamma'\?"),
        ({"rate_targets": {"h": {"target_hz": -1.0}}}, r"rate_targets\.h\.target_hz must be"),
        ({"rate_targets": [1, 2]}, r"rate_targets must be a table of populations"),
        ({"readout": ""}, r"readout must be a non-empty string"),
    ],
)
def test_mistakes_are_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(ExperimentError, match=message) as info:
        TrainingConfig.from_table(table)
    assert info.value.section == "training"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ExperimentError, match=r"\[training\] has 3 problems") as info:
        TrainingConfig.from_table({"epochs": 0, "lr": -1.0, "loss": "x"})
    assert "epochs" in str(info.value)
    assert "lr" in str(info.value)
    assert "loss" in str(info.value)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"lr": 0.1}, [0.1, 0.1, 0.1, 0.1]),
        (
            {"lr": 0.1, "schedule": "step", "schedule_params": {"step_epochs": 2, "gamma": 0.5}},
            [0.1, 0.1, 0.05, 0.05],
        ),
        (
            {"lr": 0.1, "schedule": "exponential", "schedule_params": {"gamma": 0.5}},
            [0.1, 0.05, 0.025, 0.0125],
        ),
        (
            {"lr": 0.1, "schedule": "cosine", "schedule_params": {"min_lr": 0.02}},
            [0.1, 0.02 + 0.08 * (1 + math.cos(math.pi / 4)) / 2, 0.06, None],
        ),
    ],
)
def test_learning_rate_schedules(table: dict[str, Any], expected: list[float | None]) -> None:
    config = TrainingConfig.from_table({**table, "epochs": 4})
    for epoch, lr in enumerate(expected):
        if lr is not None:
            assert config.lr_at(epoch) == pytest.approx(lr)


def test_input_and_seed_are_part_of_the_table() -> None:
    config = TrainingConfig.from_table({"input": "retina", "seed": 5})
    assert (config.input, config.seed) == ("retina", 5)
    assert TrainingConfig.from_table(config.to_dict()) == config
    with pytest.raises(ExperimentError, match="seed must be >= 0, got -1"):
        TrainingConfig.from_table({"seed": -1})


def _safetensors(path: Path, header: dict[str, Any], payload: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + payload)
    return path


def test_checkpoint_metadata_round_trips(tmp_path: Path) -> None:
    config = TrainingConfig.from_table({"epochs": 3, "lr": 0.01, "loss": "ce_max_membrane"})
    meta = neuropil.checkpoint_metadata(config, epoch=2, step=40, seed=9, backend="torch")
    assert all(isinstance(v, str) for v in meta.values())  # safetensors metadata is str -> str
    # The header as the safetensors writer lays it out: one float32 tensor, then the metadata.
    header = {
        "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "__metadata__": meta,
    }
    path = neuropil.checkpoint_path(tmp_path, 2)
    path.parent.mkdir()
    _safetensors(path, header, b"\0\0\0\0")
    back = neuropil.read_checkpoint_metadata(path)
    assert (back["epoch"], back["step"], back["seed"], back["backend"]) == (2, 40, 9, "torch")
    assert back["config"] == config
    assert back["neuropil"] == neuropil.__version__
    assert neuropil.checkpoint_path(tmp_path, 2) == tmp_path / "checkpoints" / "epoch-2.safetensors"


def test_what_is_not_a_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="does not exist"):
        neuropil.read_checkpoint_metadata(tmp_path / "none.safetensors")
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01")
    with pytest.raises(SerializationError, match="shorter than its header"):
        neuropil.read_checkpoint_metadata(short)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(struct.pack("<Q", 5) + b"\xff\xfe{{{")
    with pytest.raises(SerializationError, match="header is not JSON"):
        neuropil.read_checkpoint_metadata(garbage)
    other = _safetensors(tmp_path / "other.safetensors", {"__metadata__": {"x": "1"}})
    with pytest.raises(SerializationError, match="not a neuropil training checkpoint"):
        neuropil.read_checkpoint_metadata(other)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**60))
    with pytest.raises(SerializationError, match="implausible"):
        neuropil.read_checkpoint_metadata(huge)


def test_logits_follow_the_loss() -> None:
    out = np.zeros((4, 2, 3))
    out[:, 0, 1] = [1, 0, 1, 1]  # sample 0: neuron 1 spikes 3 times
    out[2, 1, 2] = 5.0  # sample 1: neuron 2 peaks at 5
    out[:, 1, 0] = 1.5  # ... neuron 0 is high on average
    count = TrainingConfig(loss="ce_count").logits(out, 1e-3)
    assert count.tolist() == [[0, 3, 0], [6, 0, 5]]
    peak = TrainingConfig(loss="ce_max_membrane").logits(out, 1e-3)
    assert peak.argmax(axis=1).tolist() == [1, 2]
    mean = TrainingConfig(loss="ce_mean_membrane").logits(out, 1e-3)
    assert mean[1].tolist() == [1.5, 0.0, 1.25]
    rate = TrainingConfig(loss="mse_rate").logits(out, 1e-3)
    assert rate[0, 1] == pytest.approx(750.0)  # 3 spikes in 4 ms
    with pytest.raises(ValueError, match=r"must be \[T, B, C\]"):
        TrainingConfig().logits(np.zeros((4, 3)), 1e-3)
