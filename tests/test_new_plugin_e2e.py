"""End to end: ``neuropil new-plugin``, install it with the core and the testkit in a fresh
virtual environment, see it in ``neuropil plugins``, and pass its own conformance tests.

This is what a third-party author does on day one; it builds real wheels (templates included as
package data), so it is slow and needs ``uv`` and access to PyPI for the build backend.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neuropil.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.mark.slow
def test_a_new_plugin_installs_lists_and_passes_its_conformance_tests(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: this test builds a fresh virtual environment with it")
    assert main(["new-plugin", "e2e-neurons", "--dir", str(tmp_path)]) == 0
    plugin = tmp_path / "neuropil-e2e-neurons"

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv = tmp_path / "venv"
    made = _run([uv, "venv", "--python", sys.executable, str(venv)], tmp_path, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(python),
            str(ROOT / "packages" / "core"),
            str(ROOT / "packages" / "testkit"),
            f"{plugin}[test]",
        ],
        tmp_path,
        env,
    )
    assert installed.returncode == 0, installed.stderr

    listed = _run([str(venv / "bin" / "neuropil"), "plugins", "--json"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    (entry,) = [c for c in data["components"] if c["name"] == "e2e_neurons_qif"]
    assert (entry["kind"], entry["status"], entry["distribution"], entry["version"]) == (
        "neuron",
        "ok",
        "neuropil-e2e-neurons",
        "0.1.0",
    )
    assert data["problems"] == []

    tested = _run(
        [str(python), "-m", "pytest", str(plugin / "tests"), "-v", "-p", "no:cacheprovider"],
        plugin,
        env,
    )
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    # The testkit's checks ran on the new model (ids read "<model>-<check>").
    assert re.search(r"test_conformance\[e2e_neurons_qif-check_\w+\] PASSED", tested.stdout)
