"""The benchmark harness: register workloads, time their implementations, report ratios.

A benchmark is a function, registered under a name with :func:`benchmark`, that builds one
workload and returns ``{implementation_name: callable}``: every callable does the same work
(simulate the same network on the same input, say) in a different library. The harness warms
each callable up, times it with :func:`time.perf_counter` over repeats (at least
``min_repeats`` and at least ``min_time_s`` in total), and reports the median and the
interquartile range, the ratio of every median to the benchmark's ``baseline`` measured in the
same run, and, when the benchmark names a ``subject`` (the neuropil implementation), the ratio
``subject / this`` (how many times slower than that peer neuropil is). A callable may return a
mapping of named numbers (population rates, a loss), which is reported next to its timings so
that a reader can check that the implementations did the same work.

Ratios measured in one run on one machine are the only performance claims the project makes:
absolute times depend on the machine, which is recorded with every result.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "REGISTRY",
    "RESULTS_DIR",
    "SCHEMA_VERSION",
    "THREAD_VARIABLES",
    "Benchmark",
    "BenchmarkResult",
    "Context",
    "Implementation",
    "ImplementationResult",
    "Metrics",
    "Settings",
    "benchmark",
    "format_table",
    "machine_info",
    "measure",
    "pinned_threads",
    "result_path",
    "run_benchmark",
    "write_result",
]

#: Version of the JSON layout written by :func:`write_result`.
SCHEMA_VERSION = 1
#: Where :func:`write_result` puts results by default.
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: Environment variables that size the thread pools of BLAS, OpenMP and numexpr.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

#: What an implementation may return: named numbers describing what it computed.
Metrics = Mapping[str, float]
#: One implementation of a workload: does the whole timed work once.
Implementation = Callable[[], Metrics | None]


@dataclass
class Context:
    """What a benchmark function receives.

    Attributes:
        quick: A smoke run: build a smaller workload and leave out implementations that take
            long to prepare (compilation), so that the whole run takes seconds.
        skipped: Implementations left out, name to reason; fill it with :meth:`skip`.
        params: The workload's parameters (sizes, durations, seeds), recorded with the result;
            the benchmark fills it in.
    """

    quick: bool = False
    skipped: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def skip(self, name: str, reason: str) -> None:
        """Record that implementation ``name`` is not measured in this run, and why."""
        self.skipped[name] = reason


BenchmarkFunction = Callable[[Context], Mapping[str, Implementation]]


@dataclass(frozen=True)
class Benchmark:
    """A registered workload.

    Attributes:
        name: The name it is run by (``python -m benchmarks.run NAME``).
        func: Builds the workload; returns ``{implementation_name: callable}``.
        baseline: The implementation every median is divided by (``x baseline`` column).
        subject: The implementation under test, usually neuropil's; when given, the table also
            shows ``subject / this`` for every implementation.
        peers: Distribution names whose versions are recorded with the result.
        threads: Threads every library may use (``None``: leave them alone).
        description: One paragraph: what is measured.
    """

    name: str
    func: BenchmarkFunction
    baseline: str
    subject: str | None = None
    peers: tuple[str, ...] = ()
    threads: int | None = 1
    description: str = ""


#: Every registered benchmark, by name (filled by :func:`benchmark` as modules are imported).
REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    *,
    baseline: str,
    subject: str | None = None,
    peers: Sequence[str] = (),
    threads: int | None = 1,
    registry: dict[str, Benchmark] | None = None,
) -> Callable[[BenchmarkFunction], BenchmarkFunction]:
    """Register the decorated function as benchmark ``name``; its docstring describes it.

    Raises:
        ValueError: ``name`` is already registered (two modules claim one name).
    """
    target = REGISTRY if registry is None else registry

    def register(func: BenchmarkFunction) -> BenchmarkFunction:
        if name in target:
            raise ValueError(
                f"benchmark {name!r} is registered twice ({target[name].func.__module__} and "
                f"{func.__module__}); give one of them another name"
            )
        target[name] = Benchmark(
            name=name,
            func=func,
            baseline=baseline,
            subject=subject,
            peers=tuple(peers),
            threads=threads,
            description=" ".join((func.__doc__ or "").split()),
        )
        return func

    return register


@dataclass(frozen=True)
class Settings:
    """How implementations are timed.

    Attributes:
        quick: Passed to the benchmark as :attr:`Context.quick`.
        warmup: Untimed calls first (code generation, caches, JIT compilation).
        min_repeats / max_repeats: Timed calls, at least / at most.
        min_time_s: Timed calls continue until their total reaches this (seconds), up to
            ``max_repeats``.
        threads: Overrides every benchmark's own ``threads`` when given.
    """

    quick: bool = False
    warmup: int = 1
    min_repeats: int = 5
    max_repeats: int = 100
    min_time_s: float = 3.0
    threads: int | None = None

    @classmethod
    def quick_run(cls, threads: int | None = None) -> Settings:
        """A smoke run: one warm-up, three timed calls, no minimum time."""
        return cls(
            quick=True, warmup=1, min_repeats=3, max_repeats=3, min_time_s=0.0, threads=threads
        )


@dataclass
class ImplementationResult:
    """What was measured for one implementation.

    Attributes:
        status: ``"ok"``, ``"skipped"`` (left out, see ``reason``) or ``"failed"`` (raised;
            ``reason`` has the error).
        times_s: Every timed call, seconds.
        metrics: What the last call returned.
    """

    name: str
    status: str
    times_s: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    @property
    def median_s(self) -> float | None:
        """Median of :attr:`times_s` (``None`` without timings)."""
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def iqr_s(self) -> float | None:
        """Interquartile range of :attr:`times_s` (0 for one timing, ``None`` for none)."""
        if not self.times_s:
            return None
        if len(self.times_s) == 1:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.times_s, n=4, method="inclusive")
        return q3 - q1


@dataclass
class BenchmarkResult:
    """One benchmark's run: settings, machine and every implementation's result."""

    benchmark: Benchmark
    settings: Settings
    threads: int | None
    params: dict[str, Any]
    machine: dict[str, Any]
    started: str
    implementations: list[ImplementationResult]

    def get(self, name: str) -> ImplementationResult | None:
        """The result of implementation ``name``, if it was part of the run."""
        return next((r for r in self.implementations if r.name == name), None)

    def ratio(self, numerator: str, denominator: str) -> float | None:
        """``median(numerator) / median(denominator)``, or ``None`` if either is missing."""
        a, b = self.get(numerator), self.get(denominator)
        ma = a.median_s if a else None
        mb = b.median_s if b else None
        if ma is None or mb is None or mb == 0.0:
            return None
        return ma / mb

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written by :func:`write_result` (layout :data:`SCHEMA_VERSION`)."""
        bench = self.benchmark
        return {
            "schema_version": SCHEMA_VERSION,
            "benchmark": bench.name,
            "description": bench.description,
            "baseline": bench.baseline,
            "subject": bench.subject,
            "started": self.started,
            "params": self.params,
            "settings": {
                "quick": self.settings.quick,
                "warmup": self.settings.warmup,
                "min_repeats": self.settings.min_repeats,
                "max_repeats": self.settings.max_repeats,
                "min_time_s": self.settings.min_time_s,
                "threads": self.threads,
            },
            "machine": self.machine,
            "results": {
                r.name: {
                    "status": r.status,
                    "reason": r.reason,
                    "median_s": r.median_s,
                    "iqr_s": r.iqr_s,
                    "repeats": len(r.times_s),
                    "times_s": r.times_s,
                    "ratio_to_baseline": self.ratio(r.name, bench.baseline),
                    "subject_ratio": (
                        self.ratio(bench.subject, r.name) if bench.subject is not None else None
                    ),
                    "metrics": r.metrics,
                }
                for r in self.implementations
            },
        }


def measure(fn: Implementation, settings: Settings) -> tuple[list[float], dict[str, float]]:
    """Warm ``fn`` up, then time it: ``(times_s, metrics of the last call)``.

    Calls ``fn`` ``settings.warmup`` times untimed, then at least ``min_repeats`` times and
    until the timed calls add up to ``min_time_s`` seconds, at most ``max_repeats`` times.
    """
    metrics: Metrics | None = None
    for _ in range(settings.warmup):
        metrics = fn()
    times: list[float] = []
    while len(times) < max(1, settings.min_repeats) or (
        sum(times) < settings.min_time_s and len(times) < settings.max_repeats
    ):
        start = time.perf_counter()
        metrics = fn()
        times.append(time.perf_counter() - start)
    return times, {k: float(v) for k, v in (metrics or {}).items()}


@contextlib.contextmanager
def pinned_threads(threads: int | None) -> Iterator[None]:
    """Within the block, libraries see ``threads`` threads through :data:`THREAD_VARIABLES`
    (read by OpenMP and BLAS when they start, and by subprocesses); restored afterwards."""
    if threads is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _pinned_frameworks(threads: int | None) -> Iterator[None]:
    """Frameworks with their own pools, when the benchmark imported them (never imported
    here: a benchmark that does not use torch must not pay for importing it)."""
    torch = sys.modules.get("torch")
    if threads is None or torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def machine_info(peers: Sequence[str] = ()) -> dict[str, Any]:
    """The machine a result was measured on: CPU model, cores (all, and usable by this
    process), OS, Python, and the versions of neuropil, numpy and ``peers`` (``None`` where
    not installed)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    return {
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {d: _version(d) for d in dict.fromkeys(("neuropil", "numpy", *peers))},
    }


def run_benchmark(bench: Benchmark, settings: Settings) -> BenchmarkResult:
    """Build ``bench``'s workload and time every implementation, one after the other.

    An implementation that raises (while warming up or timed) is recorded as ``failed`` with
    its error, and the others still run: one broken peer does not lose the run.
    """
    threads = settings.threads if settings.threads is not None else bench.threads
    ctx = Context(quick=settings.quick)
    started = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    results: list[ImplementationResult] = []
    with pinned_threads(threads):
        implementations = bench.func(ctx)
        with _pinned_frameworks(threads):
            for name, fn in implementations.items():
                try:
                    times, metrics = measure(fn, settings)
                except Exception as exc:
                    last = traceback.extract_tb(exc.__traceback__)[-1]
                    where = f"{Path(last.filename).name}:{last.lineno}"
                    results.append(
                        ImplementationResult(
                            name, "failed", reason=f"{type(exc).__name__}: {exc} ({where})"
                        )
                    )
                else:
                    results.append(ImplementationResult(name, "ok", times, metrics))
    results += [ImplementationResult(n, "skipped", reason=r) for n, r in ctx.skipped.items()]
    return BenchmarkResult(
        benchmark=bench,
        settings=settings,
        threads=threads,
        params=dict(ctx.params),
        machine=machine_info(bench.peers),
        started=started,
        implementations=results,
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1.0:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


def _number(value: float) -> str:
    return f"{value:.4g}"


def format_table(result: BenchmarkResult) -> str:
    """The result as a Markdown table (it pastes into a README as it is).

    Columns: implementation, median, IQR, timed calls, ``x <baseline>`` (median / the
    baseline's median), ``<subject> / this`` when the benchmark has a subject, then every
    metric any implementation returned. Skipped and failed implementations are listed with
    their reason below the table.
    """
    bench = result.benchmark
    metric_names = list(dict.fromkeys(k for r in result.implementations for k in r.metrics))
    header = ["implementation", "median", "IQR", "calls", f"x {bench.baseline}"]
    if bench.subject is not None:
        header.append(f"{bench.subject} / this")
    header += metric_names
    rows: list[list[str]] = []
    notes: list[str] = []
    for r in result.implementations:
        if r.status != "ok":
            notes.append(f"- {r.name}: {r.status}: {r.reason}")
            continue
        ratio = result.ratio(r.name, bench.baseline)
        row = [
            r.name,
            _seconds(r.median_s),
            _seconds(r.iqr_s),
            str(len(r.times_s)),
            "-" if ratio is None else f"{ratio:.2f}",
        ]
        if bench.subject is not None:
            sub = result.ratio(bench.subject, r.name)
            row.append("-" if sub is None else f"{sub:.2f}")
        row += [_number(r.metrics[m]) if m in r.metrics else "-" for m in metric_names]
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    machine = result.machine
    out = [
        f"## {bench.name}" + (" (quick)" if result.settings.quick else ""),
        "",
        f"{machine['cpu']}, {machine['usable_cores']} usable cores, threads="
        f"{result.threads if result.threads is not None else 'unpinned'}, Python "
        f"{machine['python']}, {result.started}",
        "",
        line(header),
        "| " + " | ".join("-" * w for w in widths) + " |",
        *(line(row) for row in rows),
    ]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


def _host_label() -> str:
    label = re.sub(r"[^a-z0-9-]+", "-", platform.node().split(".")[0].lower()).strip("-")
    return label[:24] or "host"


def result_path(result: BenchmarkResult, directory: Path) -> Path:
    """``<directory>/<name>[-quick]-<host>-<YYYYmmdd-HHMMSS>.json``, with ``-2``, ``-3``, ...
    appended when that file exists already."""
    stamp = _dt.datetime.fromisoformat(result.started).strftime("%Y%m%d-%H%M%S")
    quick = "-quick" if result.settings.quick else ""
    stem = f"{result.benchmark.name}{quick}-{_host_label()}-{stamp}"
    path = directory / f"{stem}.json"
    n = 2
    while path.exists():
        path = directory / f"{stem}-{n}.json"
        n += 1
    return path


def write_result(result: BenchmarkResult, directory: Path | None = None) -> Path:
    """Write ``result`` as JSON into ``directory`` (:data:`RESULTS_DIR` by default),
    atomically (a temporary file in the same folder, then :func:`os.replace`).

    Returns:
        The path written (see :func:`result_path`).
    """
    folder = RESULTS_DIR if directory is None else directory
    folder.mkdir(parents=True, exist_ok=True)
    path = result_path(result, folder)
    text = json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
