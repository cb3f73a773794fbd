"""The ``neuropil`` command line: plugins, check, run, new-plugin, --version."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import neuropil
from neuropil import Component, Registry, hookimpl
from neuropil import _experiment as real_experiment
from neuropil.cli import main
from neuropil.errors import ExperimentError, NetworkValidationError


def make_plugin(name: str, api: object = (1, 0), **hooks: list[Component]) -> types.ModuleType:
    """A plugin module whose hooks (by kind: ``neuron=[...]``) return the components given."""
    module = types.ModuleType(name)
    module.NEUROPIL_PLUGIN_API = api  # type: ignore[attr-defined]
    for kind, components in hooks.items():
        hook = neuropil.KINDS[kind]

        def impl(found: list[Component] = components) -> list[Component]:
            return found

        impl.__name__ = hook
        setattr(module, hook, hookimpl(impl))
    return module


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A process-wide registry with an ok plugin, a conflict, an incompatible and a broken one."""
    monkeypatch.setenv("COLUMNS", "250")
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin(
            "good",
            neuron=[Component("qif", "m:QIF", "quadratic IF")],
            backend=[Component("fast", "m:Fast", "a fast engine")],
        ),
        "good",
        distribution="fake-good",
        version="1.0",
    )
    reg.register_plugin(
        make_plugin("a", synapse=[Component("twin", "a:T")]),
        "a",
        distribution="fake-a",
        version="0.1",
    )
    reg.register_plugin(
        make_plugin("b", synapse=[Component("twin", "b:T")]),
        "b",
        distribution="fake-b",
        version="0.2",
    )
    reg.register_plugin(
        make_plugin("old", api=(2, 0), neuron=[Component("oldie", "o:O")]),
        "old",
        distribution="fake-old",
        version="9.0",
    )
    broken = make_plugin("broken")

    @hookimpl
    def neuropil_backends() -> list[Component]:
        raise RuntimeError("boom")

    broken.neuropil_backends = neuropil_backends  # type: ignore[attr-defined]
    reg.register_plugin(broken, "broken", distribution="fake-broken", version="0.0.1")
    with neuropil.use_registry(reg):
        yield reg


# -- plugins ------------------------------------------------------------------------------------


def test_plugins_table_shows_components_statuses_and_problems(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    (qif,) = [line for line in lines if " qif " in line]
    assert [cell.strip() for cell in qif.split("│")[1:-1]] == [
        "neuron",
        "qif",
        "fake-good 1.0",
        "ok",
        "quadratic IF",
    ]
    twins = [line for line in lines if " twin " in line]
    assert len(twins) == 2
    assert [cell.strip() for cell in twins[0].split("│")[1:-1]] == [
        "synapse",
        "twin",
        "fake-a 0.1",
        "refused",
        "name clash with fake-b 0.2",
    ]
    (oldie,) = [line for line in lines if " oldie " in line]
    assert [cell.strip() for cell in oldie.split("│")[1:-1]] == [
        "neuron",
        "oldie",
        "fake-old 9.0",
        "refused",
        "built for plugin API 2.0, this core has 1.0",
    ]
    (broken,) = [
        line for line in lines if "broken" in line and "fake-broken" in line and "│" in line
    ]
    assert "broken" in broken
    assert "the plugin failed to load (see below)" in broken
    # The problems, each once, with their full message.
    assert "3 plugin problem(s):" in out
    assert (
        "broken: plugin 'broken' (fake-broken 0.0.1) is broken: its hook neuropil_backends "
        "raised RuntimeError: boom" in out
    )
    assert (
        out.count(
            "synapse 'twin' is provided by more than one plugin (fake-a 0.1 and fake-b "
            "0.2); both are refused."
        )
        == 1
    )
    assert "needs neuropil plugin API 2.0, but this core provides plugin API 1.0" in out


def test_plugins_json_is_machine_readable(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["neuropil"] == neuropil.__version__
    assert data["plugin_api"] == [1, 0]
    by_name = {(c["kind"], c["name"], c["plugin"]): c for c in data["components"]}
    assert by_name[("neuron", "qif", "good")] == {
        "kind": "neuron",
        "name": "qif",
        "target": "m:QIF",
        "summary": "quadratic IF",
        "plugin": "good",
        "distribution": "fake-good",
        "version": "1.0",
        "status": "ok",
        "error": None,
    }
    assert by_name[("synapse", "twin", "a")]["status"] == "refused"
    assert "more than one plugin" in by_name[("synapse", "twin", "b")]["error"]
    assert by_name[("-", "broken", "broken")]["status"] == "broken"
    kinds = sorted(p["error"] for p in data["problems"])
    assert kinds == ["IncompatiblePluginError", "PluginConflictError", "PluginLoadError"]


def test_plugins_kind_filter(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--kind", "backend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["kind"], c["name"]) for c in data["components"]] == [("backend", "fast")]


def test_plugins_unknown_kind_is_a_usage_error(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugins", "--kind", "backends"]) == 2
    assert "invalid choice: 'backends'" in capsys.readouterr().err


def test_plugins_with_nothing_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with neuropil.use_registry(Registry(discover=False)):
        assert main(["plugins", "--kind", "dataset"]) == 0
    assert "no components installed of kind 'dataset'" in capsys.readouterr().out


# -- check --------------------------------------------------------------------------------------


@pytest.fixture
def fake_experiment(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A stand-in for ``neuropil._experiment`` recording its calls; ``state`` steers it."""
    state: dict[str, Any] = {"problems": [], "calls": [], "raise": None}
    module = types.ModuleType("neuropil._experiment")

    def check_experiment(path: Path, *, overrides: Sequence[str] = ()) -> list[str]:
        state["calls"].append(("check", Path(path), *overrides))
        return list(state["problems"])

    def run_experiment(
        path: Path,
        *,
        out_dir: Path | None,
        backend: str | None,
        quiet: bool,
        overrides: Sequence[str] = (),
    ) -> Path:
        state["calls"].append(("run", Path(path), out_dir, backend, quiet, *overrides))
        if state["raise"] is not None:
            raise state["raise"]
        return Path("/runs/exp-001")

    module.check_experiment = check_experiment  # type: ignore[attr-defined]
    module.run_experiment = run_experiment  # type: ignore[attr-defined]
    # How a TOML file is read and classified stays real: check and run must agree on it.
    for name in ("SECTIONS", "is_experiment", "read_toml"):
        setattr(module, name, getattr(real_experiment, name))
    monkeypatch.setitem(sys.modules, "neuropil._experiment", module)
    return state


def test_check_an_experiment(
    tmp_path: Path, fake_experiment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text('[experiment]\nname = "x"\n')
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"ok: {path} is a valid experiment"
    assert fake_experiment["calls"] == [("check", path)]

    fake_experiment["problems"] = [
        "[network] population 'h': unknown neuron model 'lfi'",
        "[training] epochs must be >= 1",
    ]
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {path}: 2 problem(s) in the experiment:",
        "  [network] population 'h': unknown neuron model 'lfi'",
        "  [training] epochs must be >= 1",
    ]


def test_check_a_network_validates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    net = neuropil.Network(dt=1e-3, name="tiny")
    net.input("in", 3)
    seen: list[Path] = []

    def load(path: Path) -> neuropil.Network:
        seen.append(Path(path))
        return net

    monkeypatch.setattr(neuropil.Network, "load", staticmethod(load))
    monkeypatch.setattr(neuropil.Network, "validate", lambda self, registry=None: None)
    path = tmp_path / "net.json"
    path.write_text("{}")
    assert main(["check", str(path)]) == 0
    assert seen == [path]
    assert capsys.readouterr().out.strip() == (
        f"ok: {path} is a valid network 'tiny' (1 inputs, 0 populations, 0 projections)"
    )

    def invalid(self: neuropil.Network, registry: Registry | None = None) -> None:
        raise NetworkValidationError([("populations[0].model", "unknown neuron model 'lfi'")])

    monkeypatch.setattr(neuropil.Network, "validate", invalid)
    toml = tmp_path / "net.toml"
    toml.write_text('dt = 0.001\nname = "tiny"\n')
    assert main(["check", str(toml)]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: populations[0].model: unknown neuron model 'lfi'"
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "error: no such file: {path}"),
        ("net.yaml", "a: 1", "error: cannot check {path}: expected a network (.json or .toml"),
        ("bad.toml", "[experiment\n", "error: {path} is not valid TOML: "),
    ],
)
def test_check_bad_files_fail_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message.format(path=path))
    assert len(err.strip().splitlines()) == 1


# -- run ----------------------------------------------------------------------------------------


def test_run_passes_options_and_prints_the_run_folder(
    tmp_path: Path, fake_experiment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    exp = tmp_path / "exp.toml"
    assert main(["run", str(exp), "--out", str(tmp_path / "runs"), "--backend", "numpy"]) == 0
    assert fake_experiment["calls"] == [("run", exp, tmp_path / "runs", "numpy", False)]
    assert capsys.readouterr().out.strip() == "run folder: /runs/exp-001"

    assert main(["run", str(exp), "--quiet"]) == 0
    assert fake_experiment["calls"][-1] == ("run", exp, None, None, True)
    assert capsys.readouterr().out == "/runs/exp-001\n"


def test_run_reports_a_neuropil_error_cleanly(
    tmp_path: Path, fake_experiment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_experiment["raise"] = ExperimentError("[training] unknown optimiser 'adma'", "training")
    assert main(["run", str(tmp_path / "exp.toml")]) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: [training] unknown optimiser 'adma'\n"


def test_run_lets_unexpected_errors_propagate(
    tmp_path: Path, fake_experiment: dict[str, Any]
) -> None:
    fake_experiment["raise"] = RuntimeError("a bug")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["run", str(tmp_path / "exp.toml")])


# -- new-plugin, usage --------------------------------------------------------------------------


def test_new_plugin_creates_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-plugin", "my-neurons", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"created {tmp_path / 'neuropil-my-neurons'}" in out
    assert "example neuron model 'my_neurons_qif'" in out
    assert (
        tmp_path / "neuropil-my-neurons" / "src" / "neuropil_my_neurons" / "plugin.py"
    ).is_file()

    assert main(["new-plugin", "my-neurons", "--dir", str(tmp_path)]) == 1
    assert "already exists; nothing was written" in capsys.readouterr().err


def test_new_plugin_refuses_a_bad_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-plugin", "My_Neurons", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: plugin name 'My_Neurons' is not valid")
    assert list(tmp_path.iterdir()) == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"neuropil {neuropil.__version__} (plugin API 1.0)"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: neuropil" in capsys.readouterr().err


def test_plugins_details_loads_definitions_and_shows_their_schema(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = types.ModuleType("fake_definitions_for_cli_test")
    holder.QIF = neuropil.NeuronModel(  # type: ignore[attr-defined]
        name="qif",
        params={"tau_mem": neuropil.Param(1e-2, "s", "membrane time constant", low=0.0)},
        state={"v": neuropil.StateVar("V", "membrane potential", init="tau_mem")},
        step=lambda ops, params, options, state, current, ctx: (dict(state), current),
        doc="Discrete update: v' = v",
        options={"mode": neuropil.Option("a", ("a", "b"), "a mode")},
    )
    monkeypatch.setitem(sys.modules, holder.__name__, holder)
    monkeypatch.setenv("COLUMNS", "250")
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin(
            "p",
            neuron=[
                Component("qif", f"{holder.__name__}:QIF", "quadratic"),
                Component("ghost", "fake_module_nowhere:X", "never loads"),
            ],
            backend=[Component("fast", "fake_module_nowhere:Engine")],
        ),
        "p",
    )
    with neuropil.use_registry(reg):
        assert main(["plugins", "--details"]) == 0
        out = capsys.readouterr().out
        assert main(["plugins", "--details", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    assert "neuron qif: quadratic" in out
    assert "  param  tau_mem = 0.01 s  in [0, inf) s  membrane time constant" in out
    assert "  option mode = 'a'  ('a' | 'b')  a mode" in out
    assert "  state  v [V] starts at 'tau_mem'  membrane potential" in out
    assert "  could not load: could not import neuron 'ghost' from 'fake_module_nowhere:X'" in out
    schemas = {c["name"]: c.get("schema") for c in data["components"]}
    assert schemas["qif"]["params"]["tau_mem"]["unit"] == "s"
    assert schemas["ghost"]["error"].startswith("could not import neuron 'ghost'")
    assert schemas["fast"] is None  # engines have no schema; nothing of theirs is imported
    assert "fake_module_nowhere" not in sys.modules


def test_check_a_saved_network_against_the_builtin_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = neuropil.Network(dt=1e-3, name="demo")
    inp = net.input("in", 4)
    hidden = net.population("hidden", 3, "lif", tau_mem=20e-3)
    net.connect(inp, hidden, weights=0.5)
    net.save(tmp_path / "ok.toml")
    assert main(["check", str(tmp_path / "ok.toml")]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {tmp_path / 'ok.toml'} is a valid network")

    bad = neuropil.Network(dt=1e-3, name="bad")
    bad.population("hidden", 3, "lfi")
    bad.save(tmp_path / "bad.json")
    assert main(["check", str(tmp_path / "bad.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: populations[0].model: unknown neuron model 'lfi'")
    assert "Traceback" not in err


def test_check_treats_any_experiment_section_as_an_experiment(
    tmp_path: Path, fake_experiment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "noexp.toml"
    path.write_text('[network]\nfile = "net.toml"\n[stimulus]\nsteps = 20\n')
    assert main(["check", str(path)]) == 0
    assert fake_experiment["calls"] == [("check", path)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "error: {path} is a directory; give the path of a .json or .toml"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00"), "error: {path} is not a text file (not UTF-8"),
    ],
)
def test_check_directories_and_binary_files_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    for name in ("x.toml", "x.json"):
        path = tmp_path / name
        make(path)
        assert main(["check", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(message.format(path=path))
        assert "Traceback" not in err


def test_set_overrides_reach_check_and_run(
    tmp_path: Path, fake_experiment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text('[experiment]\nname = "x"\n')
    assert main(["check", str(path), "--set", "training.epochs=2"]) == 0
    assert main(["run", str(path), "--set", "a.b=1", "--set", "c.d=e", "--quiet"]) == 0
    assert fake_experiment["calls"] == [
        ("check", path, "training.epochs=2"),
        ("run", path, None, None, True, "a.b=1", "c.d=e"),
    ]
    capsys.readouterr()


def test_set_on_a_network_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = neuropil.Network(dt=1e-3)
    net.input("in", 2)
    path = tmp_path / "net.toml"
    net.save(path)
    assert main(["check", str(path), "--set", "x.y=1"]) == 1
    assert "--set applies to experiment files" in capsys.readouterr().err


def test_python_dash_m_neuropil_is_the_command() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "neuropil", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith(f"neuropil {neuropil.__version__}")
