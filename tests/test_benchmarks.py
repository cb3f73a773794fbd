"""The benchmark harness (benchmarks/): timing, ratios, tables, JSON results and the command line.

A toy benchmark with trivial implementations stands in for the real ones, which need their peers
and minutes (``uv run nox -s bench``); nothing here imports Brian2.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def benchmarks() -> Iterator[tuple[ModuleType, ModuleType]]:
    """``(benchmarks.harness, benchmarks.run)``, imported from the repository root."""
    sys.path.insert(0, str(ROOT))
    try:
        yield (
            importlib.import_module("benchmarks.harness"),
            importlib.import_module("benchmarks.run"),
        )
    finally:
        sys.path.remove(str(ROOT))


def _toy(harness: ModuleType, registry: dict[str, Any]) -> None:
    def toy(ctx: Any) -> dict[str, Any]:
        """Sleeps of two lengths."""
        ctx.params["quick"] = ctx.quick
        ctx.skip("absent", "not installed")

        def slow() -> dict[str, float]:
            time.sleep(0.004)
            return {"answer": 42.0}

        def fast() -> None:
            time.sleep(0.001)

        def broken() -> None:
            raise RuntimeError("peer exploded")

        return {"fast": fast, "slow": slow, "broken": broken}

    register = harness.benchmark(
        "toy", baseline="slow", subject="fast", peers=("pytest",), registry=registry
    )
    register(toy)


def test_quick_run_prints_the_table_and_writes_the_json(
    benchmarks: tuple[ModuleType, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    harness, run = benchmarks
    registry: dict[str, Any] = {}
    _toy(harness, registry)

    status = run.main(["toy", "--quick", "--out", str(tmp_path)], registry=registry)

    assert status == 1  # "broken" failed; the others were still measured
    out = capsys.readouterr().out
    assert "## toy (quick)" in out
    assert "| implementation | median" in out
    assert "x slow" in out
    assert "fast / this" in out
    assert "- broken: failed: RuntimeError: peer exploded" in out
    assert "- absent: skipped: not installed" in out
    files = list(tmp_path.glob("toy-quick-*.json"))
    assert len(files) == 1
    assert f"written: {files[0]}" in out
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind

    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert data["schema_version"] == harness.SCHEMA_VERSION
    assert (data["benchmark"], data["baseline"], data["subject"]) == ("toy", "slow", "fast")
    assert data["description"] == "Sleeps of two lengths."
    assert data["params"] == {"quick": True}
    assert data["settings"]["quick"] is True
    assert data["settings"]["threads"] == 1
    machine = data["machine"]
    assert machine["cores"] >= 1
    assert machine["python"].startswith("3.")
    assert set(machine["versions"]) == {"neuropil", "numpy", "pytest"}
    assert machine["versions"]["pytest"] == pytest.__version__
    results = data["results"]
    assert set(results) == {"fast", "slow", "broken", "absent"}
    slow, fast = results["slow"], results["fast"]
    assert slow["status"] == fast["status"] == "ok"
    assert slow["repeats"] == len(slow["times_s"]) == 3
    assert slow["median_s"] >= 0.004
    assert slow["ratio_to_baseline"] == 1.0
    assert 0.0 < fast["ratio_to_baseline"] < 1.0
    assert fast["subject_ratio"] == 1.0
    assert slow["subject_ratio"] == pytest.approx(fast["median_s"] / slow["median_s"])
    assert slow["metrics"] == {"answer": 42.0}
    assert fast["metrics"] == {}
    assert results["broken"]["status"] == "failed"
    assert "peer exploded" in results["broken"]["reason"]
    assert results["broken"]["median_s"] is None
    assert results["absent"] == {
        "status": "skipped",
        "reason": "not installed",
        "median_s": None,
        "iqr_s": None,
        "repeats": 0,
        "times_s": [],
        "ratio_to_baseline": None,
        "subject_ratio": None,
        "metrics": {},
    }


def test_measure_repeats_until_the_minimum_time(
    benchmarks: tuple[ModuleType, ModuleType],
) -> None:
    harness, _ = benchmarks
    calls: list[int] = []

    def work() -> dict[str, float]:
        calls.append(1)
        time.sleep(0.002)
        return {"calls": float(len(calls))}

    settings = harness.Settings(warmup=2, min_repeats=2, max_repeats=1000, min_time_s=0.02)
    times, metrics = harness.measure(work, settings)
    assert len(times) >= 2
    assert sum(times) >= 0.02
    assert len(calls) == len(times) + 2  # the warm-up calls are not timed
    assert metrics == {"calls": float(len(calls))}
    capped = harness.Settings(warmup=0, min_repeats=1, max_repeats=3, min_time_s=10.0)
    assert len(harness.measure(work, capped)[0]) == 3


def test_median_and_iqr(benchmarks: tuple[ModuleType, ModuleType]) -> None:
    harness, _ = benchmarks
    result = harness.ImplementationResult("x", "ok", times_s=[4.0, 1.0, 3.0, 2.0, 5.0])
    assert result.median_s == 3.0
    assert result.iqr_s == 2.0  # quartiles 2 and 4
    assert harness.ImplementationResult("y", "ok", times_s=[1.5]).iqr_s == 0.0


def test_threads_are_pinned_during_the_run_and_restored(
    benchmarks: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, _ = benchmarks
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    seen: dict[str, str | None] = {}
    registry: dict[str, Any] = {}

    def threads(ctx: Any) -> dict[str, Any]:
        """Records the environment it runs in."""
        seen.update({v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
        return {"a": lambda: None}

    harness.benchmark("threads", baseline="a", threads=2, registry=registry)(threads)

    result = harness.run_benchmark(registry["threads"], harness.Settings.quick_run())
    assert seen == {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    assert result.threads == 2
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    override = harness.run_benchmark(registry["threads"], harness.Settings.quick_run(threads=1))
    assert override.threads == 1
    assert seen["OMP_NUM_THREADS"] == "1"


def test_a_name_registered_twice_is_refused(benchmarks: tuple[ModuleType, ModuleType]) -> None:
    harness, _ = benchmarks
    registry: dict[str, Any] = {}
    _toy(harness, registry)
    with pytest.raises(ValueError, match="benchmark 'toy' is registered twice"):
        _toy(harness, registry)


def test_unknown_name_lists_the_benchmarks(
    benchmarks: tuple[ModuleType, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    harness, run = benchmarks
    registry: dict[str, Any] = {}
    _toy(harness, registry)
    assert run.main(["tyo", "--out", str(tmp_path)], registry=registry) == 2
    err = capsys.readouterr().err
    assert "no benchmark named 'tyo'; available: toy" in err
    assert not list(tmp_path.iterdir())


def test_discovery_registers_the_quickstart_benchmark_without_importing_peers(
    benchmarks: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    _, run = benchmarks
    brian2_before = "brian2" in sys.modules
    found = run.discover()
    bench = found["quickstart"]
    assert (bench.baseline, bench.subject) == ("brian2-numpy", "neuropil-numpy")
    assert "brian2" in bench.peers
    assert ("brian2" in sys.modules) == brian2_before  # peers load when a benchmark runs
    assert run.main(["--list"]) == 0
    assert "quickstart: examples/quickstart.toml" in capsys.readouterr().out


def test_the_bench_session_exists_and_is_not_a_default_session() -> None:
    # Read, not imported: importing the noxfile again would register its sessions twice.
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    assigned = {
        ast.unparse(node.targets[0]): node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and len(node.targets) == 1
    }
    defaults = ast.literal_eval(assigned["nox.options.sessions"])
    assert "bench" not in defaults
    assert "tests" in defaults
    peers = ast.literal_eval(assigned["BENCH_PEERS"])
    assert any(peer.startswith("brian2") for peer in peers)
    sessions = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(ast.unparse(d).startswith("nox.session") for d in node.decorator_list)
    }
    assert "bench" in sessions


def test_quickstart_runs_the_reference_engine_alone_without_brian2(
    benchmarks: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, run = benchmarks
    monkeypatch.setitem(sys.modules, "brian2", None)  # import brian2 raises ImportError
    result = harness.run_benchmark(run.discover()["quickstart"], harness.Settings.quick_run())
    ours = result.get("neuropil-numpy")
    assert ours is not None
    assert ours.status == "ok"
    assert len(ours.times_s) == 3
    assert ours.metrics["exc_hz"] > 0.0
    assert ours.metrics["inh_hz"] > 0.0
    assert ours.metrics["exc_corr"] == pytest.approx(1.0)
    assert result.params["neurons"] == 500
    assert result.params["steps"] == 200  # --quick simulates 0.1 s of the 1 s
    for name in ("brian2-numpy", "brian2-cython", "brian2-cpp_standalone"):
        peer = result.get(name)
        assert peer is not None
        assert peer.status == "skipped"
        assert "brian2 is not installed" in peer.reason
