"""Typical ranges and UnitWarning (a likely unit slip inside the bounds), and did-you-means for
misspelled option values, in the validator, the models, the experiment runner and the CLI."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import neuropil
from neuropil import Network, Param, Plasticity, StepContext
from neuropil._experiment import check_experiment
from neuropil._stimulus import make_stimulus
from neuropil.cli import main
from neuropil.errors import EngineError, ExperimentError, NetworkValidationError, UnitWarning
from neuropil.models import FAST_SIGMOID, LIF
from neuropil.reference._ops import NumpyOps

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "examples" / "quickstart.toml"


def _net(**params: Any) -> Network:
    net = Network(dt=1e-3)
    net.input("in", 2)
    net.population("p", 3, "lif", **params)
    net.connect("in", "p", weights=0.5)
    return net


def _no_unit_warning(net: Network) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        net.validate()


# -- Param.typical ------------------------------------------------------------------------------


def test_a_typical_range_must_lie_inside_the_bounds() -> None:
    with pytest.raises(ValueError, match=r"typical range \(0.0, 20.0\) must be"):
        Param(1.0, "s", "t", low=0.0, high=10.0, typical=(0.0, 20.0))
    with pytest.raises(ValueError, match="low <= high"):
        Param(1.0, "s", "t", typical=(2.0, 1.0))


def test_typical_text_and_prefix() -> None:
    tau = Param(0.02, "s", "t", low=0.0, high=10.0, low_inclusive=False, typical=(0.0, 1.0))
    assert tau.typical_text() == "up to 1 s"
    assert tau.is_typical(1.0)
    assert not tau.is_typical(1.5)
    assert tau.typical_prefix(5.0) == ("milliseconds", "e-3")
    assert tau.typical_prefix(0.5) is None  # inside the range: nothing to fix
    rate = Param(5.0, "1", "r", typical=(1.0, 10.0))
    assert rate.typical_text() == "1 to 10"
    assert rate.typical_prefix(50.0) is None  # a dimensionless value has no SI prefix
    assert Param(1.0, "V", "v").typical_text() == ""


def test_every_default_lies_in_its_typical_range() -> None:
    registry = neuropil.get_registry()
    for kind in ("neuron", "synapse", "rule", "surrogate"):
        for name in registry.names(kind):
            for key, param in getattr(registry, kind)(name).params.items():
                assert param.is_typical(param.default), f"{kind} {name!r}: {key}"


# -- the validator warns ------------------------------------------------------------------------


def test_a_long_tau_mem_warns_with_the_place_and_the_fix() -> None:
    net = _net(tau_mem=5)
    with pytest.warns(UnitWarning) as record:
        net.validate()
    assert [str(w.message) for w in record] == [
        "populations[0].params.tau_mem: 5 s is unusually long for tau_mem (typical: up to 1 s); "
        "if you meant milliseconds, write 5e-3"
    ]
    warning = record[0].message
    assert isinstance(warning, UnitWarning)
    assert isinstance(warning, UserWarning)
    assert warning.place == "populations[0].params.tau_mem"
    assert warning.value == 5.0
    # Attributed to the line that called validate(), not to neuropil's own code.
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"tau_mem": 10},
            "populations[0].params.tau_mem: 10 s is unusually long for tau_mem (typical: up to "
            "1 s); if you meant milliseconds, write 10e-3",
        ),
        (
            {"tau_mem": 2},
            "populations[0].params.tau_mem: 2 s is unusually long for tau_mem (typical: up to "
            "1 s); if you meant milliseconds, write 2e-3",
        ),
        (
            {"tau_ref": 2},
            "populations[0].params.tau_ref: 2 s is unusually long for tau_ref (typical: up to "
            "0.1 s); if you meant milliseconds, write 2e-3",
        ),
        (
            {"tau_ref": 0.5},
            "populations[0].params.tau_ref: 0.5 s is unusually long for tau_ref (typical: up to "
            "0.1 s); if you meant milliseconds, write 0.5e-3",
        ),
    ],
)
def test_lif_time_constants_warn(params: dict[str, float], message: str) -> None:
    with pytest.warns(UnitWarning) as record:
        _net(**params).validate()
    assert [str(w.message) for w in record] == [message]


def test_tau_syn_warns_on_a_neuron_and_on_a_synapse() -> None:
    net = Network(dt=1e-3)
    net.input("in", 2)
    net.population("p", 3, "cuba_lif", tau_syn=5)
    net.connect("in", "p", synapse="exponential", weights=0.5, tau_syn=5)
    with pytest.warns(UnitWarning) as record:
        net.validate()
    assert sorted(str(w.message) for w in record) == [
        "populations[0].params.tau_syn: 5 s is unusually long for tau_syn (typical: up to 1 s); "
        "if you meant milliseconds, write 5e-3",
        "projections[0].synapse_params.tau_syn: 5 s is unusually long for tau_syn (typical: up "
        "to 1 s); if you meant milliseconds, write 5e-3",
    ]


def test_rule_time_constants_warn() -> None:
    net = Network(dt=1e-3)
    net.input("in", 2)
    net.population("p", 3, "lif")
    net.connect("in", "p", weights=0.5, plasticity=Plasticity("stdp", {"tau_plus": 2}))
    net.connect("in", "p", weights=0.5, plasticity=Plasticity("oja", {"tau": 3}))
    with pytest.warns(UnitWarning) as record:
        net.validate()
    assert [str(w.message) for w in record] == [
        "projections[0].plasticity.params.tau_plus: 2 s is unusually long for tau_plus "
        "(typical: up to 1 s); if you meant milliseconds, write 2e-3",
        "projections[1].plasticity.params.tau: 3 s is unusually long for tau (typical: up to "
        "1 s); if you meant milliseconds, write 3e-3",
    ]


def test_alif_adaptation_may_take_seconds() -> None:
    net = Network(dt=1e-3)
    net.population("p", 3, "alif", tau_adapt=2.0)  # LSNN / e-prop working memory: fine
    _no_unit_warning(net)
    net = Network(dt=1e-3)
    net.population("p", 3, "alif", tau_adapt=8.0)
    with pytest.warns(UnitWarning, match=r"tau_adapt: 8 s is unusually long for tau_adapt "):
        net.validate()


def test_a_per_neuron_array_warns_once_with_a_count() -> None:
    net = _net(tau_mem=np.array([20e-3, 5.0, 8.0]))
    with pytest.warns(UnitWarning) as record:
        net.validate()
    assert [str(w.message) for w in record] == [
        "populations[0].params.tau_mem: 2 of 3 values are unusual, e.g. index 1: 5 s is "
        "unusually long for tau_mem (typical: up to 1 s); if you meant milliseconds, multiply "
        "the array by 1e-3"
    ]


def test_values_in_the_typical_range_and_out_of_bounds_do_not_warn() -> None:
    _no_unit_warning(_net(tau_mem=1.0, tau_ref=0.1))
    _no_unit_warning(_net(tau_mem=np.array([1e-3, 20e-3, 0.5])))
    # Out of bounds is an error with its own hint, not also a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        with pytest.raises(NetworkValidationError, match="did you mean 20e-3"):
            _net(tau_mem=20).validate()


def test_warnings_come_before_the_errors_of_the_same_network() -> None:
    net = _net(tau_mem=5, v_th=-50)
    with (
        pytest.warns(UnitWarning, match="tau_mem: 5 s"),
        pytest.raises(NetworkValidationError, match="v_th expects volts"),
    ):
        net.validate()


def test_compile_warns_too() -> None:
    with pytest.warns(UnitWarning, match="tau_mem: 5 s"):
        neuropil.resolve(_net(tau_mem=5))


def test_the_quickstart_and_the_default_models_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        assert check_experiment(QUICKSTART) == []
    registry = neuropil.get_registry()
    net = Network(dt=1e-4)
    for name in registry.names("neuron"):
        net.population(name, 2, name)
    _no_unit_warning(net)


# -- did-you-mean for option values ---------------------------------------------------------------


def test_a_misspelled_neuron_option_gets_a_did_you_mean() -> None:
    with pytest.raises(NetworkValidationError) as info:
        _net(reset="substract").validate()
    assert info.value.problems == [
        (
            "populations[0].options.reset",
            "option reset of neuron model 'lif' must be one of ['value', 'subtract', 'none'], "
            "got 'substract'; did you mean 'subtract'?",
        )
    ]


def test_a_misspelled_rule_option_gets_a_did_you_mean() -> None:
    net = Network(dt=1e-3)
    net.input("in", 2)
    net.population("p", 3, "lif")
    net.connect(
        "in",
        "p",
        weights=0.5,
        plasticity=Plasticity("stdp", options={"weight_dependence": "multiplictive"}),
    )
    with pytest.raises(NetworkValidationError) as info:
        net.validate()
    assert info.value.problems == [
        (
            "projections[0].plasticity.options.weight_dependence",
            "option weight_dependence of learning rule 'stdp' must be one of ['additive', "
            "'multiplicative'], got 'multiplictive'; did you mean 'multiplicative'?",
        )
    ]


def test_an_unrelated_option_value_gets_no_did_you_mean() -> None:
    with pytest.raises(NetworkValidationError) as info:
        _net(reset="xyz").validate()
    assert str(info.value).endswith("got 'xyz'")


def test_the_step_of_a_model_suggests_the_option_too() -> None:
    ops = NumpyOps(np.float64)
    params = {k: p.default for k, p in LIF.params.items()}
    state = {k: np.zeros((1, 1)) for k in LIF.state}
    ctx = StepContext(dt=1e-3, surrogate=FAST_SIGMOID.bind())
    with pytest.raises(EngineError) as info:
        LIF.step(ops, params, {"reset": "substract"}, state, np.zeros((1, 1)), ctx)
    assert str(info.value) == (
        "lif: option reset='substract' is not one of 'value', 'subtract', 'none'; "
        "did you mean 'subtract'?"
    )


# -- the experiment runner ------------------------------------------------------------------------


def test_misspelled_stimulus_kind_and_dtype_get_a_did_you_mean() -> None:
    problems = check_experiment(
        QUICKSTART, overrides=["stimulus.kind=possion", "experiment.dtype=float46"]
    )
    assert problems == [
        "[experiment] dtype must be one of float32, float64, got 'float46'; did you mean "
        "'float64'?",
        "[stimulus] kind must be one of poisson, constant, got 'possion'; did you mean 'poisson'?",
    ]
    net = Network(dt=1e-3)
    net.input("in", 2)
    with pytest.raises(ExperimentError, match=r"'possion' is not one of poisson, constant; did "):
        make_stimulus(net, kind="possion", steps=2, batch=1, seed=0)


def test_a_long_stimulus_duration_warns_but_is_no_problem() -> None:
    with pytest.warns(UnitWarning) as record:
        assert check_experiment(QUICKSTART, overrides=["stimulus.duration=1000"]) == []
    assert [str(w.message) for w in record] == [
        "[stimulus] duration is in seconds; 1000 s is 2,000,000 steps; if you meant ms write 1.0"
    ]
    assert isinstance(record[0].message, UnitWarning)
    assert record[0].message.place == "[stimulus] duration"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        assert check_experiment(QUICKSTART, overrides=["stimulus.duration=100"]) == []


# -- the CLI --------------------------------------------------------------------------------------


NETWORK_TOML = """
dt = 1e-3
inputs = [{ name = "in", size = 2 }]

[[populations]]
name = "p"
size = 3
model = "lif"
params = { tau_mem = 5.0 }

[[projections]]
pre = "in"
post = "p"
weights = { init = "constant", params = { value = 0.5 } }
"""


@pytest.mark.filterwarnings("always::neuropil.errors.UnitWarning")
def test_the_cli_prints_a_warning_line_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "net.toml"
    path.write_text(NETWORK_TOML, encoding="utf-8")
    before = warnings.showwarning
    assert main(["check", str(path)]) == 0
    assert warnings.showwarning is before  # the CLI's printer is gone when main returns
    captured = capsys.readouterr()
    assert captured.out.startswith(f"ok: {path} is a valid network")
    assert captured.err.splitlines() == [
        "warning: populations[0].params.tau_mem: 5 s is unusually long for tau_mem (typical: up "
        "to 1 s); if you meant milliseconds, write 5e-3"
    ]


@pytest.mark.filterwarnings("always::neuropil.errors.UnitWarning")
def test_a_run_warns_once_per_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "net.toml").write_text(NETWORK_TOML, encoding="utf-8")
    exp = tmp_path / "exp.toml"
    exp.write_text(
        '[experiment]\nname = "slip"\n[network]\nfile = "net.toml"\n'
        '[stimulus]\nkind = "constant"\nsteps = 5\n',
        encoding="utf-8",
    )
    # The network is validated by the check before the run and again by the backend's compile.
    assert main(["run", str(exp), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning:")]
    assert lines == [
        "warning: populations[0].params.tau_mem: 5 s is unusually long for tau_mem (typical: up "
        "to 1 s); if you meant milliseconds, write 5e-3"
    ]
