"""The experiment runner: the quickstart, every section, and its errors."""

from __future__ import annotations

import json
import re
import sys
import tomllib
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import neuropil
from neuropil import Component, Network, Registry, hookimpl, use_registry
from neuropil._builtins import __name__ as builtins_module
from neuropil._experiment import (
    apply_overrides,
    check_experiment,
    run_experiment,
    spike_statistics,
)
from neuropil._training import TrainingConfig
from neuropil.errors import ExperimentError
from neuropil.protocols import AnalysisResult, DatasetInfo, HardwareIssue, SimulationResult
from neuropil.reference import NumpyBackend

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "examples" / "quickstart.toml"
RUN_FILES = {
    "experiment.toml",
    "network.toml",
    "metrics.json",
    "parameters.npz",
    "recordings.npz",
    "report.md",
}


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SMALL_NETWORK = """
[network]
dt = 1e-3
inputs = [{ name = "in", size = 4 }]

[[network.populations]]
name = "pop"
size = 3
model = "lif"

[[network.projections]]
name = "in->pop"
pre = "in"
post = "pop"
weights = { init = "constant", params = { value = 0.6 } }
"""


def small(tmp_path: Path, extra: str = "", head: str = "") -> Path:
    return write(tmp_path, f'[experiment]\nname = "small"\n{head}\n{extra}\n{SMALL_NETWORK}')


# -- the quickstart -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    return run_experiment(QUICKSTART, out_dir=out, quiet=True)


def test_quickstart_writes_a_complete_run_folder(quickstart_run: Path) -> None:
    assert re.fullmatch(r"quickstart-\d{8}-\d{6}(-\d+)?", quickstart_run.name)
    # The weights are initialisers and the probe index is short: no network sidecar.
    assert {p.name for p in quickstart_run.iterdir()} == RUN_FILES
    # Nothing else was left in the output folder: no temporary build folder.
    assert [p.name for p in quickstart_run.parent.iterdir()] == [quickstart_run.name]


def test_quickstart_is_asynchronous_irregular(quickstart_run: Path) -> None:
    metrics = json.loads((quickstart_run / "metrics.json").read_text())
    assert metrics["experiment"] == "quickstart"
    assert metrics["backend"] == "numpy"
    assert metrics["steps"] == 2000
    assert metrics["duration_s"] == pytest.approx(1.0)
    assert metrics["neurons"] == 500
    # p = 0.1 recurrent (500 x 500 pairs) and p = 0.05 external (400 x 500): ~35 000 synapses.
    assert 30_000 < metrics["synapses"] < 40_000
    for pop in ("exc", "inh"):
        stats = metrics["populations"][pop]
        assert 3.0 < stats["rate_hz"] < 40.0, stats
        assert 0.5 < stats["cv_isi"] < 1.5, stats
        assert stats["active_fraction"] > 0.5
    assert set(metrics["timings_s"]) >= {"input", "compile", "simulate"}


def test_quickstart_recordings_and_parameters(quickstart_run: Path) -> None:
    with np.load(quickstart_run / "recordings.npz", allow_pickle=False) as rec:
        assert set(rec.files) == {"exc.spikes", "inh.spikes", "exc.v"}
        assert rec["exc.spikes"].shape == (2000, 1, 400)
        assert rec["exc.v"].shape == (2000, 1, 5)
        assert set(np.unique(rec["inh.spikes"])) <= {0.0, 1.0}
        metrics = json.loads((quickstart_run / "metrics.json").read_text())
        rate = rec["exc.spikes"].mean() / 5e-4
        assert rate == pytest.approx(metrics["populations"]["exc"]["rate_hz"])
    with np.load(quickstart_run / "parameters.npz", allow_pickle=False) as params:
        assert params["inh->exc.weights"].max() <= 0.0
        assert params["exc->inh.weights"].min() >= 0.0
        assert float(params["exc.tau_ref"]) == pytest.approx(2e-3)


def test_the_resolved_experiment_reruns_identically(quickstart_run: Path, tmp_path: Path) -> None:
    resolved = tomllib.loads((quickstart_run / "experiment.toml").read_text())
    assert resolved["network"] == {"file": "network.toml"}
    assert resolved["stimulus"] == {
        "kind": "poisson",
        "steps": 2000,
        "batch": 1,
        "seed": 0,
        "rate_hz": 20.0,
    }
    assert resolved["experiment"]["dtype"] == "float64"
    again = run_experiment(quickstart_run / "experiment.toml", out_dir=tmp_path, quiet=True)
    with (
        np.load(quickstart_run / "recordings.npz") as a,
        np.load(again / "recordings.npz") as b,
    ):
        assert np.array_equal(a["exc.spikes"], b["exc.spikes"])


def test_the_report_and_the_rates_table(quickstart_run: Path) -> None:
    report = (quickstart_run / "report.md").read_text()
    assert report.startswith("# quickstart")
    assert "| exc | lif | 400 |" in report


def test_a_run_prints_progress_and_the_rates_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    run_experiment(small(tmp_path, "[stimulus]\nsteps = 50"), out_dir=tmp_path / "runs")
    out = capsys.readouterr().out
    assert "done simulate: 50 steps x 1 trial(s)" in out
    assert "rate (Hz)" in out
    assert re.search(r"pop\s+.\s+3\s+.\s+\d+\.\d\d", out)


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_experiment(small(tmp_path, "[stimulus]\nsteps = 5"), out_dir=tmp_path, quiet=True)
    assert capsys.readouterr().out == ""


def test_check_experiment_accepts_the_quickstart() -> None:
    assert check_experiment(QUICKSTART) == []


# -- files, defaults, folders ---------------------------------------------------------------------


def test_a_network_file_relative_to_the_experiment(tmp_path: Path) -> None:
    net = Network(dt=1e-3, name="ff")
    net.input("in", 5)
    net.population("out", 2, "lif")
    net.connect("in", "out", weights=np.full((2, 5), 0.8))
    (tmp_path / "nets").mkdir()
    net.save(tmp_path / "nets" / "ff.toml")
    exp = write(
        tmp_path,
        """
[experiment]
name = "from-file"
[network]
file = "nets/ff.toml"
[stimulus]
kind = "constant"
value = 0.5
steps = 40
batch = 2
""",
    )
    run = run_experiment(exp, out_dir=tmp_path / "out", quiet=True)
    with np.load(run / "recordings.npz") as rec:
        # A spike probe is added for every spiking population that has none.
        assert rec["out.spikes"].shape == (40, 2, 2)
        assert rec["out.spikes"].sum() > 0
    saved = Network.load(run / "network.toml")
    assert [p.key for p in saved.probes] == ["out.spikes"]
    resolved = tomllib.loads((run / "experiment.toml").read_text())
    assert resolved["stimulus"] == {
        "kind": "constant",
        "steps": 40,
        "batch": 2,
        "seed": 0,
        "value": 0.5,
    }


def test_defaults_one_second_of_poisson_input(tmp_path: Path) -> None:
    run = run_experiment(small(tmp_path), out_dir=tmp_path / "o", quiet=True)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 1000
    assert metrics["batch"] == 1
    resolved = tomllib.loads((run / "experiment.toml").read_text())
    assert resolved["experiment"] == {
        "name": "small",
        "seed": 0,
        "dtype": "float64",
        "backend": "numpy",
        "out_dir": str(tmp_path / "o"),
        "description": "",
    }
    assert resolved["stimulus"]["rate_hz"] == 10.0


def test_two_runs_in_one_second_get_distinct_folders(tmp_path: Path) -> None:
    exp = small(tmp_path, "[stimulus]\nsteps = 3")
    runs = {run_experiment(exp, out_dir=tmp_path / "o", quiet=True) for _ in range(3)}
    assert len(runs) == 3
    assert all(r.parent == tmp_path / "o" for r in runs)


def test_out_dir_from_the_file_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exp = small(tmp_path, "[stimulus]\nsteps = 3", head='out_dir = "results"')
    run = run_experiment(exp, quiet=True)
    assert run.parent.resolve() == (tmp_path / "results").resolve()


def test_spike_statistics() -> None:
    spikes = np.zeros((100, 1, 3))
    spikes[::10, 0, 0] = 1.0  # perfectly regular: CV 0
    spikes[[1, 2, 50], 0, 1] = 1.0
    stats = spike_statistics(spikes, 1e-3)
    assert stats["rate_hz"] == pytest.approx(13 / 300 / 1e-3)
    isi = np.array([1.0, 48.0])
    assert stats["cv_isi"] == pytest.approx((0.0 + isi.std() / isi.mean()) / 2)
    assert stats["active_fraction"] == pytest.approx(2 / 3)
    assert spike_statistics(np.zeros((10, 2, 4)), 1e-3)["cv_isi"] is None


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[experimnt]\nname = 'x'", r"\[experimnt\] unknown section; did you mean \[experiment\]"),
        (
            "[experiment]\nbackand = 'numpy'",
            r"\[experiment\] unknown key 'backand'; did you mean 'backend'\?; allowed keys: name, "
            r"seed, dtype, backend, out_dir, description",
        ),
        ("[experiment]\ndtype = 'float16'", r"dtype must be one of float32, float64, got 'float1"),
        ("[experiment]\nseed = 'zero'", r"\[experiment\] seed must be an integer, got 'zero'"),
        (
            "[experiment]\nbackend = 'nmpy'",
            r"\[experiment\] no backend named 'nmpy'; did you mean 'numpy'\?",
        ),
        ("[stimulus]\nkind = 'gaussian'", r"kind must be one of poisson, constant, got 'gaussian'"),
        ("[stimulus]\nsteps = 10\nduration = 1.0", r"give either steps or duration"),
        (
            "[stimulus]\nrate_hz = { inp = 5.0 }",
            r"\[stimulus\] rate_hz names input 'inp', which the network does not have; its "
            r"inputs: in",
        ),
        ("[stimulus]\nbatch = 0", r"batch must be >= 1, got 0"),
        ("[deployment]\nexport = true", r"\[deployment\] missing target"),
        ("[deployment]\ntarget = 'loihi'", r"no target named 'loihi'.*pip install neuropil-loihi"),
        ("[dataset]\nname = 'shd'", r"no dataset named 'shd'.*pip install neuropil-datasets"),
        ("[[analysis]]\nwindow = 3", r"\[analysis\] entry 0 needs name"),
        # Training with no data named means the offline default dataset.
        ("[training]\nepochs = 1", r"no dataset named 'digits'.*pip install neuropil-datasets"),
        (
            "[training]\nepochs = 1\n[stimulus]\nrate_hz = 5.0",
            r"\[training\] training needs a \[dataset\].*name = \"digits\"",
        ),
    ],
)
def test_invalid_experiments_are_explained(tmp_path: Path, text: str, message: str) -> None:
    exp = (
        small(tmp_path, text)
        if not text.startswith("[experiment]")
        else write(
            tmp_path, text.replace("[experiment]", '[experiment]\nname = "small"') + SMALL_NETWORK
        )
    )
    problems = check_experiment(exp)
    assert any(re.search(message, p) for p in problems), problems
    with pytest.raises(ExperimentError, match=message):
        run_experiment(exp, out_dir=tmp_path / "runs", quiet=True)
    assert not (tmp_path / "runs").exists()


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    exp = write(
        tmp_path,
        """
[experiment]
dtype = "half"
colour = "blue"
[stimulus]
batch = -1
[network]
file = "missing.toml"
""",
    )
    problems = check_experiment(exp)
    assert len(problems) == 4, problems
    assert any("does not exist" in p and "missing.toml" in p for p in problems)
    with pytest.raises(ExperimentError, match="4 problems in the experiment"):
        run_experiment(exp, quiet=True)


def test_an_invalid_network_is_reported_with_its_place(tmp_path: Path) -> None:
    exp = small(tmp_path).read_text().replace('model = "lif"', 'model = "lfi"')
    problems = check_experiment(write(tmp_path, exp))
    assert any(p.startswith("[network] populations[0].model") and "'lif'" in p for p in problems), (
        problems
    )


def test_a_missing_network_section(tmp_path: Path) -> None:
    assert check_experiment(write(tmp_path, "[experiment]\nname = 'x'")) == [
        '[network] missing: give file = "net.toml" or the network inline'
    ]


def test_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert check_experiment(tmp_path / "nope.toml") == [
        f"no such experiment file: {tmp_path / 'nope.toml'}"
    ]
    bad = write(tmp_path, "[experiment\n")
    assert check_experiment(bad)[0].startswith(f"{bad} is not valid TOML")


# -- plugins: failing stages, datasets, training, deployment, analyses --------------------------


class ExplodingBackend:
    name = "exploding"

    def compile(
        self, network: Network, *, dtype: str = "float64", device: str | None = None, seed: int = 0
    ) -> Any:
        sim = NumpyBackend().compile(network, dtype=dtype, seed=seed)

        def run(inputs: Any, *, steps: int | None = None) -> SimulationResult:
            raise RuntimeError("boom at step 3")

        sim.run = run  # type: ignore[method-assign]
        return sim


class Trainer(NumpyBackend):
    name = "trainer"

    def train(
        self,
        network: Network,
        dataset: Any,
        config: TrainingConfig,
        *,
        run_dir: str | None = None,
    ) -> dict[str, Any]:
        assert isinstance(config, TrainingConfig)  # the parsed config, never the raw table
        sim = NumpyBackend().compile(network)
        params = sim.get_parameters()
        params["in->pop.weights"] = params["in->pop.weights"] * 0 + config.lr
        first = dataset.split("train")[0][0]
        return {
            "epochs": config.epochs,
            "loss": 0.25,
            "samples": len(dataset.split("train")),
            "input": config.input,
            "seed": config.seed,
            "sample_shape": list(first.shape),
            "dt": dataset.info.dt,
            "parameters": params,
        }


class Toy:
    name = "toy"
    info = DatasetInfo(
        name="toy",
        shape=(4,),
        classes=("a", "b"),
        dt=1e-3,
        steps=20,
        size={"train": 6, "test": 5},
        licence="CC0",
        citation="none",
    )

    def split(self, name: str) -> Sequence[tuple[npt.NDArray[Any], int]]:
        rng = np.random.default_rng(0 if name == "train" else 1)
        return [
            ((rng.random((20 - k, 4)) < 0.3).astype(float), k % 2)
            for k in range(self.info.size[name])
        ]


class Static(Toy):
    name = "static"
    info = DatasetInfo(
        name="static",
        shape=(4,),
        classes=("a", "b"),
        dt=1e-3,
        steps=1,
        size={"train": 3, "test": 3},
        licence="CC0",
        citation="none",
    )

    def split(self, name: str) -> Sequence[tuple[npt.NDArray[Any], int]]:
        return [(np.full((1, 4), 0.25 * k), k % 2) for k in range(3)]


class RateEncoder:
    name = "rate"

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        a = np.asarray(x, dtype=float)
        return (rng.random((steps, *a.shape)) < a).astype(float)


class PairEncoder(RateEncoder):
    """Two neurons per value (a population code): [steps, *x.shape, 2]."""

    name = "pair"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*shape, 2)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        on = super().encode(x, steps=steps, dt=dt, rng=rng)
        return np.stack([on, 1.0 - on], axis=-1)


class Chip:
    name = "chip"

    def check(self, network: Network) -> list[HardwareIssue]:
        n = sum(p.size for p in network.populations)
        issues = [HardwareIssue("dt", "rounded to 1 ms", "warning")]
        if n > 100:
            issues.append(HardwareIssue("populations[0].size", f"{n} neurons > 100 per chip"))
        return issues

    def deploy(self, network: Network, parameters: Any = None) -> Any:
        sim = NumpyBackend().compile(network)
        if parameters is not None:
            sim.set_parameters({k: v for k, v in parameters.items() if not k.endswith(".delay")})

        class Deployed:
            def emulate(self, inputs: Any, *, steps: int | None = None) -> SimulationResult:
                return sim.run(inputs, steps=steps)

            def resources(self) -> dict[str, Any]:
                return {"cores": 1, "energy_j": 1e-6}

            def export(self, path: str) -> list[str]:
                target = Path(path) / "chip.txt"
                target.write_text("exported")
                return [str(target)]

        return Deployed()


class Counter:
    name = "counter"

    def run(
        self, network: Network, result: SimulationResult, config: Mapping[str, Any]
    ) -> AnalysisResult:
        total = float(result.recordings["pop.spikes"].sum())
        return AnalysisResult(
            metrics={"total": total, "scale": config.get("scale", 1)},
            arrays={"per_step": result.recordings["pop.spikes"].sum(axis=(1, 2))},
            html="<p>counted</p>",
        )


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A registry with the built-ins and a plugin providing one component of each engine kind."""
    module = types.ModuleType("_experiment_fakes")
    module.NEUROPIL_PLUGIN_API = neuropil.PLUGIN_API_VERSION  # type: ignore[attr-defined]
    offered: dict[str, list[tuple[str, type]]] = {
        "backend": [("exploding", ExplodingBackend), ("trainer", Trainer)],
        "dataset": [("toy", Toy), ("static", Static)],
        "encoder": [("rate", RateEncoder), ("pair", PairEncoder)],
        "target": [("chip", Chip)],
        "analysis": [("counter", Counter)],
    }
    for kind, items in offered.items():
        comps = []
        for name, cls in items:
            setattr(module, cls.__name__, cls)
            comps.append(Component(name, f"_experiment_fakes:{cls.__name__}"))

        def impl(found: list[Component] = comps) -> list[Component]:
            return found

        impl.__name__ = neuropil.KINDS[kind]
        setattr(module, impl.__name__, hookimpl(impl))
    monkeypatch.setitem(sys.modules, "_experiment_fakes", module)
    reg = Registry(discover=False)
    reg.register_plugin(
        sys.modules[builtins_module],
        "builtins",
        distribution="neuropil",
        version=neuropil.__version__,
    )
    assert reg.register_plugin(module, "fakes") == []
    with use_registry(reg):
        yield reg


@pytest.mark.usefixtures("plugins")
def test_a_failing_stage_leaves_no_folder(tmp_path: Path) -> None:
    exp = small(tmp_path, "[stimulus]\nsteps = 10", head='backend = "exploding"')
    assert check_experiment(exp) == []
    out = tmp_path / "runs"
    with pytest.raises(
        ExperimentError, match="the simulate stage failed: RuntimeError: boom at step 3"
    ):
        run_experiment(exp, out_dir=out, quiet=True)
    assert list(out.iterdir()) == []


@pytest.mark.usefixtures("plugins")
def test_a_dataset_feeds_the_network(tmp_path: Path) -> None:
    exp = small(tmp_path, '[dataset]\nname = "toy"\nlimit = 4')
    run = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    with np.load(run / "recordings.npz") as rec:
        assert rec["pop.spikes"].shape == (20, 4, 3)  # padded to the longest sample
        assert rec["labels"].tolist() == [0, 1, 0, 1]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dataset"] == {"name": "toy", "split": "test", "samples": 4}
    resolved = tomllib.loads((run / "experiment.toml").read_text())
    assert resolved["dataset"] == {"name": "toy", "split": "test", "limit": 4}
    assert "stimulus" not in resolved


@pytest.mark.usefixtures("plugins")
def test_an_encoder_turns_static_samples_into_spikes(tmp_path: Path) -> None:
    exp = small(tmp_path, '[dataset]\nname = "static"\nencoder = "rate"\nsteps = 30')
    run = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    with np.load(run / "recordings.npz") as rec:
        assert rec["pop.spikes"].shape == (30, 3, 3)


@pytest.mark.usefixtures("plugins")
def test_an_encoder_may_change_the_frame_shape(tmp_path: Path) -> None:
    # 4 values x 2 neurons each: the input must have 8 channels, and the message says so.
    exp = small(tmp_path, '[dataset]\nname = "static"\nencoder = "pair"\nsteps = 10')
    with pytest.raises(
        ExperimentError, match=r"shape \(4, 2\) once encoded by 'pair' \(8 channels\)"
    ):
        run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    wide = write(
        tmp_path,
        '[experiment]\nname = "wide"\n[dataset]\nname = "static"\nencoder = "pair"\n'
        "steps = 10\n" + SMALL_NETWORK.replace("size = 4", "size = 8"),
    )
    run = run_experiment(wide, out_dir=tmp_path / "o", quiet=True)
    with np.load(run / "recordings.npz") as rec:
        assert rec["pop.spikes"].shape == (10, 3, 3)


@pytest.mark.usefixtures("plugins")
def test_an_encoder_refuses_time_series(tmp_path: Path) -> None:
    exp = small(tmp_path, '[dataset]\nname = "toy"\nencoder = "rate"')
    with pytest.raises(ExperimentError, match=r"encodes static samples .* has 20 time bins"):
        run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    assert list((tmp_path / "o").iterdir()) == []


@pytest.mark.usefixtures("plugins")
def test_a_dataset_with_another_dt_is_refused(tmp_path: Path) -> None:
    exp = write(
        tmp_path,
        small(tmp_path, '[dataset]\nname = "toy"').read_text().replace("dt = 1e-3", "dt = 5e-4"),
    )
    with pytest.raises(
        ExperimentError,
        match=r"time bins of 0\.001 s but the network's dt is "
        r"0\.0005 s; set the network's dt to 0\.001",
    ):
        run_experiment(exp, out_dir=tmp_path / "o", quiet=True)


@pytest.mark.usefixtures("plugins")
def test_training_is_delegated_to_a_trainable_backend(tmp_path: Path) -> None:
    exp = small(
        tmp_path,
        '[dataset]\nname = "toy"\n[training]\nepochs = 2\nlr = 5.0',
        head='backend = "trainer"',
    )
    run = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training"] == {
        "epochs": 2,
        "loss": 0.25,
        "samples": 6,
        "input": "in",  # the network's only input, filled in by the runner
        "seed": 0,  # the experiment's seed
        "sample_shape": [20, 4],
        "dt": 1e-3,
    }
    with np.load(run / "parameters.npz") as params:
        assert np.all(params["in->pop.weights"] == 5.0)
    # The trained network is scored on the evaluation split with the loss's logits.
    with np.load(run / "recordings.npz") as rec:
        expected = np.mean(rec["pop.spikes"].sum(axis=0).argmax(axis=1) == rec["labels"])
    assert metrics["evaluation"] == {
        "readout": "pop",
        "samples": 5,
        "accuracy": pytest.approx(float(expected)),
        "split": "test",
    }
    written = tomllib.loads((run / "experiment.toml").read_text())["training"]
    assert written == TrainingConfig(epochs=2, lr=5.0).to_dict()  # every default filled in


@pytest.mark.usefixtures("plugins")
def test_training_sees_encoded_samples_and_the_experiment_seed(tmp_path: Path) -> None:
    exp = small(
        tmp_path,
        '[dataset]\nname = "static"\nencoder = "rate"\nsteps = 30\n[training]\nepochs = 1',
        head='backend = "trainer"\nseed = 7',
    )
    run = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    training = json.loads((run / "metrics.json").read_text())["training"]
    assert training["sample_shape"] == [30, 4]  # [steps, *shape]: the encoder ran first
    assert training["seed"] == 7
    own_seed = small(
        tmp_path,
        '[dataset]\nname = "static"\nencoder = "rate"\nsteps = 30\n[training]\nseed = 3',
        head='backend = "trainer"\nseed = 7',
    )
    run = run_experiment(own_seed, out_dir=tmp_path / "o2", quiet=True)
    assert json.loads((run / "metrics.json").read_text())["training"]["seed"] == 3


@pytest.mark.usefixtures("plugins")
def test_training_mistakes_are_found_by_check(tmp_path: Path) -> None:
    exp = small(
        tmp_path,
        '[dataset]\nname = "toy"\n[training]\nepochs = 0\nreadout = "popp"\nlos = "ce_count"',
        head='backend = "trainer"',
    )
    problems = check_experiment(exp)
    assert "[training] epochs must be >= 1, got 0" in problems
    assert any("unknown key 'los'; did you mean 'loss'?" in p for p in problems)
    readout = small(
        tmp_path,
        '[dataset]\nname = "toy"\n[training]\nreadout = "popp"',
        head='backend = "trainer"',
    )
    assert check_experiment(readout) == [
        "[training] readout 'popp' is not a population of the network; did you mean 'pop'? "
        "(populations: pop)"
    ]
    numpy_exp = small(tmp_path, '[dataset]\nname = "toy"\n[training]\nepochs = 2')
    assert any("backend 'numpy' cannot train" in p for p in check_experiment(numpy_exp))


@pytest.mark.usefixtures("plugins")
def test_training_on_a_backend_that_cannot_train(tmp_path: Path) -> None:
    exp = small(tmp_path, '[dataset]\nname = "toy"\n[training]\nepochs = 2')
    with pytest.raises(
        ExperimentError,
        match="backend 'numpy' cannot train; backends that "
        "can: trainer; set \\[experiment\\] backend to one of them",
    ):
        run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    # refused while checking, before any folder is made
    assert not (tmp_path / "o").exists()


@pytest.mark.usefixtures("plugins")
def test_deployment_and_analysis(tmp_path: Path) -> None:
    exp = small(
        tmp_path,
        "[stimulus]\nsteps = 40\nrate_hz = 300.0\n"
        '[deployment]\ntarget = "chip"\nexport = true\nemulate = true\n'
        '[[analysis]]\nname = "counter"\nscale = 2',
    )
    run = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    metrics = json.loads((run / "metrics.json").read_text())
    dep = metrics["deployment"]
    assert dep["target"] == "chip"
    assert dep["issues"] == [{"path": "dt", "message": "rounded to 1 ms", "severity": "warning"}]
    assert dep["resources"] == {"cores": 1, "energy_j": 1e-6}
    assert dep["exported"] == ["deployment/chip.txt"]
    assert (run / "deployment" / "chip.txt").read_text() == "exported"
    assert dep["populations"]["pop"]["rate_hz"] == metrics["populations"]["pop"]["rate_hz"]
    assert metrics["analysis"]["counter"]["scale"] == 2
    total = metrics["analysis"]["counter"]["total"]
    assert total == pytest.approx(metrics["populations"]["pop"]["rate_hz"] * 40 * 1e-3 * 3)
    with np.load(run / "analysis-counter.npz") as arrays:
        assert arrays["per_step"].shape == (40,)
    assert (run / "analysis-counter.html").read_text() == "<p>counted</p>"
    assert "analysis-counter.html" in (run / "report.md").read_text()


@pytest.mark.usefixtures("plugins")
def test_a_network_too_big_for_the_target(tmp_path: Path) -> None:
    exp = write(
        tmp_path,
        small(tmp_path, '[deployment]\ntarget = "chip"')
        .read_text()
        .replace("size = 3", "size = 300"),
    )
    with pytest.raises(
        ExperimentError,
        match=r"the network does not fit target 'chip': "
        r"populations\[0\]\.size: 300 neurons > 100 per chip",
    ):
        run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    assert list((tmp_path / "o").iterdir()) == []


def test_the_backend_override(tmp_path: Path) -> None:
    exp = small(tmp_path, "[stimulus]\nsteps = 5")
    with pytest.raises(ExperimentError, match="no backend named 'jacks'"):
        run_experiment(exp, backend="jacks", out_dir=tmp_path / "o", quiet=True)
    run = run_experiment(exp, backend="numpy", out_dir=tmp_path / "o", quiet=True)
    assert json.loads((run / "metrics.json").read_text())["backend"] == "numpy"


# -- check catches what run would reject; the run folder race -------------------------------------


def test_check_catches_seed_rates_and_rate_tables(tmp_path: Path) -> None:
    exp = small(tmp_path, "[stimulus]\nsteps = 3\nrate_hz = 5000.0", head="seed = -5")
    assert check_experiment(exp) == [
        "[experiment] seed must be an integer >= 0, got -5",
        "[stimulus] rate_hz 5000 Hz for input 'in' is above 1000 Hz, the most a Poisson input "
        "can fire at dt = 0.001 s (one spike per step); lower it to at most 1000",
    ]
    exp = small(tmp_path, "[stimulus]\nsteps = 3\nrate_hz = { other = 5.0 }")
    assert check_experiment(exp) == [
        "[stimulus] rate_hz names input 'other', which the network does not have; its inputs: in",
        "[stimulus] rate_hz gives no value for input 'in'; give one per input (in) or a single "
        "number for all",
    ]


def test_a_network_with_null_metadata_is_saved_as_json(tmp_path: Path) -> None:
    (tmp_path / "net.json").write_text(
        json.dumps(
            {
                "dt": 0.001,
                "metadata": {"source": None},
                "inputs": [{"name": "in", "size": 2}],
                "populations": [{"name": "h", "size": 2, "model": "lif"}],
                "projections": [{"pre": "in", "post": "h"}],
            }
        )
    )
    exp = write(tmp_path, '[network]\nfile = "net.json"\n[stimulus]\nsteps = 3')
    assert check_experiment(exp) == []
    run = run_experiment(exp, out_dir=tmp_path / "runs", quiet=True)
    assert {p.name for p in run.iterdir()} == RUN_FILES - {"network.toml"} | {"network.json"}
    assert tomllib.loads((run / "experiment.toml").read_text())["network"] == {
        "file": "network.json"
    }
    assert Network.load(run / "network.json").metadata == {"source": None}


def test_two_runs_racing_for_one_folder_both_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime

    import neuropil._experiment as experiment

    frozen = datetime.datetime(2024, 5, 1, 12, 0, 0)
    monkeypatch.setattr(experiment, "_now", lambda: frozen)
    exp = small(tmp_path, "[stimulus]\nsteps = 3")
    real_publish = experiment.publish_dir  # type: ignore[attr-defined]
    nested: list[Path] = []
    started: list[bool] = []

    def publish(staging: Path, target: Path) -> None:
        # Another run finishes between this one reserving its name and publishing.
        if not started:
            started.append(True)
            nested.append(run_experiment(exp, out_dir=tmp_path / "o", quiet=True))
        real_publish(staging, target)

    monkeypatch.setattr(experiment, "publish_dir", publish)
    first = run_experiment(exp, out_dir=tmp_path / "o", quiet=True)
    assert first.name == "small-20240501-120000"
    assert nested[0].name == "small-20240501-120000-2"
    for run in (first, nested[0]):
        assert {p.name for p in run.iterdir()} == RUN_FILES
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [first.name, nested[0].name]


def test_non_spiking_populations_report_their_output_not_a_rate(tmp_path: Path) -> None:
    exp = write(
        tmp_path,
        """
[network]
dt = 0.001
inputs = [{name = "in", size = 4}]
populations = [{name = "o", size = 2, model = "li"}]
projections = [{pre = "in", post = "o", weights = {init = "constant", params = {value = 0.5}}}]
[stimulus]
kind = "constant"
steps = 20
""",
    )
    run = run_experiment(exp, out_dir=tmp_path / "runs", quiet=True)
    stats = json.loads((run / "metrics.json").read_text())["populations"]["o"]
    assert set(stats) == {"model", "output", "neurons", "mean", "std"}
    assert stats["output"] == "v"
    assert stats["neurons"] == 2
    assert stats["mean"] > 0
    assert "| o | li | 2 | - | - | v " in (run / "report.md").read_text()


def test_unreadable_files_and_out_dirs_are_explained(tmp_path: Path) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ExperimentError, match=r"bin\.toml is not a text file \(not UTF-8"):
        run_experiment(binary, quiet=True)
    with pytest.raises(ExperimentError, match=r"is a directory; give the path of a \.toml file"):
        run_experiment(tmp_path, quiet=True)
    exp = small(tmp_path, "[stimulus]\nsteps = 3")
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(
        ExperimentError, match=r"cannot create run folders in .*afile: it is a file"
    ):
        run_experiment(exp, out_dir=afile, quiet=True)
    assert list(tmp_path.glob("afile*")) == [afile]


def test_run_and_check_agree_on_what_is_an_experiment(tmp_path: Path) -> None:
    exp = write(tmp_path, SMALL_NETWORK + "\n[stimulus]\nsteps = 3\n")  # no [experiment]
    assert check_experiment(exp) == []
    assert run_experiment(exp, out_dir=tmp_path / "runs", quiet=True).is_dir()
    net = tmp_path / "net.toml"
    net.write_text('dt = 0.001\ninputs = [{name = "in", size = 2}]\n')
    with pytest.raises(ExperimentError, match=r"net\.toml holds a network, not an experiment"):
        run_experiment(net, quiet=True)


def test_overrides_set_values_in_the_experiment(tmp_path: Path) -> None:
    raw = {"experiment": {"name": "x"}, "analysis": [{"name": "a"}]}
    out = apply_overrides(
        raw,
        [
            "experiment.seed=3",
            "training.optimizer=sgd",
            "training.lr=2e-3",
            "stimulus.rate_hz={ in = 5.0 }",
            "analysis.0.bins=[1, 2]",
        ],
    )
    assert out["experiment"] == {"name": "x", "seed": 3}
    assert out["training"] == {"optimizer": "sgd", "lr": 2e-3}
    assert out["stimulus"] == {"rate_hz": {"in": 5.0}}
    assert out["analysis"] == [{"name": "a", "bins": [1, 2]}]
    assert raw == {"experiment": {"name": "x"}, "analysis": [{"name": "a"}]}  # not modified
    for bad, message in (
        ("experiment.seed", "expected SECTION.KEY=VALUE"),
        ("experiment..seed=1", "expected SECTION.KEY=VALUE"),
        ("experiment.name.first=1", "experiment.name is a value, not a table"),
        ("analysis.4.name=b", "analysis.4 is not an index of the 1 tables there"),
    ):
        with pytest.raises(ExperimentError, match=re.escape(message)):
            apply_overrides(raw, [bad])


def test_run_with_overrides_records_them(tmp_path: Path) -> None:
    run = run_experiment(
        QUICKSTART,
        out_dir=tmp_path,
        quiet=True,
        overrides=["stimulus.duration=0.05", "experiment.seed=7", "experiment.name=short"],
    )
    assert run.name.startswith("short-")
    written = tomllib.loads((run / "experiment.toml").read_text())
    assert written["experiment"]["seed"] == 7
    assert written["stimulus"]["steps"] == 100  # the duration, resolved: 0.05 s at dt = 5e-4
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 100
    assert check_experiment(QUICKSTART, overrides=["experiment.seed=-1"]) == [
        "[experiment] seed must be an integer >= 0, got -1"
    ]


def test_the_check_hint_repeats_the_flags_of_the_run(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError) as info:
        run_experiment(
            QUICKSTART, out_dir=tmp_path, backend="troch", quiet=True, overrides=["a.b=c d"]
        )
    assert (
        f"(neuropil check {QUICKSTART} --set 'a.b=c d' --set experiment.backend=troch lists them)"
        in str(info.value)
    )
