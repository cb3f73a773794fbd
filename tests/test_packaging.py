"""Every workspace package has the same shape, names and metadata, and the lock is current.

The shape (DESIGN.md, "Layout"): ``pyproject.toml`` with its own version and
``requires-python >= 3.11``, ``src/<import_name>/py.typed``, ``tests/``, ``README.md`` and
``CHANGELOG.md``; distribution ``neuropil-X`` imports as ``neuropil_X``; a plugin declares an
entry point in group ``neuropil`` and depends on a bounded range of ``neuropil``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = sorted(
    p.parent for parent in ("packages", "plugins") for p in (ROOT / parent).glob("*/pyproject.toml")
)
PLUGIN_DIRS = [d for d in PACKAGE_DIRS if d.parent.name == "plugins"]


def _pyproject(folder: Path) -> dict[str, Any]:
    with (folder / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _ids(dirs: list[Path]) -> list[str]:
    return [f"{d.parent.name}/{d.name}" for d in dirs]


def expected_import_name(dist: str) -> str:
    """The import name DESIGN.md gives a distribution: ``neuropil-torch`` -> ``neuropil_torch``."""
    return re.sub(r"[-.]+", "_", dist).lower()


def _requirement(requirements: list[str], name: str) -> str | None:
    for req in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        if match and re.sub(r"[-_.]+", "-", match.group(1)).lower() == name:
            return req
    return None


def _bounded(requirement: str) -> bool:
    """Whether ``requirement`` has both a lower (``>=``) and an upper (``<``) bound."""
    return bool(re.search(r">=\s*\d", requirement) and re.search(r"<\s*\d", requirement))


def test_bounded_detects_open_ranges() -> None:
    assert _bounded("neuropil>=0.1,<0.2")
    assert not _bounded("neuropil>=0.1")
    assert not _bounded("neuropil")


def test_the_workspace_has_the_core_and_the_testkit() -> None:
    assert ROOT / "packages" / "core" in PACKAGE_DIRS
    assert ROOT / "packages" / "testkit" in PACKAGE_DIRS


def test_expected_import_name_follows_design() -> None:
    assert expected_import_name("neuropil") == "neuropil"
    assert expected_import_name("neuropil-testkit") == "neuropil_testkit"
    assert expected_import_name("neuropil-spinnaker") == "neuropil_spinnaker"


@pytest.mark.parametrize("folder", PACKAGE_DIRS, ids=_ids(PACKAGE_DIRS))
def test_package_has_the_standard_shape(folder: Path) -> None:
    data = _pyproject(folder)
    project = data["project"]
    dist = project["name"]
    assert dist == "neuropil" or dist.startswith("neuropil-"), (
        f"{folder}: distribution {dist!r} must be 'neuropil' or 'neuropil-<name>'"
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", project["version"]), (
        f"{folder}: give the package its own static version (got {project.get('version')!r})"
    )
    assert project["requires-python"].replace(" ", "") == ">=3.11", (
        f"{folder}: requires-python must be '>=3.11'"
    )
    assert project.get("readme") == "README.md"
    import_name = expected_import_name(dist)
    missing = [
        rel
        for rel in (
            f"src/{import_name}/__init__.py",
            f"src/{import_name}/py.typed",
            "tests",
            "README.md",
            "CHANGELOG.md",
        )
        if not (folder / rel).exists()
    ]
    assert not missing, (
        f"{folder}: missing {missing} (distribution {dist!r} imports as {import_name})"
    )
    packages = [p.name for p in (folder / "src").iterdir() if (p / "__init__.py").exists()]
    assert packages == [import_name], f"{folder}: src/ must hold exactly {import_name}/"
    wheel = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert wheel == [f"src/{import_name}"]


@pytest.mark.parametrize("folder", PACKAGE_DIRS, ids=_ids(PACKAGE_DIRS))
def test_changelog_names_the_current_version(folder: Path) -> None:
    version = _pyproject(folder)["project"]["version"]
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(version)}\b", changelog, re.MULTILINE), (
        f"{folder}/CHANGELOG.md has no '## {version}' section for the current version"
    )


@pytest.mark.parametrize("folder", PACKAGE_DIRS, ids=_ids(PACKAGE_DIRS))
def test_workspace_dependencies_are_bounded_ranges(folder: Path) -> None:
    data = _pyproject(folder)
    sources = data.get("tool", {}).get("uv", {}).get("sources", {})
    for req in data["project"].get("dependencies", []):
        name = re.split(r"[\s<>=!~;\[]", req.strip(), maxsplit=1)[0].lower()
        if name == "neuropil" or name.startswith("neuropil-"):
            assert _bounded(req), (
                f"{folder}: depend on a bounded range of {name}, e.g. '{name}>=0.1,<0.2' "
                f"(got {req!r})"
            )
            assert sources.get(name) == {"workspace": True}, (
                f"{folder}: add [tool.uv.sources] {name} = {{ workspace = true }}"
            )


@pytest.mark.parametrize("folder", PLUGIN_DIRS, ids=_ids(PLUGIN_DIRS))
def test_plugin_declares_its_entry_point_and_core_range(folder: Path) -> None:
    project = _pyproject(folder)["project"]
    entry_points = project.get("entry-points", {}).get("neuropil", {})
    assert entry_points, f"{folder}: declare [project.entry-points.neuropil] (the plugin module)"
    import_name = expected_import_name(project["name"])
    for name, value in entry_points.items():
        assert value.startswith(import_name + "."), (
            f"{folder}: entry point {name!r} = {value!r} must point into {import_name}"
        )
        module_file = folder / "src" / Path(*value.split(":")[0].split("."))
        assert module_file.with_suffix(".py").exists() or (module_file / "__init__.py").exists()
    core = _requirement(project.get("dependencies", []), "neuropil")
    assert core is not None, f"{folder}: depend on neuropil, e.g. 'neuropil>=0.1,<0.2'"
    assert _bounded(core), f"{folder}: bound the neuropil range (got {core!r})"


def test_the_core_registers_its_builtins_through_the_same_entry_point() -> None:
    project = _pyproject(ROOT / "packages" / "core")["project"]
    assert project["entry-points"]["neuropil"] == {"builtins": "neuropil._builtins"}
    assert project["scripts"] == {"neuropil": "neuropil.cli:main"}


def test_every_package_is_a_workspace_member_and_in_the_readme_table() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert root["tool"]["uv"]["workspace"]["members"] == ["packages/*", "plugins/*"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for folder in PACKAGE_DIRS:
        dist = _pyproject(folder)["project"]["name"]
        row = f"| `{dist}` |"
        assert row in readme, (
            f"README.md's package table has no row for {dist} ({folder.relative_to(ROOT)}); "
            f"add one starting with '{row}'"
        )


def test_the_readme_gives_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", readme, re.DOTALL)
    commands = [line.strip() for b in blocks for line in b.splitlines() if line.strip()]
    commands = [c for c in commands if not c.startswith("#")]
    assert commands == ["uv run neuropil run examples/digits.toml", "uv run nox"]


def test_python_is_pinned_to_311() -> None:
    assert (ROOT / ".python-version").read_text(encoding="utf-8").strip() == "3.11"


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert "run nox" in script
    assert "UV_PYTHON_DOWNLOADS=never" in script


def test_uv_lock_is_consistent_with_the_pyprojects() -> None:
    assert (ROOT / "uv.lock").is_file()
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    result = subprocess.run(
        [uv, "lock", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert result.returncode == 0, (
        f"uv.lock is out of date with the pyproject files; run `uv lock`.\n{result.stderr}"
    )
