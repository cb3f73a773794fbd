"""The ``neuropil`` command line.

Commands::

    neuropil plugins [--kind KIND] [--json] [--details]
                                                 what is installed, who provides it, what is broken
    neuropil check FILE                          validate a network (.json/.toml) or an experiment
    neuropil run EXPERIMENT.toml [--out DIR] [--backend NAME] [--quiet]
    neuropil new-plugin NAME [--dir PATH]        scaffold a plugin package
    neuropil --version

Exit codes: 0 success, 1 a neuropil error (one clear line on stderr, no traceback), 2 a usage
error. Warnings (a :class:`~neuropil.errors.UnitWarning` for a likely unit slip) are printed
once each as ``warning: ...`` on stderr and do not change the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from neuropil import __version__
from neuropil._descriptors import KINDS, PLUGIN_API_VERSION
from neuropil._registry import PluginProblem, Registry, RegistryEntry, get_registry
from neuropil._schema import Schema
from neuropil.errors import IncompatiblePluginError, NeuropilError, PluginConflictError

__all__ = ["main"]

_STATUS_STYLE = {"ok": "green", "refused": "yellow", "broken": "red"}
_SCHEMA_KINDS = ("neuron", "synapse", "rule", "surrogate")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``neuropil`` command with ``argv`` (``sys.argv[1:]`` by default).

    Returns:
        The exit code: 0 success, 1 a neuropil error (reported on stderr), 2 a usage error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    command: Callable[[argparse.Namespace, Console], int] = args.command
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(err)
        try:
            return command(args, out)
        except NeuropilError as exc:
            err.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)
            return 1


def _warning_printer(err: Console) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints each warning once as ``warning: <message>``: the
    place is in neuropil's messages, so Python's file and line (neuropil's own code) would only
    be noise, and a network validated twice (check, then compile) warns once."""
    seen: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = str(message)
        if not category.__module__.startswith("neuropil"):
            text = f"{category.__name__}: {text}"
        if text not in seen:
            seen.add(text)
            err.print(Text("warning: ", style="bold yellow") + Text(text), soft_wrap=True)

    return show


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuropil",
        description="neuropil: spiking networks, plasticity and neuromorphic hardware, by plugins.",
    )
    api = f"{PLUGIN_API_VERSION[0]}.{PLUGIN_API_VERSION[1]}"
    parser.add_argument(
        "--version", action="version", version=f"neuropil {__version__} (plugin API {api})"
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "plugins",
        help="list installed components, who provides them and any plugin problems",
        description="List installed components (importing none of them), the plugin and "
        "distribution that provides each, and every plugin that is broken or refused.",
    )
    p.add_argument("--kind", choices=list(KINDS), help="only components of this kind")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument(
        "--details",
        action="store_true",
        help="also load each neuron, synapse, rule and surrogate and show its parameters "
        "(units, bounds, defaults), options and state; this imports them",
    )
    p.set_defaults(command=_cmd_plugins)

    p = sub.add_parser(
        "check",
        help="validate a network or an experiment file",
        description="Validate a network saved by Network.save (.json or .toml) or an experiment "
        "(a .toml file with any of the sections [experiment], [network], [stimulus], [dataset], "
        "[training], [deployment], [analysis]) against the installed components.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    _add_set(p)
    p.set_defaults(command=_cmd_check)

    p = sub.add_parser(
        "run",
        help="run an experiment and write its run folder",
        description="Run the experiment described by EXPERIMENT.toml; print its run folder.",
    )
    p.add_argument("experiment", type=Path, metavar="EXPERIMENT.toml")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to create the run folder (default: the experiment's setting)",
    )
    p.add_argument(
        "--backend",
        default=None,
        metavar="NAME",
        help="run on this backend instead of the experiment's",
    )
    p.add_argument("--quiet", action="store_true", help="no progress; print only the run folder")
    _add_set(p)
    p.set_defaults(command=_cmd_run)

    p = sub.add_parser(
        "new-plugin",
        help="create a plugin package you can install and publish",
        description="Create neuropil-NAME/: a plugin package with an example neuron model, its "
        "entry point and conformance tests.",
    )
    p.add_argument("name", metavar="NAME", help="e.g. my-neurons (gives neuropil-my-neurons)")
    p.add_argument(
        "--dir",
        type=Path,
        default=Path(),
        metavar="PATH",
        help="the folder to create it in (default: the current folder)",
    )
    p.set_defaults(command=_cmd_new_plugin)
    return parser


# -- plugins ------------------------------------------------------------------------------------


def _cmd_plugins(args: argparse.Namespace, out: Console) -> int:
    registry = get_registry()
    kind: str | None = args.kind
    rows = _component_rows(registry, kind)
    if args.details:
        for row in rows:
            if row["status"] == "ok" and row["kind"] in _SCHEMA_KINDS:
                row["schema"] = _schema_or_error(registry, row["kind"], row["name"])
    problems = _unique_problems(registry.problems)
    if args.json:
        payload = {
            "neuropil": __version__,
            "plugin_api": list(PLUGIN_API_VERSION),
            "components": [{k: v for k, v in r.items() if k != "reason"} for r in rows],
            "problems": [_problem_json(p) for p in problems],
        }
        print(json.dumps(payload, indent=2))
        return 0

    table = Table(title=f"neuropil {__version__} components" + (f" ({kind})" if kind else ""))
    for column in ("kind", "name", "provided by", "status", "summary or error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            Text(row["kind"]),
            Text(row["name"]),
            Text(_owner_text(row)),
            Text(row["status"], style=_STATUS_STYLE[row["status"]]),
            Text(row["reason"] or row["summary"]),
        )
    out.print(table)
    for row in rows:
        if "schema" in row:
            _print_schema(out, row)
    if problems:
        out.print(Text(f"\n{len(problems)} plugin problem(s):", style="bold"))
        for problem in problems:
            style = _STATUS_STYLE[problem.status]
            out.print(
                Text(f"  {problem.status}: ", style=style) + Text(str(problem.error)),
                soft_wrap=True,
            )
    elif not rows:
        out.print("no components installed" + (f" of kind {kind!r}" if kind else ""))
    return 0


def _schema_or_error(registry: Registry, kind: str, name: str) -> dict[str, Any]:
    try:
        definition = registry.create(kind, name)
    except NeuropilError as exc:
        return {"error": str(exc)}
    schema = Schema(params=definition.params) if kind == "surrogate" else definition.schema
    described: dict[str, Any] = schema.describe()
    if kind == "rule":
        rule = registry.rule(name)
        described["pre_state"] = sorted(rule.pre_state)
        described["post_state"] = sorted(rule.post_state)
    return described


def _print_schema(out: Console, row: dict[str, Any]) -> None:
    schema = row["schema"]
    out.print(Text(f"\n{row['kind']} {row['name']}", style="bold") + Text(f": {row['summary']}"))
    if "error" in schema:
        out.print(Text(f"  could not load: {schema['error']}", style="red"), soft_wrap=True)
        return
    for pname, p in schema["params"].items():
        out.print(
            Text(f"  param  {pname} = {p['default']!r} {p['unit']}  in {p['bounds']}  {p['doc']}"),
            soft_wrap=True,
        )
    for oname, o in schema["options"].items():
        choices = " | ".join(repr(c) for c in o["choices"])
        out.print(
            Text(f"  option {oname} = {o['default']!r}  ({choices})  {o['doc']}"), soft_wrap=True
        )
    for sname, v in schema["state"].items():
        out.print(
            Text(f"  state  {sname} [{v['unit']}] starts at {v['init']!r}  {v['doc']}"),
            soft_wrap=True,
        )


def _component_rows(registry: Registry, kind: str | None) -> list[dict[str, Any]]:
    """One row per component (ok or refused) and per broken plugin. ``error`` is the full
    message (JSON); ``reason`` its short form for the table, whose problems section follows."""
    rows = [_row(e, "ok", None) for e in registry.entries(kind)]
    rows += [_row(e, "refused", err) for e, err in registry.refused(kind)]
    if kind is None:
        rows += [
            {
                "kind": "-",
                "name": p.plugin,
                "target": "",
                "summary": "",
                "plugin": p.plugin,
                "distribution": p.distribution,
                "version": p.version,
                "status": "broken",
                "error": str(p.error),
                "reason": "the plugin failed to load (see below)",
            }
            for p in registry.problems
            if p.status == "broken"
        ]
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(rows, key=lambda r: (order.get(r["kind"], len(order)), r["name"], r["plugin"]))


def _row(entry: RegistryEntry, status: str, error: NeuropilError | None) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "name": entry.name,
        "target": entry.target,
        "summary": entry.summary,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "version": entry.version,
        "status": status,
        "error": None if error is None else str(error),
        "reason": None if error is None else _reason(entry, error),
    }


def _reason(entry: RegistryEntry, error: NeuropilError) -> str:
    if isinstance(error, PluginConflictError):
        others = [owner for owner in error.owners if owner != entry.owner]
        return "name clash with " + " and ".join(others or error.owners)
    if isinstance(error, IncompatiblePluginError):
        return (
            f"built for plugin API {error.required[0]}.{error.required[1]}, "
            f"this core has {error.provided[0]}.{error.provided[1]}"
        )
    return "its plugin is refused (see below)"


def _owner_text(row: dict[str, Any]) -> str:
    if row["distribution"] is None:
        return f"plugin {row['plugin']}"
    return f"{row['distribution']} {row['version'] or ''}".strip()


def _unique_problems(problems: list[PluginProblem]) -> list[PluginProblem]:
    # A conflict is one problem per claimant sharing one error: report it once.
    seen: set[int] = set()
    unique = []
    for problem in problems:
        if id(problem.error) not in seen:
            seen.add(id(problem.error))
            unique.append(problem)
    return unique


def _problem_json(problem: PluginProblem) -> dict[str, Any]:
    return {
        "plugin": problem.plugin,
        "distribution": problem.distribution,
        "version": problem.version,
        "status": problem.status,
        "error": type(problem.error).__name__,
        "message": str(problem.error),
    }


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        dest="overrides",
        help="override one setting of the experiment (repeatable), e.g. "
        "--set experiment.backend=jax --set training.epochs=3",
    )


# -- check --------------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace, out: Console) -> int:
    from neuropil._experiment import SECTIONS, is_experiment, read_toml

    path: Path = args.file
    if path.is_dir():
        raise NeuropilError(f"{path} is a directory; give the path of a .json or .toml file")
    if not path.exists():
        raise NeuropilError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise NeuropilError(
            f"cannot check {path}: expected a network (.json or .toml, as written by "
            "Network.save) or an experiment (.toml with any of the sections "
            + ", ".join(f"[{s}]" for s in SECTIONS)
            + ")"
        )
    if suffix == ".toml" and is_experiment(read_toml(path)):
        from neuropil._experiment import check_experiment

        problems = check_experiment(path, overrides=args.overrides)
        if problems:
            err = Console(stderr=True, highlight=False)
            err.print(
                Text(
                    f"error: {path}: {len(problems)} problem(s) in the experiment:",
                    style="bold red",
                ),
                soft_wrap=True,
            )
            for problem in problems:
                err.print(Text(f"  {problem}"), soft_wrap=True)
            return 1
        out.print(Text(f"ok: {path} is a valid experiment"), soft_wrap=True)
        return 0

    if args.overrides:
        raise NeuropilError(
            f"--set applies to experiment files; {path} is a network (edit it, or check an "
            "experiment that uses it)"
        )
    from neuropil._network import Network

    network = Network.load(path)
    network.validate()
    out.print(
        Text(
            f"ok: {path} is a valid network {network.name!r} ({len(network.inputs)} inputs, "
            f"{len(network.populations)} populations, {len(network.projections)} projections)"
        ),
        soft_wrap=True,
    )
    return 0


# -- run ----------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace, out: Console) -> int:
    from neuropil._experiment import run_experiment

    run_dir = run_experiment(
        args.experiment,
        out_dir=args.out,
        backend=args.backend,
        quiet=args.quiet,
        overrides=args.overrides,
    )
    if args.quiet:
        print(run_dir)
    else:
        out.print(Text("run folder: ", style="bold green") + Text(str(run_dir)), soft_wrap=True)
    return 0


# -- new-plugin ---------------------------------------------------------------------------------


def _cmd_new_plugin(args: argparse.Namespace, out: Console) -> int:
    from neuropil._scaffold import create_plugin, plugin_names

    folder = create_plugin(args.name, args.dir)
    names = plugin_names(args.name)
    out.print(Text(f"created {folder}", style="bold green"), soft_wrap=True)
    out.print(
        Text(
            f"  distribution {names.distribution}, import {names.package}, "
            f"example neuron model {names.model!r}\n"
            "next:\n"
            f"  pip install -e '{folder}[test]'\n"
            f"  neuropil plugins --kind neuron      # lists {names.model}\n"
            f"  pytest {folder / 'tests'}"
        ),
        soft_wrap=True,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m neuropil.cli`
    sys.exit(main())
