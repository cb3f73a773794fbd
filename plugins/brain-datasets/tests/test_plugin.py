"""Registration, the CLI listing, lazy imports and the testkit dataset suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from neuropil import get_registry
from neuropil.cli import main
from neuropil_testkit import parametrize_with_checks

DATASETS = ["digits", "digits_static", "shd", "ssc", "nmnist", "dvs_gesture"]
ENCODERS = ["rate", "poisson", "latency", "delta", "current", "population"]


def test_registry_lists_every_component() -> None:
    reg = get_registry()
    assert set(DATASETS) <= set(reg.names("dataset"))
    assert set(ENCODERS) <= set(reg.names("encoder"))
    assert reg.entry("dataset", "shd").distribution == "neuropil-datasets"


def test_cli_plugins_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "neuropil-datasets" in out
    for name in (*DATASETS, *ENCODERS):
        assert name in out


def test_plugin_module_and_listing_import_nothing_heavy() -> None:
    code = (
        "import sys, neuropil, neuropil_datasets.plugin\n"
        "from neuropil import get_registry\n"
        "get_registry().names('dataset')\n"
        "heavy = [m for m in ('h5py', 'cect', 'tonic', 'torch', 'jax') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.fixture
def _cache(populated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEUROPIL_DATA", os.fspath(populated_cache))
    monkeypatch.setenv("NEUROPIL_OFFLINE", "1")


@pytest.mark.usefixtures("_cache")
@parametrize_with_checks(datasets=DATASETS)
def test_testkit_datasets(check: Any) -> None:
    check()


def test_offline_default_runs_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEUROPIL_OFFLINE", "1")
    ds = get_registry().create("dataset", "digits")
    assert len(ds.split("train")) == 1438
