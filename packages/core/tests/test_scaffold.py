"""``neuropil new-plugin``: the generated package is valid, discoverable and its model works."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from neuropil import NeuronModel, Ops, Registry, StepContext
from neuropil._scaffold import create_plugin, plugin_names
from neuropil.errors import NeuropilError

NAME = "scaffold-probe"
DIST = "neuropil-scaffold-probe"
PACKAGE = "neuropil_scaffold_probe"
MODEL = "scaffold_probe_qif"

EXPECTED_FILES = {
    ".gitignore",
    "CHANGELOG.md",
    "README.md",
    "pyproject.toml",
    f"src/{PACKAGE}/__init__.py",
    f"src/{PACKAGE}/models.py",
    f"src/{PACKAGE}/plugin.py",
    f"src/{PACKAGE}/py.typed",
    "tests/test_conformance.py",
}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    return create_plugin(NAME, tmp_path)


@pytest.fixture
def installed(generated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The generated plugin made discoverable without pip: a ``.dist-info`` with its entry
    points next to its package, on ``sys.path``."""
    pyproject = tomllib.loads((generated / "pyproject.toml").read_text())
    src = generated / "src"
    info = src / f"{PACKAGE}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.1.0\n")
    points = pyproject["project"]["entry-points"]["neuropil"]
    (info / "entry_points.txt").write_text(
        "[neuropil]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    monkeypatch.syspath_prepend(str(src))
    yield generated
    for module in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[module]


def test_names_are_derived_from_the_plugin_name() -> None:
    names = plugin_names("my-neurons")
    assert (names.distribution, names.package, names.entry_point, names.model) == (
        "neuropil-my-neurons",
        "neuropil_my_neurons",
        "my_neurons",
        "my_neurons_qif",
    )


def test_the_package_has_every_file_and_they_parse(generated: Path) -> None:
    assert generated.name == DIST
    files = {p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES
    for path in generated.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))
    assert not [p for p in generated.rglob("*") if p.is_file() and "$" in p.read_text()]
    # Nothing left of the staging folder.
    assert [p.name for p in generated.parent.iterdir()] == [DIST]


def test_the_pyproject_declares_the_entry_point_and_dependencies(generated: Path) -> None:
    project = tomllib.loads((generated / "pyproject.toml").read_text())["project"]
    assert project["name"] == DIST
    assert project["dependencies"] == ["neuropil>=0.1,<0.2"]
    assert project["entry-points"]["neuropil"] == {"scaffold_probe": f"{PACKAGE}.plugin"}
    assert project["optional-dependencies"]["test"] == ["neuropil-testkit>=0.1,<0.2", "pytest>=8"]
    build = tomllib.loads((generated / "pyproject.toml").read_text())["build-system"]
    assert build["build-backend"] == "hatchling.build"


def test_the_plugin_module_declares_the_api_and_the_conformance_test_uses_the_testkit(
    generated: Path,
) -> None:
    plugin = ast.parse((generated / "src" / PACKAGE / "plugin.py").read_text())
    declared = [
        ast.literal_eval(node.value)
        for node in plugin.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "NEUROPIL_PLUGIN_API" for t in node.targets)
    ]
    assert declared == [(1, 0)]
    test = (generated / "tests" / "test_conformance.py").read_text()
    assert "from neuropil_testkit import parametrize_with_checks" in test
    assert f'@parametrize_with_checks(neurons=["{MODEL}"])' in test


def test_the_generated_code_passes_ruff(generated: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not on PATH")
    proc = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--select",
            "E,F,W,I,B,UP,N",
            "--line-length",
            "100",
            str(generated),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_registry_discovers_the_generated_plugin(installed: Path) -> None:
    reg = Registry()
    entry = reg.entry("neuron", MODEL)
    assert (entry.plugin, entry.distribution, entry.version) == ("scaffold_probe", DIST, "0.1.0")
    assert entry.target == f"{PACKAGE}.models:QIF"
    assert not [p for p in reg.problems if p.distribution == DIST]
    assert f"{PACKAGE}.models" not in sys.modules  # listing imported no target
    model = reg.neuron(MODEL)
    assert isinstance(model, NeuronModel)
    assert model.name == MODEL
    assert model.spiking
    assert "Discrete update" in model.doc


class _NumpyOps:
    """Just the operations the generated model uses, in float64."""

    xp = np
    dtype = np.float64

    def asarray(self, x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    def spike(self, x: Any, surrogate: Any) -> Any:
        return (np.asarray(x) > 0).astype(np.float64)


class _Surrogate:
    name = "none"

    def derivative(self, ops: Any, x: Any) -> Any:
        return np.zeros_like(x)


def test_the_generated_model_follows_its_documented_update(installed: Path) -> None:
    model = Registry().neuron(MODEL)
    params = {name: p.default for name, p in model.params.items()}
    assert params == {
        "tau_mem": 10e-3,
        "v_rest": 0.0,
        "v_crit": 0.5,
        "v_scale": 0.5,
        "v_th": 1.0,
        "v_reset": 0.0,
        "r": 1.0,
    }
    ctx = StepContext(dt=1e-3, surrogate=_Surrogate())
    v = np.array([[0.2, 0.6, 0.99]])
    current = np.array([[0.0, 0.0, 1.0]])
    state = {"v": v.copy()}
    new, out = model.step(cast(Ops, _NumpyOps()), params, {}, state, current, ctx)

    # By hand: v1 = v + 0.1 * ((v - 0) * (v - 0.5) / 0.5 + current)
    #   0.2  -> 0.2 + 0.1 * (-0.12)       = 0.188   (relaxes toward v_rest)
    #   0.6  -> 0.6 + 0.1 * (0.12)        = 0.612   (runs away above v_crit)
    #   0.99 -> 0.99 + 0.1 * (0.9702 + 1) = 1.18702 > v_th: spike, reset to 0
    np.testing.assert_allclose(new["v"], [[0.188, 0.612, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(state["v"], v)  # the step did not mutate its input


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("My-Neurons", "plugin name 'My-Neurons' is not valid: use lower-case letters"),
        ("1neurons", "plugin name '1neurons' is not valid"),
        ("my_neurons", "plugin name 'my_neurons' is not valid"),
        ("my--neurons", "plugin name 'my--neurons' is not valid"),
        ("neurons-", "plugin name 'neurons-' is not valid"),
        ("", "plugin name '' is not valid"),
        (
            "neuropil-foo",
            "plugin name 'neuropil-foo' already starts with 'neuropil-', which is added for "
            "you; run: neuropil new-plugin foo",
        ),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(NeuropilError, match="^" + message.replace("(", r"\(")):
        create_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / DIST
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(NeuropilError, match=f"{DIST} already exists; nothing was written"):
        create_plugin(NAME, tmp_path)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [DIST]


def test_a_missing_parent_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NeuropilError, match="no such folder"):
        create_plugin(NAME, tmp_path / "nope")


def test_a_failure_midway_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(
        NeuropilError, match=f"cannot write the plugin into {tmp_path}: disk full; choose a folder"
    ):
        create_plugin(NAME, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_core_requirement_follows_this_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuropil._scaffold as scaffold

    assert scaffold.core_requirement("0.1.3") == "neuropil>=0.1,<0.2"
    assert scaffold.core_requirement("1.4.0") == "neuropil>=1.4,<2"
    monkeypatch.setattr(scaffold, "__version__", "0.3.1")
    folder = create_plugin(NAME, tmp_path)
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert "neuropil>=0.3,<0.4" in project["dependencies"]


def test_an_unwritable_dir_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(NeuropilError, match="it is a file, not a folder"):
        create_plugin(NAME, afile)

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(
        NeuropilError,
        match=f"cannot create the plugin in {tmp_path}: Permission denied; choose a folder you "
        "can write to with --dir",
    ):
        create_plugin(NAME, tmp_path)
