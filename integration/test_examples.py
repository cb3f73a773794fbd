"""The README's main command: examples/digits.toml trains on the offline default data, on
either training backend, and the trained network classifies the test split well."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuropil._experiment import check_experiment, run_experiment

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits.toml"


def test_the_digits_example_checks() -> None:
    assert check_experiment(DIGITS) == []
    assert check_experiment(DIGITS, overrides=["experiment.backend=jax"]) == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_the_digits_example_learns(tmp_path: Path, backend: str) -> None:
    pytest.importorskip(f"neuropil_{backend}")
    run = run_experiment(
        DIGITS, out_dir=tmp_path, quiet=True, overrides=[f"experiment.backend={backend}"]
    )
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    training = metrics["training"]
    assert len(training["loss"]) == 10
    assert training["loss"][-1] < training["loss"][0] * 0.5
    # Chance is 10 %; the example reaches about 87 % on both backends.
    assert metrics["evaluation"]["samples"] == 359
    assert metrics["evaluation"]["accuracy"] > 0.8
    assert (run / "checkpoints" / "epoch-10.safetensors").is_file()
