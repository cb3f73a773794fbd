"""Network validation: every problem found, each with its exact place and a fix."""

from __future__ import annotations

import types
from collections.abc import Callable

import numpy as np
import pytest

import neuropil
from neuropil import (
    Component,
    Connectivity,
    Network,
    NeuronModel,
    Option,
    Param,
    Plasticity,
    Registry,
    StateVar,
    WeightInit,
)
from neuropil.errors import NetworkValidationError


def _problems(net: Network, registry: Registry | None = None) -> dict[str, str]:
    with pytest.raises(NetworkValidationError) as info:
        net.validate(registry)
    return dict(info.value.problems)


def _one(net: Network, registry: Registry | None = None) -> tuple[str, str]:
    with pytest.raises(NetworkValidationError) as info:
        net.validate(registry)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def _base() -> Network:
    net = Network(dt=1e-3)
    net.input("in", 6)
    net.population("h", 4, "lif", tau_mem=np.full(4, 20e-3), reset="subtract")
    net.population("out", 2, "li")
    net.connect("in", "h", "exponential", tau_syn=5e-3)
    net.connect("h", "out", weights=np.zeros((2, 4)), delay=0)
    return net


def test_a_valid_network_passes() -> None:
    net = _base()
    net.connect("h", "h", connectivity=Connectivity.random(0.5, seed=1), plasticity="stdp")
    net.connect(
        "in",
        "h",
        connectivity=Connectivity.sparse([0, 5], [1, 3]),
        weights=[0.1, 0.2],
        delay=[1, 2],
        mask=[True, False],
        sign="excitatory",
    )
    net.probe("h", "v", index=[0, 3])
    net.probe("out", "spikes")
    net.probe("in->h", "syn.i")
    net.probe("h->out", "weights", index=[7])
    net.probe("in")
    net.validate()


# -- dt, names, sizes --------------------------------------------------------------------------


def test_dt_of_one_second_gets_the_unit_hint() -> None:
    net = _base()
    net.dt = 1
    assert _one(net) == ("dt", "dt is 1 s; dt is in seconds; did you mean 1e-3?")


@pytest.mark.parametrize("dt", [0.0, -1e-3, float("nan"), "1ms"])
def test_dt_must_be_positive_seconds(dt: object) -> None:
    net = _base()
    net.dt = dt  # type: ignore[assignment]
    path, message = _one(net)
    assert path == "dt"
    assert message.startswith("dt must be a positive number of seconds")


def test_names_unique_and_well_formed_and_sizes() -> None:
    net = _base()
    net.population("in", 3, "lif")
    net.population("bad name", 3, "lif")
    net.population("zero", 0, "lif")
    net.input("img", 12, shape=(3, 2, 3))
    problems = _problems(net)
    assert problems["populations[2].name"] == (
        "the name 'in' is already used by an input; names of inputs and populations must be unique"
    )
    assert problems["populations[3].name"].startswith("name 'bad name' is not allowed")
    assert problems["populations[4].size"] == "size must be an integer >= 1, got 0"
    assert problems["inputs[1].shape"] == (
        "shape (3, 2, 3) has 18 elements but size is 12; make them agree"
    )


def test_every_problem_is_reported_at_once() -> None:
    net = _base()
    net.dt = 2.0
    net.populations[0].params["tau_men"] = 1e-3
    net.connect("h", "nowhere")
    with pytest.raises(NetworkValidationError) as info:
        net.validate()
    paths = [p for p, _ in info.value.problems]
    assert paths == ["dt", "populations[0].params.tau_men", "projections[2].post"]
    assert str(info.value).startswith("3 problems in the network:\n  dt: ")


# -- models and parameters ---------------------------------------------------------------------


def test_unknown_models_with_did_you_mean() -> None:
    net = _base()
    net.population("x", 2, "lfi")
    net.connect("in", "out", "expo")
    net.populations[1].surrogate = "arctn"
    problems = _problems(net)
    assert problems["projections[2].synapse"] == (
        "unknown synapse model 'expo'; did you mean 'exponential'?"
    )
    assert problems["populations[2].model"] == (
        "unknown neuron model 'lfi'; did you mean 'li' or 'lif'?"
    )
    assert problems["populations[1].surrogate"] == (
        "unknown surrogate 'arctn'; did you mean 'arctan'?"
    )


def test_unknown_model_without_a_close_name_lists_the_installed_ones() -> None:
    net = Network()
    net.population("p", 2, "hodgkin")
    path, message = _one(net)
    assert path == "populations[0].model"
    assert message == (
        "unknown neuron model 'hodgkin'; installed: alif, cuba_lif, if, izhikevich, li, lif"
    )


def test_out_of_bounds_param_gets_the_unit_hint() -> None:
    net = Network()
    net.population("p", 2, "lif", tau_mem=20)
    assert _one(net) == (
        "populations[0].params.tau_mem",
        "tau_mem expects seconds in (0, 10] s, got 20; did you mean 20e-3?",
    )


def test_unknown_param_names_the_close_one() -> None:
    net = Network()
    net.population("p", 2, "lif", tau_men=20e-3)
    path, message = _one(net)
    assert path == "populations[0].params.tau_men"
    assert message.startswith(
        "neuron model 'lif' has no parameter 'tau_men'; did you mean 'tau_mem'? (it has: "
    )


def test_per_neuron_arrays_shape_finiteness_and_bounds() -> None:
    net = Network()
    net.population(
        "p", 3, "lif", tau_mem=[0.01, 0.02], v_th=[1.0, np.nan, 1.0], tau_ref=[0.0, 0.001, 5000.0]
    )
    problems = _problems(net)
    assert problems["populations[0].params.tau_mem"] == (
        "tau_mem has shape (2,); a per-neuron value needs shape (3,), one per neuron"
    )
    assert problems["populations[0].params.v_th"] == (
        "v_th has 1 non-finite values (first at index 1); every value must be a finite number"
    )
    assert problems["populations[0].params.tau_ref"] == (
        "tau_ref expects seconds in [0, 10] s; 1 of 3 values are outside, e.g. 5000 at index 2; "
        "did you mean 5000e-3?"
    )


def test_options_choices_and_options_given_as_params() -> None:
    net = Network()
    net.population("p", 2, "lif", reset="sub", tau_mem="fast")
    problems = _problems(net)
    assert problems["populations[0].options.reset"] == (
        "option reset of neuron model 'lif' must be one of ['value', 'subtract', 'none'], "
        "got 'sub'; did you mean 'subtract'?"
    )
    assert problems["populations[0].options.tau_mem"] == (
        "tau_mem is a parameter of neuron model 'lif' (seconds); give it a number, got 'fast'"
    )


def test_initial_state_trainable_and_surrogate_params() -> None:
    net = Network()
    net.population(
        "p",
        2,
        "lif",
        initial_state={"u": 0.0, "v": np.array([0.1, 0.2, 0.3])},
        trainable=["v_thr"],
        surrogate_params={"slop": 1.0},
    )
    problems = _problems(net)
    assert problems["populations[0].initial_state.u"].startswith(
        "neuron model 'lif' has no state variable 'u'"
    )
    assert problems["populations[0].initial_state.v"].startswith("initial v has shape (3,)")
    assert problems["populations[0].trainable.v_thr"] == (
        "only parameters can be trained; neuron model 'lif' has no parameter 'v_thr'; did you "
        "mean 'v_th'?"
    )
    assert problems["populations[0].surrogate_params.slop"].startswith(
        "surrogate 'fast_sigmoid' has no parameter 'slop'; did you mean 'slope'?"
    )


# -- a registry of our own ---------------------------------------------------------------------


def _step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
    return dict(state), current


TOY = NeuronModel(
    name="toy",
    params={
        "gain": Param(1.0, "1", "input gain", low=0.0, per_neuron=False),
        "tau": Param(10e-3, "s", "time constant", low=0.0, high=1.0, low_inclusive=False),
    },
    state={"x": StateVar("1", "the state", "gain")},
    step=_step,
    doc="toy",
    options={"steps": Option(2, (1, 2, 3), "sub-steps"), "mode": Option("a", ("a", "b"), "m")},
    output="x",
)


def _toy_registry() -> Registry:
    plugin = types.SimpleNamespace(NEUROPIL_PLUGIN_API=(1, 0))

    @neuropil.hookimpl
    def neuropil_neuron_models() -> list[Component]:
        return [Component("toy", f"{__name__}:TOY")]

    @neuropil.hookimpl
    def neuropil_synapse_models() -> list[Component]:
        return [Component("delta", "neuropil.models._synapses:DELTA")]

    @neuropil.hookimpl
    def neuropil_surrogates() -> list[Component]:
        return [Component("fast_sigmoid", "neuropil.models._surrogates:FAST_SIGMOID")]

    plugin.neuropil_neuron_models = neuropil_neuron_models
    plugin.neuropil_synapse_models = neuropil_synapse_models
    plugin.neuropil_surrogates = neuropil_surrogates
    registry = Registry(discover=False)
    assert registry.register_plugin(plugin, "toys") == []
    return registry


def test_validation_uses_the_registry_it_is_given() -> None:
    registry = _toy_registry()
    net = Network()
    net.population("t", 3, "toy", steps=3, mode="b", tau=[0.01, 0.02, 0.03])
    net.probe("t", "x")
    net.validate(registry)
    lif = Network()
    lif.population("p", 2, "lif")
    assert _one(lif, registry) == (
        "populations[0].model",
        "unknown neuron model 'lif'; installed: toy",
    )


def test_param_without_per_neuron_values_refuses_arrays() -> None:
    net = Network()
    net.population("t", 3, "toy", gain=[1.0, 2.0, 3.0], steps=5)
    problems = _problems(net, _toy_registry())
    assert problems["populations[0].params.gain"] == (
        "gain takes one value (neuron model 'toy' does not accept per-neuron arrays for it), got "
        "an array of shape (3,)"
    )
    assert problems["populations[0].params.steps"] == (
        "steps is an option of neuron model 'toy', one of [1, 2, 3], got 5.0"
    )


# -- projections -------------------------------------------------------------------------------


def test_pre_and_post_must_exist_and_post_is_a_population() -> None:
    net = _base()
    net.connect("hh", "in")
    problems = _problems(net)
    assert problems["projections[2].pre"] == (
        "no input or population named 'hh'; did you mean 'h'? (the network has: h, in, out)"
    )
    assert problems["projections[2].post"] == (
        "'in' is an input; inputs send but cannot receive: connect to a population"
    )


def test_projection_names_unique_and_distinct_from_nodes() -> None:
    net = _base()
    net.connect("in", "h", name="in->h")
    net.connect("in", "h", name="h")
    problems = _problems(net)
    assert problems["projections[2].name"] == (
        "projections[0] is already called 'in->h'; give this one another name (name=...)"
    )
    assert problems["projections[3].name"].startswith("'h' is also the name of an input")


def test_weights_layout_shape_is_named() -> None:
    net = _base()
    net.connect("in", "h", weights=np.zeros((6, 4)))
    assert _one(net) == (
        "projections[2].weights",
        "weights have shape (6, 4); dense connectivity from 'in' to 'h' needs [N_post, N_pre] = "
        "(4, 6)",
    )


def test_weights_must_be_finite() -> None:
    net = _base()
    w = np.zeros((4, 6))
    w[0, 0] = np.inf
    net.connect("in", "h", weights=w)
    assert _one(net)[1] == "1 weights are NaN or infinite; every weight must be a finite number"


def test_sparse_and_list_indices() -> None:
    net = _base()
    net.connect("in", "h", connectivity=Connectivity.sparse([0, 6], [0, 1]), weights=[1.0, 1.0])
    net.connect("in", "h", connectivity=Connectivity("sparse", np.array([0, 1]), np.array([0])))
    net.connect("in", "h", connectivity=Connectivity.from_list([(0, 4)]), name="listed")
    net.connect("in", "h", connectivity="sparse", name="empty")
    problems = _problems(net)
    assert problems["projections[2].connectivity.pre"] == (
        "pre index 6 is out of range: the pre side has 6 neurons (indices 0..5)"
    )
    assert problems["projections[3].connectivity"] == (
        "2 pre indices but 1 post indices; give one (pre, post) pair per synapse"
    )
    assert problems["projections[4].connectivity.post"] == (
        "post index 4 is out of range: the post side has 4 neurons (indices 0..3)"
    )
    assert problems["projections[5].connectivity"].startswith(
        "sparse connectivity needs pre and post indices"
    )


def test_one_to_one_random_and_stray_fields() -> None:
    net = _base()
    net.connect("in", "h", connectivity="one_to_one")
    net.connect("in", "h", connectivity=Connectivity.random(1.5))
    net.connect("in", "h", connectivity=Connectivity("dense", kernel_size=(3, 3), p=0.1))
    net.connect("in", "h", connectivity="dens")  # type: ignore[arg-type]
    problems = _problems(net)
    assert problems["projections[2].connectivity.kind"] == (
        "one_to_one needs as many pre as post neurons, got 'in' (6) -> 'h' (4); use dense or "
        "sparse connectivity"
    )
    assert problems["projections[3].connectivity.p"] == (
        "random connectivity needs a probability 0 <= p <= 1, got 1.5"
    )
    assert problems["projections[4].connectivity.kernel_size"].startswith(
        "kernel_size is only used by conv2d"
    )
    assert problems["projections[4].connectivity.p"].startswith("p is only used by random")
    assert problems["projections[5].connectivity.kind"].startswith(
        "unknown connectivity 'dens'; did you mean 'dense'?"
    )


def test_random_weights_array_must_match_the_draw() -> None:
    net = _base()
    net.connect("in", "h", connectivity=Connectivity.random(0.5, seed=3), weights=np.ones(1000))
    path, message = _one(net)
    assert path == "projections[2].weights"
    assert "random connectivity from 'in' to 'h' needs [nnz] = (" in message


def _conv_net(post_shape: tuple[int, int, int]) -> Network:
    net = Network()
    net.input("img", 2 * 5 * 5, shape=(2, 5, 5))
    net.population("fm", int(np.prod(post_shape)), "lif", shape=post_shape)
    return net


def test_conv2d_geometry() -> None:
    net = _conv_net((4, 3, 3))
    net.connect("img", "fm", connectivity=Connectivity.conv2d(3), weights=np.zeros((4, 2, 3, 3)))
    net.connect("img", "fm", connectivity=Connectivity.conv2d(3, padding=1), name="c2")
    net.connect(
        "img", "fm", connectivity=Connectivity.conv2d(3), weights=np.zeros((4, 2, 2, 2)), name="c3"
    )
    net.connect("img", "fm", connectivity=Connectivity.conv2d(7), name="c4")
    problems = _problems(net)
    assert set(problems) == {
        "projections[1].connectivity.kind",
        "projections[2].weights",
        "projections[3].connectivity.kernel_size",
    }
    assert problems["projections[1].connectivity.kind"] == (
        "conv2d maps 'img' (2, 5, 5) with kernel (3, 3), stride (1, 1), padding (1, 1) to "
        "(C_out, 5, 5), but 'fm' has shape (4, 3, 3); give it shape (4, 5, 5)"
    )
    assert problems["projections[2].weights"].endswith("needs [C_out, C_in, kh, kw] = (4, 2, 3, 3)")


def test_conv2d_needs_three_dimensional_shapes() -> None:
    net = Network()
    net.input("flat", 25)
    net.population("fm", 9, "lif", shape=(1, 3, 3))
    net.connect("flat", "fm", connectivity=Connectivity.conv2d(3), delay=np.ones(3, np.int64))
    problems = _problems(net)
    assert problems["projections[0].connectivity.kind"] == (
        "conv2d needs the shape (C, H, W) of 'flat', which has shape (25,); give shape=(C, H, W) "
        "when adding it"
    )
    assert problems["projections[0].delay"].startswith("conv2d shares its kernel")


def test_weight_initialiser_problems() -> None:
    net = _base()
    net.connect("in", "h", weights=WeightInit("normel"))
    net.connect("in", "h", weights=WeightInit("normal", {"sd": 0.1}))
    net.connect("in", "h", weights=WeightInit("uniform", {"low": 1.0, "high": 0.0}))
    net.connect("in", "h", weights=WeightInit("constant"))
    problems = _problems(net)
    assert problems["projections[2].weights"].startswith(
        "unknown weight initialiser 'normel'; did you mean 'normal'?"
    )
    assert problems["projections[3].weights.params.sd"].startswith(
        "the normal initialiser has no parameter 'sd'"
    )
    assert problems["projections[4].weights.params.low"] == (
        "uniform needs low <= high, got low=1 and high=0; swap them"
    )
    assert problems["projections[5].weights.params.value"] == (
        "the constant initialiser needs 'value'; give WeightInit('constant', {'value': ...})"
    )


def test_delays() -> None:
    net = _base()
    net.connect("in", "h", delay=-1)
    net.connect("in", "h", delay=np.ones((6, 4), np.int64))
    net.connect("in", "h", delay=np.full((4, 6), -2))
    net.projections[0].delay = 1.5  # type: ignore[assignment]
    problems = _problems(net)
    assert problems["projections[0].delay"] == "delay is a whole number of steps, got 1.5"
    assert problems["projections[2].delay"] == "delay must be >= 0 steps, got -1"
    assert problems["projections[3].delay"].startswith("delays have shape (6, 4); dense")
    assert problems["projections[4].delay"] == "delays must be >= 0 steps, got -2"


def test_sign_and_mask() -> None:
    net = _base()
    w = np.full((4, 6), 0.5)
    w[0, :3] = -1.0
    net.connect("in", "h", weights=w, sign="excitatory")
    mask = np.ones((4, 6), bool)
    mask[0, :3] = False
    net.connect("in", "h", weights=w, sign="excitatory", mask=mask)  # masked out: fine
    net.connect("in", "h", weights=-w, sign="inhibitory", mask=np.ones((6, 4), bool))
    net.connect("in", "h", weights=-0.5, sign="excitatory")
    net.connect("in", "h", sign="both")  # type: ignore[arg-type]
    net.connect("in", "h").mask = np.ones((4, 6))  # type: ignore[assignment]
    problems = _problems(net)
    assert problems["projections[2].weights"] == (
        "3 weights are negative on an excitatory projection; use weights=np.abs(w), or sign=None "
        "to lift the constraint"
    )
    assert "projections[3].weights" not in problems
    assert problems["projections[4].mask"].startswith("mask have shape (6, 4)")
    assert problems["projections[4].weights"].startswith("3 weights are positive on an inhibitory")
    assert problems["projections[5].weights"] == (
        "constant weight -0.5 is on the wrong side of an excitatory projection; use weights=0.5, "
        "or sign=None"
    )
    assert problems["projections[6].sign"] == (
        "sign must be 'excitatory', 'inhibitory' or None, got 'both'"
    )
    assert problems["projections[7].mask"].startswith("mask must be a boolean array, got dtype")


def test_plasticity() -> None:
    net = _conv_net((1, 3, 3))
    net.connect("img", "fm", connectivity=Connectivity.conv2d(3), plasticity="stdp")
    net.connect("fm", "fm", plasticity=Plasticity("stpd"), delay=np.ones((9, 9), np.int64))
    net.connect(
        "fm", "fm", plasticity=Plasticity("stdp", {"a_pluss": 0.1}, {"weight_dependence": "soft"})
    )
    problems = _problems(net)
    assert problems["projections[0].plasticity"].startswith(
        "learning rules do not run on conv2d connectivity"
    )
    assert problems["projections[1].plasticity"].startswith(
        "a learning rule needs one delay for the whole projection"
    )
    assert problems["projections[1].plasticity.rule"] == (
        "unknown learning rule 'stpd'; did you mean 'stdp'?"
    )
    assert problems["projections[2].plasticity.params.a_pluss"].startswith(
        "learning rule 'stdp' has no parameter 'a_pluss'; did you mean 'a_plus'?"
    )
    assert problems["projections[2].plasticity.options.weight_dependence"].startswith(
        "option weight_dependence of learning rule 'stdp' must be one of"
    )


# -- cycles ------------------------------------------------------------------------------------


def test_zero_delay_cycle_is_named() -> None:
    net = Network()
    for name in ("a", "b", "c"):
        net.population(name, 2, "lif")
    net.connect("a", "b", delay=0)
    net.connect("b", "c", delay=0)
    net.connect("c", "a", delay=np.array([[1, 0], [1, 1]]))
    assert _one(net) == (
        "projections[0].delay",
        "zero-delay cycle a -> b -> c -> a through projections 'a->b', 'b->c', 'c->a': a "
        "population cannot receive its own output within the same step; set delay=1 (or more) "
        "on one of them",
    )


@pytest.mark.parametrize(
    ("build", "ok"),
    [
        (lambda net: net.connect("a", "a", delay=0), False),
        (lambda net: net.connect("a", "a", delay=1), True),
        (lambda net: (net.connect("a", "b", delay=0), net.connect("b", "a", delay=1)), True),
        (lambda net: (net.connect("a", "b", delay=0), net.connect("a", "b", delay=0)), True),
    ],
)
def test_cycles_need_a_delay(build: Callable[[Network], object], ok: bool) -> None:
    net = Network()
    net.population("a", 2, "lif")
    net.population("b", 2, "lif")
    build(net)
    if ok:
        net.validate()
    else:
        assert _one(net)[1].startswith("zero-delay cycle a -> a through projections 'a->a'")


# -- probes ------------------------------------------------------------------------------------


def test_probe_targets_variables_and_indices() -> None:
    net = _base()
    net.probe("hh")
    net.probe("h", "V")
    net.probe("in", "v")
    net.probe("in->h", "syn.x")
    net.probe("h", "v", index=[4])
    net.probe("h", "spikes")
    net.probe("h", "spikes")
    problems = _problems(net)
    assert problems["probes[0].target"] == (
        "no input, population or projection named 'hh'; did you mean 'h'?"
    )
    assert problems["probes[1].variable"] == (
        "neuron model 'lif' of 'h' has no variable 'V'; did you mean 'v'? "
        "(choose from: spikes, v, ref, s)"
    )
    assert problems["probes[2].variable"] == "an input records only 'spikes' (its values), got 'v'"
    assert problems["probes[3].variable"] == (
        "projection 'in->h' has no variable 'syn.x'; did you mean 'syn.i'? "
        "(choose from: weights, syn.i)"
    )
    assert problems["probes[4].index"] == (
        "index 4 is out of range for 'h.v', which has 4 values (indices 0..3)"
    )
    assert problems["probes[6]"] == "probes[5] already records 'h.spikes'; remove one of them"


# -- weight bounds of plasticity, sizes, initialiser params ----------------------------------------


def _plastic(weights: object = 0.5, sign: str | None = None, **params: float) -> Network:
    net = Network(dt=1e-3)
    net.input("in", 4)
    net.population("h", 3, "lif")
    net.connect(
        "in",
        "h",
        weights=weights,  # type: ignore[arg-type]
        sign=sign,  # type: ignore[arg-type]
        plasticity=Plasticity("stdp", dict(params)),
    )
    return net


def test_default_stdp_bounds_on_an_inhibitory_projection_are_refused() -> None:
    place, message = _one(_plastic(-np.full((3, 4), 0.5), "inhibitory"))
    assert place == "projections[0].plasticity.params"
    assert "reaches above 0 on an inhibitory projection" in message
    assert "set w_min=-1, w_max=0" in message
    _plastic(-np.full((3, 4), 0.5), "inhibitory", w_min=-1.0, w_max=0.0).validate()


def test_stdp_bounds_must_be_ordered_and_on_the_sign_side() -> None:
    assert _one(_plastic(w_min=2.0, w_max=1.0)) == (
        "projections[0].plasticity.params",
        "stdp needs w_min <= w_max, got w_min=2 and w_max=1; swap them",
    )
    _, message = _one(_plastic(sign="excitatory", w_min=-1.0, w_max=1.0))
    assert "reaches below 0 on an excitatory projection; set w_min=0" in message


def test_initial_weights_outside_the_stdp_bounds_are_counted() -> None:
    w = np.full((3, 4), 0.5)
    w[0, :2] = 3.0
    assert _one(_plastic(w)) == (
        "projections[0].weights",
        "2 of 12 weights lie outside [0, 1], the bounds of stdp, which would clip them on the "
        "first step; use weights=np.clip(w, 0, 1) or widen w_min / w_max",
    )
    place, message = _one(_plastic(3.0))
    assert place == "projections[0].weights"
    assert message.startswith("constant weight 3 lies outside [0, 1], the bounds of stdp")


def test_absurd_sizes_are_refused() -> None:
    net = Network(dt=1e-3)
    net.input("in", 2**31)
    assert _one(net) == (
        "inputs[0].size",
        f"size {2**31} is too large: at most {2**31 - 1} (2**31 - 1) neurons; split it into "
        "several populations or check the number",
    )


def test_weight_init_params_must_be_a_dict() -> None:
    net = Network(dt=1e-3)
    net.input("in", 2)
    net.population("h", 2, "lif")
    net.connect("in", "h", weights=WeightInit("normal", params=None))  # type: ignore[arg-type]
    place, message = _one(net)
    assert place == "projections[0].weights.params"
    assert message.startswith("the normal initialiser's params must be a dict, got None")
