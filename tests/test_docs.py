"""The docs cannot drift from the code (in the spirit of datasette's documentation tests).

* every hook in ``neuropil.hookspecs`` appears with its exact signature;
* every command of the ``neuropil`` command line appears with its exact usage line;
* every error class in ``neuropil.errors`` has its own section with its exact signature;
* every option value named in the time-semantics tables exists in a standard model;
* the Python blocks of the tutorial pages run, in a fresh folder, as written.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import neuropil
import neuropil._builtins
import neuropil.cli
import neuropil.errors
import neuropil.hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Pages whose ```python blocks are run, top to bottom in one namespace, like a session.
EXECUTED_PAGES = (
    "getting-started.md",
    "writing-a-plugin.md",
    "errors.md",
    "concepts/registry.md",
    "concepts/time.md",
    "concepts/ir.md",
    "concepts/models.md",
)


def _all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md")))


def _squash(text: str) -> str:
    return " ".join(text.split())


def signature_text(obj: Callable[..., Any]) -> str:
    """``name(a, b=1, *, c)``: parameter names and defaults, as a reader calls it."""
    if isinstance(obj, type) and not any(
        "__init__" in vars(k) for k in obj.__mro__ if k.__module__.startswith("neuropil")
    ):
        return f"{obj.__name__}(message)"  # a plain Exception subclass
    parts: list[str] = []
    keyword_only = False
    for p in inspect.signature(obj).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            keyword_only = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{obj.__name__}({', '.join(parts)})"


def test_signature_text() -> None:
    def f(a: int, b: int = 1, *, c: str, d: None = None) -> None:
        return None

    assert signature_text(f) == "f(a, b=1, *, c, d=None)"
    assert signature_text(neuropil.errors.EngineError) == "EngineError(message)"


# -- hooks ---------------------------------------------------------------------------------------


def _hooks() -> list[Callable[..., Any]]:
    return [
        f
        for name, f in vars(neuropil.hookspecs).items()
        if name.startswith("neuropil_") and callable(f)
    ]


def test_there_is_one_hook_per_kind() -> None:
    assert sorted(f.__name__ for f in _hooks()) == sorted(neuropil.KINDS.values())


@pytest.mark.parametrize("hook", _hooks(), ids=lambda f: f.__name__)
def test_every_hook_is_documented_with_its_signature(hook: Callable[..., Any]) -> None:
    returns = hook.__annotations__["return"]
    expected = f"{signature_text(hook)} -> {returns}"
    assert expected in _all_docs(), f"docs/ never shows the hook as `{expected}`"


# -- command line --------------------------------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = neuropil.cli._parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the neuropil parser has no subcommands")


def _usage(parser: argparse.ArgumentParser) -> str:
    return _squash(parser.format_usage().removeprefix("usage:"))


def test_the_cli_has_the_documented_commands() -> None:
    assert sorted(_subcommands()) == ["check", "new-plugin", "plugins", "run"]


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_command_is_documented_with_its_usage(command: str) -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"## `neuropil {command}`" in page, f"docs/cli.md has no section for {command}"
    usage = _usage(_subcommands()[command])
    assert usage in _squash(page), f"docs/cli.md does not show the exact usage: {usage}"
    for action in _subcommands()[command]._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in page, f"docs/cli.md does not explain {command} {flag}"


def test_the_top_level_usage_is_documented() -> None:
    page = _squash((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert _usage(neuropil.cli._parser()) in page


def _text_blocks(text: str) -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def test_the_plugins_table_is_the_real_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page shows a fresh install: the core's own components only, 100 columns wide.
    shown = [b for b in _text_blocks((DOCS / "cli.md").read_text(encoding="utf-8")) if "┏" in b]
    assert len(shown) == 1, "docs/cli.md should show one `neuropil plugins` table"
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    registry = neuropil.Registry(discover=False)
    registry.register_plugin(
        neuropil._builtins, "builtins", distribution="neuropil", version=neuropil.__version__
    )
    with neuropil.use_registry(registry):
        assert neuropil.cli.main(["plugins"]) == 0
    real = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert [line.rstrip() for line in shown[0].splitlines()] == real, (
        "docs/cli.md's `neuropil plugins` table is not the real output; paste the output of "
        "`COLUMNS=100 neuropil plugins` (core only)"
    )


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(neuropil.errors.__all__))
def test_every_error_is_documented_with_its_signature(name: str) -> None:
    cls = getattr(neuropil.errors, name)
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    assert f"## `{name}`" in page, f"docs/errors.md has no section for {name}"
    section = page.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
    assert signature_text(cls) in section, (
        f"docs/errors.md's section on {name} does not show `{signature_text(cls)}`"
    )


# -- time semantics ------------------------------------------------------------------------------


def _option_choices() -> dict[str, set[Any]]:
    registry = neuropil.get_registry()
    found: dict[str, set[Any]] = {}
    for name in registry.names("neuron"):
        for key, option in registry.neuron(name).options.items():
            found.setdefault(key, set()).update(option.choices)
    return found


def test_time_tables_name_only_real_options() -> None:
    page = (DOCS / "concepts" / "time.md").read_text(encoding="utf-8")
    # Other tools' own option names, quoted to say what they map to.
    foreign = {"reset_mechanism", "when"}
    named = [(k, v) for k, v in re.findall(r'`(\w+)="(\w+)"`', page) if k not in foreign]
    assert len(named) > 20
    choices = _option_choices()
    wrong = [f'{k}="{v}"' for k, v in named if v not in choices.get(k, set())]
    assert not wrong, f"docs/concepts/time.md names options no standard model has: {wrong}"


def test_time_page_states_the_semantics_of_the_reference_engine() -> None:
    page = _squash((DOCS / "concepts" / "time.md").read_text(encoding="utf-8"))
    for fact in (
        "Populations are updated in `ResolvedNetwork.order`",
        "New weights act from step t+1.",
        "Probes record after the step",
        "d >= 1 on any cycle, d = 0 only on acyclic paths. Default delay 1.",
    ):
        assert fact in page


def _table_rows(section: str) -> list[list[str]]:
    """The cells of a markdown table's body rows (header and rule excluded)."""
    rows = [
        [cell.strip() for cell in line.strip()[1:-1].split("|")]
        for line in section.splitlines()
        if line.startswith("| ")
    ]
    return [r for r in rows[1:] if not set("".join(r)) <= set("- :")]


def test_table_rows_reads_cells() -> None:
    text = '| a | b |\n| --- | --- |\n| `x="1"` | 2 |\n\nprose\n'
    assert _table_rows(text) == [['`x="1"`', "2"]]


def test_models_page_reproduces_the_time_page_tool_rows() -> None:
    # One source of truth: time.md's tools table is the one tests/test_time_mappings.py checks.
    time_page = (DOCS / "concepts" / "time.md").read_text(encoding="utf-8")
    tools = _table_rows(time_page.split("## Other tools, in neuropil's terms", 1)[1])
    by_tool = {row[0]: row for row in tools}
    models_page = (DOCS / "models.md").read_text(encoding="utf-8")
    section = models_page.split("## Reproducing other simulators", 1)[1].split("\n## ", 1)[0]
    rows = _table_rows(section)
    assert len(rows) >= 6
    for row in rows:
        assert row[0] in by_tool, f"docs/models.md names {row[0]!r}, which time.md's table lacks"
        expected = by_tool[row[0]][: len(row)]
        assert row == expected, (
            f"docs/models.md and docs/concepts/time.md disagree on {row[0]}:\n"
            f"  models.md: {row}\n  time.md:   {expected}"
        )


# -- executed pages ------------------------------------------------------------------------------


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a markdown page, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def test_python_blocks_finds_only_python() -> None:
    text = "```python\na = 1\n```\n```text\nnot = code\n```\n```python\nb = 2\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = 2\n"]


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


@pytest.mark.parametrize("page", EXECUTED_PAGES)
@pytest.mark.usefixtures("in_tmp_dir")
def test_python_blocks_run(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = DOCS / page
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    if page in ("getting-started.md", "writing-a-plugin.md"):
        assert len(blocks) >= 3, f"{page} should show its steps as runnable python blocks"
    # Pages import their own plugin modules; keep them out of the other tests' interpreter.
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    modules_before = set(__import__("sys").modules)
    namespace: dict[str, Any] = {"__name__": f"docs:{page}"}
    try:
        for number, block in enumerate(blocks, start=1):
            code = compile(block, f"{path.relative_to(ROOT)} (python block {number})", "exec")
            exec(code, namespace)
    finally:
        sys_modules = __import__("sys").modules
        for name in set(sys_modules) - modules_before:
            if name.startswith("neuropil_my_neurons"):
                del sys_modules[name]


# -- experiments ---------------------------------------------------------------------------------


def test_every_experiment_section_and_key_is_documented() -> None:
    from neuropil._experiment import SECTIONS

    page = (DOCS / "experiments.md").read_text(encoding="utf-8")
    for section, keys in SECTIONS.items():
        heading = f"### `[[{section}]]`" if section == "analysis" else f"### `[{section}]`"
        assert heading in page, f"docs/experiments.md has no section {heading}"
        body = page.split(heading, 1)[1].split("\n### ", 1)[0]
        if section == "training":
            # the training table is the core's TrainingConfig, documented on its own page
            body = (DOCS / "concepts" / "training.md").read_text(encoding="utf-8")
        for key in keys or ():
            assert f"`{key}`" in body, f"docs/experiments.md does not explain [{section}] {key}"


def test_the_documented_minimal_experiment_checks(in_tmp_dir: Path) -> None:
    from neuropil._experiment import check_experiment

    page = (DOCS / "experiments.md").read_text(encoding="utf-8")
    experiment = re.findall(r"^```toml\n(.*?)^```", page, re.DOTALL | re.MULTILINE)[-1]
    ir_page = (DOCS / "concepts" / "ir.md").read_text(encoding="utf-8")
    network = re.findall(r"^```toml\n(.*?)^```", ir_page, re.DOTALL | re.MULTILINE)[-1]
    (in_tmp_dir / "tiny-net.toml").write_text(network, encoding="utf-8")
    (in_tmp_dir / "tiny.toml").write_text(experiment, encoding="utf-8")
    assert neuropil.Network.load(in_tmp_dir / "tiny-net.toml").name == "tiny"
    assert check_experiment(in_tmp_dir / "tiny.toml") == []
