"""``import neuropil`` and listing plugins never import a heavy framework (DESIGN.md, "The core").

Each check runs in a fresh interpreter, so that nothing imported by the test session itself can
hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "torch",
    "jax",
    "jaxlib",
    "optax",
    "brian2",
    "tensorflow",
    "lava",
    "nir",
    "h5py",
    "tonic",
    "cect",
)

_REPORT = """
import json, sys
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


def _heavy_modules_after(code: str) -> list[str]:
    script = code + "\n" + _REPORT.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_import_neuropil_is_light() -> None:
    assert _heavy_modules_after("import neuropil") == []


def test_import_the_public_modules_is_light() -> None:
    code = "import neuropil, neuropil.hookspecs, neuropil.errors, neuropil.protocols, neuropil.cli"
    assert _heavy_modules_after(code) == []


def test_discovering_every_plugin_is_light() -> None:
    # Discovery calls every installed plugin's hooks; descriptors must not import their targets.
    code = "import neuropil\nneuropil.get_registry().entries()"
    assert _heavy_modules_after(code) == []


@pytest.mark.parametrize("args", [["plugins"], ["plugins", "--json"]], ids=["table", "json"])
def test_neuropil_plugins_command_is_light(args: list[str]) -> None:
    code = (
        "import contextlib, io, neuropil.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = neuropil.cli.main({args!r})\n"
        "assert code == 0, code"
    )
    assert _heavy_modules_after(code) == []


def test_the_check_itself_can_fail() -> None:
    # The detector sees a module planted in sys.modules, so an empty list above means something.
    code = "import sys, types\nsys.modules['jax'] = types.ModuleType('jax')"
    assert _heavy_modules_after(code) == ["jax"]
