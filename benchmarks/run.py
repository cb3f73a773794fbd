"""Run benchmarks and print their tables: ``python -m benchmarks.run [NAMES...] [--quick]``.

Every module ``benchmarks/bench_*.py`` is imported to register its benchmarks (they import
their libraries only when run). With no names, every benchmark runs. Each result is printed as
a Markdown table and written to ``benchmarks/results/`` as JSON.

Exit status: 0 when every implementation ran or was skipped, 1 when one failed, 2 for an
unknown benchmark name.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import (
    REGISTRY,
    Benchmark,
    Settings,
    format_table,
    run_benchmark,
    write_result,
)

__all__ = ["discover", "main"]


def discover() -> dict[str, Benchmark]:
    """Import every ``benchmarks.bench_*`` module; the registered benchmarks, by name."""
    folder = Path(__file__).resolve().parent
    for module in pkgutil.iter_modules([str(folder)]):
        if module.name.startswith("bench_"):
            importlib.import_module(f"benchmarks.{module.name}")
    return REGISTRY


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time neuropil against its peers on the same workloads, in the same run.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small workloads, 3 timed calls, no compiled peers (seconds)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads per library (default: the benchmark's)"
    )
    parser.add_argument(
        "--min-time", type=float, default=None, help="seconds of timed calls per implementation"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed calls per implementation, at least"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the JSON results (benchmarks/results)"
    )
    return parser


def main(argv: Sequence[str] | None = None, registry: dict[str, Benchmark] | None = None) -> int:
    """The command line; returns the exit status.

    Args:
        argv: The arguments (``sys.argv[1:]`` by default).
        registry: The benchmarks to choose from (by default every ``bench_*`` module's).
    """
    args = _parser().parse_args(argv)
    available = discover() if registry is None else registry
    if args.list:
        for name, bench in sorted(available.items()):
            print(f"{name}: {bench.description}")
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        print(
            f"no benchmark named {unknown[0]!r}; available: {', '.join(sorted(available))} "
            "(python -m benchmarks.run --list describes them)",
            file=sys.stderr,
        )
        return 2
    settings = Settings.quick_run(args.threads) if args.quick else Settings(threads=args.threads)
    if args.min_time is not None:
        settings = dataclasses.replace(settings, min_time_s=args.min_time)
    if args.repeats is not None:
        settings = dataclasses.replace(settings, min_repeats=args.repeats)
    status = 0
    for name in args.names or sorted(available):
        result = run_benchmark(available[name], settings)
        print(format_table(result), flush=True)
        print(f"\nwritten: {write_result(result, args.out)}\n", flush=True)
        if any(r.status == "failed" for r in result.implementations):
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
