"""The ``[training]`` schema shared by every training backend."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from neuropil._training import RateTarget, TrainingConfig
from neuropil.errors import ExperimentError


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
