"""The workspace's checks: ``uv run nox`` runs every session, ``uv run nox -s NAME`` one of them.

Sessions
--------
lint         ruff check, ruff format --check, and the import-linter layering contracts
typecheck    mypy --strict over every package's ``src`` and ``tests``
tests        every package's tests, ``tests/`` and ``integration/``, without the ``slow`` ones
isolated     one session per workspace package: a fresh venv with only that package, the
             workspace packages it depends on (built from their folders), and pytest/hypothesis;
             runs that package's tests. This is what proves "install only what you need".
integration  ``integration/`` in full, and the ``slow`` tests everywhere else
docs         ``mkdocs build --strict``
bench        on demand only (``uv run nox -s bench [-- --quick]``): ``benchmarks/`` with the peers
             they are measured against installed; not in the default sessions, because it
             installs those peers and takes minutes

Workspace sessions install with ``uv sync --frozen`` into their own venv, so they use exactly
the versions in ``uv.lock`` and uv's cache (installs are links, not downloads). Isolated
sessions install wheels built from the package folders, with the lock's versions as
constraints and ``--no-sources``, i.e. the way a user's ``pip install`` would see them.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests", "isolated", "integration", "docs"]
nox.options.error_on_external_run = True

ROOT = Path(__file__).resolve().parent
# uv must use the interpreter nox runs on (CI has only its own Python 3.11), never fetch one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


@dataclass(frozen=True)
class Package:
    """One workspace member, read from its ``pyproject.toml``."""

    folder: Path
    dist: str
    import_name: str
    requires: tuple[str, ...]
    test_requires: tuple[str, ...]

    @property
    def id(self) -> str:
        """The session id: the folder name (``core``, ``torch-backend``)."""
        return self.folder.name

    @property
    def rel(self) -> str:
        """The folder relative to the workspace root, as a POSIX path."""
        return self.folder.relative_to(ROOT).as_posix()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot read a distribution name from requirement {requirement!r}")
    return _normalise(match.group(1))


def _test_requirements(data: dict[str, object]) -> tuple[str, ...]:
    """Requirement strings of a package's ``test`` dependency group or ``test`` extra."""
    groups = data.get("dependency-groups", {})
    extras = data.get("project", {}).get("optional-dependencies", {})  # type: ignore[attr-defined]
    found: list[str] = []
    for table in (groups, extras):
        if isinstance(table, dict):
            found += [r for r in table.get("test", []) if isinstance(r, str)]
    return tuple(found)


def discover_packages() -> list[Package]:
    """Every workspace member under ``packages/`` and ``plugins/``, core first."""
    found: list[Package] = []
    for parent in ("packages", "plugins"):
        for pyproject in sorted((ROOT / parent).glob("*/pyproject.toml")):
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            folder = pyproject.parent
            src = sorted(p.parent.name for p in (folder / "src").glob("*/__init__.py"))
            if len(src) != 1:
                raise RuntimeError(
                    f"{folder}: expected exactly one package under src/, found {src}"
                )
            found.append(
                Package(
                    folder=folder,
                    dist=_normalise(data["project"]["name"]),
                    import_name=src[0],
                    requires=tuple(data["project"].get("dependencies", [])),
                    test_requires=_test_requirements(data),
                )
            )
    return found


PACKAGES = discover_packages()
BY_DIST = {p.dist: p for p in PACKAGES}
SRC_DIRS = [f"{p.rel}/src" for p in PACKAGES]
TEST_DIRS = [f"{p.rel}/tests" for p in PACKAGES if any((p.folder / "tests").rglob("*.py"))]
# Workspace-level test folders, type-checked like the packages' own.
WORKSPACE_TEST_DIRS = [d for d in ("tests", "integration") if any((ROOT / d).rglob("*.py"))]


def _sync(session: nox.Session, *args: str) -> None:
    """Install the locked workspace (every member, editable, plus the dev group) into the
    session's venv."""
    venv = session.virtualenv.location
    python = str(Path(venv) / ("Scripts" if sys.platform == "win32" else "bin") / "python")
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--python",
        python,
        *args,
        env={"UV_PROJECT_ENVIRONMENT": venv},
    )


# -- lint ---------------------------------------------------------------------------------------


def importlinter_config() -> str:
    """The import-linter contracts for the packages present (import-linter refuses contracts
    naming packages that are not installed, so they are generated rather than written out).

    * the core imports no plugin and not the testkit;
    * the testkit imports no plugin (it tests whatever is registered);
    * plugins do not import each other;
    * datasets never import a backend.
    """
    core = BY_DIST["neuropil"].import_name
    testkit = BY_DIST["neuropil-testkit"].import_name if "neuropil-testkit" in BY_DIST else None
    plugins = [p for p in PACKAGES if p.folder.parent.name == "plugins"]
    backends = [p.import_name for p in plugins if p.id.endswith("-backend")]
    datasets = [p.import_name for p in plugins if p.dist == "neuropil-datasets"]

    def lines(key: str, values: Iterable[str]) -> list[str]:
        return [f"{key} =", *(f"    {v}" for v in values)]

    out = ["[importlinter]", *lines("root_packages", [p.import_name for p in PACKAGES])]

    def contract(ident: str, name: str, kind: str, **modules: list[str]) -> None:
        out.extend(["", f"[importlinter:contract:{ident}]", f"name = {name}", f"type = {kind}"])
        for key, values in modules.items():
            out.extend(lines(key, values))

    forbidden_for_core = [p.import_name for p in plugins] + ([testkit] if testkit else [])
    if forbidden_for_core:
        contract(
            "core",
            "The core imports no plugin and not the testkit",
            "forbidden",
            source_modules=[core],
            forbidden_modules=forbidden_for_core,
        )
    if testkit and plugins:
        contract(
            "testkit",
            "The testkit imports no plugin",
            "forbidden",
            source_modules=[testkit],
            forbidden_modules=[p.import_name for p in plugins],
        )
    if len(plugins) > 1:
        contract(
            "plugins",
            "Plugins do not import each other",
            "independence",
            modules=[p.import_name for p in plugins],
        )
    if datasets and backends:
        contract(
            "datasets",
            "Datasets never import a backend",
            "forbidden",
            source_modules=datasets,
            forbidden_modules=backends,
        )
    return "\n".join(out) + "\n"


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import-linter layering contracts."""
    # Only the tools: import-linter reads the sources through PYTHONPATH, no plugin's
    # dependencies are needed.
    _sync(session, "--only-group", "dev", "--no-install-workspace")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    config = Path(session.create_tmp()) / "importlinter.ini"
    config.write_text(importlinter_config(), encoding="utf-8")
    session.run(
        "lint-imports",
        "--config",
        str(config),
        "--no-cache",
        env={"PYTHONPATH": os.pathsep.join(str(ROOT / s) for s in SRC_DIRS)},
    )


# -- typecheck ----------------------------------------------------------------------------------


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package's src and tests."""
    _sync(session, "--all-packages")
    env = {"MYPYPATH": os.pathsep.join(SRC_DIRS)}
    session.run(
        "mypy",
        "--strict",
        *SRC_DIRS,
        *WORKSPACE_TEST_DIRS,
        "benchmarks",
        "noxfile.py",
        *session.posargs,
        env=env,
    )
    # Each package's tests on their own: test modules (conftest.py, test_training.py) repeat
    # names across packages, which one mypy run cannot tell apart. The cache makes these fast.
    for tests_dir in TEST_DIRS:
        session.run("mypy", "--strict", tests_dir, *session.posargs, env=env)


# -- tests --------------------------------------------------------------------------------------


@nox.session
def tests(session: nox.Session) -> None:
    """Every package's tests, the workspace tests and integration/, without the slow ones."""
    _sync(session, "--all-packages")
    session.run("pytest", "-m", "not slow", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """integration/ in full, then the tests marked slow everywhere else."""
    _sync(session, "--all-packages")
    # Exit code 5 is "no tests collected": integration/ and the packages may have none yet.
    session.run("pytest", "integration", *session.posargs, success_codes=[0, 5])
    session.run("pytest", "-m", "slow", *TEST_DIRS, "tests", *session.posargs, success_codes=[0, 5])


# -- isolated -----------------------------------------------------------------------------------


def _workspace_closure(package: Package) -> list[Package]:
    """``package`` and every workspace member it needs, transitively, to run its tests."""
    seen: dict[str, Package] = {}
    todo = [package]
    while todo:
        current = todo.pop()
        if current.dist in seen:
            continue
        seen[current.dist] = current
        wanted = current.requires + (current.test_requires if current is package else ())
        todo += [BY_DIST[_req_name(r)] for r in wanted if _req_name(r) in BY_DIST]
    return sorted(seen.values(), key=PACKAGES.index)


@nox.session(reuse_venv=False)
@nox.parametrize("package", [p.id for p in PACKAGES], ids=[p.id for p in PACKAGES])
def isolated(session: nox.Session, package: str) -> None:
    """One package alone in a fresh venv: its declared dependencies and nothing else."""
    pkg = next(p for p in PACKAGES if p.id == package)
    members = _workspace_closure(pkg)
    constraints = Path(session.create_tmp()) / "constraints.txt"
    # The lock's versions as constraints: what CI tests is what `uv sync` would install.
    session.run_install(
        "uv",
        "export",
        "--frozen",
        "--all-packages",
        "--all-groups",
        "--no-hashes",
        "--no-emit-workspace",
        "--no-header",
        "--no-annotate",
        "-o",
        str(constraints),
        silent=True,
    )
    others = [r for r in pkg.test_requires if _req_name(r) not in BY_DIST]
    reinstall = [arg for m in members for arg in ("--reinstall-package", m.dist)]
    # --no-sources: resolve dependencies the way an index install would; workspace members
    # are given as folders, built into wheels (not editable), so their packaging is tested too.
    session.run_install(
        "uv",
        "pip",
        "install",
        "--no-sources",
        "-c",
        str(constraints),
        *reinstall,
        *(m.rel for m in members),
        *others,
        "pytest",
        "hypothesis",
    )
    installed = session.run("uv", "pip", "list", "--format=freeze", silent=True)
    session.log("installed:\n%s", installed)
    session.run(
        "pytest",
        f"{pkg.rel}/tests",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


# -- docs ---------------------------------------------------------------------------------------


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning (a broken link, a missing API object) fails."""
    _sync(session)
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        session.create_tmp() + "/site",
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


# -- bench --------------------------------------------------------------------------------------

#: The libraries the benchmarks measure neuropil against: installed into the bench session only
#: (never into the lock), on top of the locked workspace, whose numpy they must accept.
BENCH_PEERS = ["brian2>=2.9", "cython>=3", "spyx>=1.0", "snntorch", "norse", "spikingjelly"]


@nox.session
def bench(session: nox.Session) -> None:
    """``python -m benchmarks.run`` with the peers installed; arguments after ``--`` go to it
    (``uv run nox -s bench -- --quick`` is the smoke run)."""
    _sync(session, "--all-packages")
    session.run_install("uv", "pip", "install", *BENCH_PEERS)
    session.run("python", "-m", "benchmarks.run", *session.posargs)
