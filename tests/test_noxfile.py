"""The noxfile's package discovery, isolation closure and generated import-linter contracts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def noxfile() -> ModuleType:
    pytest.importorskip("nox")
    spec = importlib.util.spec_from_file_location("workspace_noxfile", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_every_session_runs_by_default(noxfile: ModuleType) -> None:
    assert noxfile.nox.options.sessions == [
        "lint",
        "typecheck",
        "tests",
        "isolated",
        "integration",
        "docs",
    ]
    assert noxfile.nox.options.default_venv_backend == "uv"


def test_discovers_the_workspace_packages(noxfile: ModuleType) -> None:
    found = {p.id: (p.dist, p.import_name) for p in noxfile.PACKAGES}
    assert found["core"] == ("neuropil", "neuropil")
    assert found["testkit"] == ("neuropil-testkit", "neuropil_testkit")
    assert noxfile.PACKAGES[0].id == "core"


def test_isolated_closure_brings_workspace_dependencies(noxfile: ModuleType) -> None:
    testkit = noxfile.BY_DIST["neuropil-testkit"]
    assert [p.dist for p in noxfile._workspace_closure(testkit)] == ["neuropil", "neuropil-testkit"]
    core = noxfile.BY_DIST["neuropil"]
    assert [p.dist for p in noxfile._workspace_closure(core)] == ["neuropil"]


def test_contracts_cover_the_plugins(noxfile: ModuleType) -> None:
    config = noxfile.importlinter_config()
    assert "name = The core imports no plugin and not the testkit" in config
    assert "name = Plugins do not import each other\ntype = independence" in config
    datasets = config.split("[importlinter:contract:datasets]", 1)[1]
    assert "source_modules =\n    neuropil_datasets\n" in datasets
    forbidden = datasets.split("forbidden_modules =\n", 1)[1].split()
    assert sorted(forbidden) == ["neuropil_jax", "neuropil_torch"]
    # The isolated session of a plugin brings the core (and the testkit for its tests).
    torch = noxfile.BY_DIST["neuropil-torch"]
    closure = [p.dist for p in noxfile._workspace_closure(torch)]
    assert closure == ["neuropil", "neuropil-testkit", "neuropil-torch"]


def test_contracts_for_the_core_alone(noxfile: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = [p for p in noxfile.PACKAGES if p.folder.parent.name == "packages"]
    monkeypatch.setattr(noxfile, "PACKAGES", alone)
    monkeypatch.setattr(noxfile, "BY_DIST", {p.dist: p for p in alone})
    config = noxfile.importlinter_config()
    assert config.startswith("[importlinter]\nroot_packages =\n    neuropil\n")
    assert "forbidden_modules =\n    neuropil_testkit" in config
    assert "Plugins do not import each other" not in config
