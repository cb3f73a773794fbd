"""``neuropil new-plugin``: scaffold a plugin package a third party can install and publish.

The templates live in ``neuropil/_templates/plugin/`` (``string.Template`` files, ``${name}``
placeholders). The generated package has an example portable neuron model, its entry point and
a conformance test that runs ``neuropil-testkit``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from neuropil import __version__
from neuropil._atomic import publish_dir
from neuropil._descriptors import PLUGIN_API_VERSION
from neuropil.errors import NeuropilError

__all__ = ["PluginNames", "core_requirement", "create_plugin", "plugin_names"]

_NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

#: Template file -> path in the generated package (``{package}`` is the import name).
_FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "CHANGELOG.md.tmpl": "CHANGELOG.md",
    "gitignore.tmpl": ".gitignore",
    "__init__.py.tmpl": "src/{package}/__init__.py",
    "plugin.py.tmpl": "src/{package}/plugin.py",
    "models.py.tmpl": "src/{package}/models.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
}


@dataclass(frozen=True)
class PluginNames:
    """The names derived from a plugin name such as ``"my-neurons"``.

    Attributes:
        name: The plugin name as given (``"my-neurons"``).
        distribution: The distribution and folder name (``"neuropil-my-neurons"``).
        package: The import name (``"neuropil_my_neurons"``).
        entry_point: The entry point name in group ``neuropil`` (``"my_neurons"``).
        model: The registry name of the example neuron model (``"my_neurons_qif"``).
    """

    name: str
    distribution: str
    package: str
    entry_point: str
    model: str


def plugin_names(name: str) -> PluginNames:
    """The distribution, import, entry point and model names for plugin ``name``.

    Raises:
        NeuropilError: ``name`` is not lower-case letters, digits and single hyphens starting
            with a letter, or it starts with ``neuropil-`` (the prefix is added for you).
    """
    if name.startswith("neuropil-"):
        raise NeuropilError(
            f"plugin name {name!r} already starts with 'neuropil-', which is added for you; "
            f"run: neuropil new-plugin {name.removeprefix('neuropil-')}"
        )
    if not _NAME_RE.fullmatch(name):
        raise NeuropilError(
            f"plugin name {name!r} is not valid: use lower-case letters, digits and single "
            "hyphens, starting with a letter (e.g. 'my-neurons')"
        )
    snake = name.replace("-", "_")
    return PluginNames(
        name=name,
        distribution=f"neuropil-{name}",
        package=f"neuropil_{snake}",
        entry_point=snake,
        model=f"{snake}_qif",
    )


def create_plugin(name: str, directory: str | os.PathLike[str] = ".") -> Path:
    """Create the plugin package ``neuropil-<name>/`` inside ``directory``.

    The package is written into a temporary folder next to the target and renamed into place,
    so an interrupted run leaves no half-written package.

    Args:
        name: The plugin name, e.g. ``"my-neurons"`` (distribution ``neuropil-my-neurons``,
            import ``neuropil_my_neurons``, example model ``my_neurons_qif``).
        directory: The existing folder to create it in.

    Returns:
        The created folder.

    Raises:
        NeuropilError: The name is invalid, ``directory`` does not exist or cannot be written,
            or the target folder already exists (nothing is overwritten).
    """
    names = plugin_names(name)
    parent = Path(directory)
    if parent.exists() and not parent.is_dir():
        raise NeuropilError(f"cannot create the plugin in {parent}: it is a file, not a folder")
    if not parent.is_dir():
        raise NeuropilError(f"cannot create the plugin in {parent}: no such folder")
    target = parent / names.distribution
    try:
        # Reserve the name first: two scaffolds racing for it cannot both win.
        target.mkdir()
    except FileExistsError:
        raise NeuropilError(
            f"{target} already exists; nothing was written. Remove it, or choose another name "
            "or --dir"
        ) from None
    except OSError as exc:
        raise NeuropilError(
            f"cannot create the plugin in {parent}: {exc.strerror or exc}; choose a folder you "
            "can write to with --dir"
        ) from exc
    values = {
        "name": names.name,
        "distribution": names.distribution,
        "package": names.package,
        "entry_point": names.entry_point,
        "model": names.model,
        "api": repr(PLUGIN_API_VERSION),
        "core_requirement": core_requirement(__version__),
        "testkit_requirement": "neuropil-testkit>=0.1,<0.2",
    }
    templates = resources.files("neuropil").joinpath("_templates", "plugin")
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{names.distribution}-", dir=parent))
        for template_name, relative in _FILES.items():
            text = Template(templates.joinpath(template_name).read_text("utf-8"))
            path = staging / relative.format(package=names.package)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.substitute(values), encoding="utf-8")
        (staging / "src" / names.package / "py.typed").write_text("", encoding="utf-8")
        publish_dir(staging, target)
    except BaseException as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            target.rmdir()
        if isinstance(exc, OSError):
            raise NeuropilError(
                f"cannot write the plugin into {parent}: {exc}; choose a folder you can write "
                "to with --dir"
            ) from exc
        raise
    return target


def core_requirement(version: str) -> str:
    """The ``neuropil`` requirement of a new plugin: this core's release series.

    ``"0.1.3"`` gives ``"neuropil>=0.1,<0.2"`` (before 1.0 a minor release may break);
    ``"1.4.0"`` gives ``"neuropil>=1.4,<2"``.
    """
    parts = [int(p) for p in re.findall(r"\d+", version)[:2]] + [0, 0]
    major, minor = parts[0], parts[1]
    upper = f"0.{minor + 1}" if major == 0 else str(major + 1)
    return f"neuropil>={major}.{minor},<{upper}"
