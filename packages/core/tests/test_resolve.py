"""``neuropil.resolve``: defaults filled in, weights drawn, copies handed out, same every time."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuropil
from neuropil import Connectivity, Network, Plasticity, WeightInit, resolve
from neuropil._connectivity import random_pairs
from neuropil._initializers import init_weights
from neuropil.errors import NetworkValidationError


def _net() -> Network:
    net = Network(dt=0.5e-3)
    net.input("in", 6)
    net.input("img", 18, shape=(2, 3, 3))
    net.population(
        "h",
        4,
        "lif",
        tau_mem=20e-3,
        v_rest=[0.0, 0.1, 0.2, 0.3],
        reset="subtract",
        trainable=["v_th"],
        surrogate_params={"slope": 10.0},
        initial_state={"ref": 2.0},
        metadata={"role": "hidden"},
    )
    net.population("out", 4, "lif", trainable={"tau_mem": True})
    net.population("fm", 4, "lif", shape=(1, 2, 2))
    net.connect(
        "in",
        "h",
        "exponential",
        weights=WeightInit("normal", {"std": 0.5}, seed=3),
        tau_syn=np.full(4, 5e-3),
    )
    net.connect(
        "h", "out", weights=np.arange(16.0).reshape(4, 4), delay=0, mask=np.eye(4, dtype=bool)
    )
    net.connect(
        "in",
        "out",
        connectivity=Connectivity.from_list([(0, 1), (5, 3)]),
        weights=[0.5, 0.25],
        delay=[1, 3],
    )
    net.connect(
        "out",
        "h",
        connectivity=Connectivity.random(0.5, seed=2),
        plasticity=Plasticity("stdp", {"a_plus": 0.02}),
    )
    net.connect("img", "fm", connectivity=Connectivity.conv2d(2))
    net.connect("out", "fm", connectivity="one_to_one", weights=2.0, delay=0)
    net.probe("h", "v", index=[1])
    net.probe("in->h", "syn.i")
    return net


def test_populations_are_filled_in() -> None:
    r = resolve(_net())
    h = r.population("h")
    model = neuropil.get_registry().neuron("lif")
    assert h.model is model
    assert set(h.params) == set(model.params)
    assert h.params["tau_mem"] == 20e-3
    assert isinstance(h.params["v_th"], float)
    assert h.params["v_th"] == model.params["v_th"].default
    v_rest = h.params["v_rest"]
    assert isinstance(v_rest, np.ndarray)
    assert v_rest.dtype == np.float64
    assert h.options == {"integration": "exact", "reset": "subtract", "reset_timing": "immediate"}
    np.testing.assert_array_equal(h.initial_state["v"], [0.0, 0.1, 0.2, 0.3])  # starts at v_rest
    np.testing.assert_array_equal(h.initial_state["ref"], np.full(4, 2.0))
    np.testing.assert_array_equal(h.initial_state["s"], np.zeros(4))
    assert all(a.dtype == np.float64 and a.shape == (4,) for a in h.initial_state.values())
    assert h.trainable == frozenset({"v_th"})
    assert r.population("out").trainable == frozenset({"tau_mem"})
    assert h.surrogate.name == "fast_sigmoid"
    assert h.surrogate.values == {"slope": 10.0}
    assert (h.shape, r.population("fm").shape) == ((4,), (1, 2, 2))
    assert h.metadata == {"role": "hidden"}
    assert [(i.name, i.shape) for i in r.inputs] == [("in", (6,)), ("img", (2, 3, 3))]
    assert r.dt == 0.5e-3


def test_projections_are_resolved() -> None:
    net = _net()
    r = resolve(net)
    p0, p1, p2, p3, p4, p5 = r.projections
    np.testing.assert_array_equal(
        p0.weights, init_weights(WeightInit("normal", {"std": 0.5}, seed=3), (4, 6), 6)
    )
    assert p0.kind == "dense"
    assert p0.delay.shape == ()
    assert p0.delay.dtype == np.int64
    assert p0.max_delay == 1
    assert p0.synapse.name == "exponential"
    assert isinstance(p0.synapse_params["tau_syn"], np.ndarray)
    np.testing.assert_array_equal(p1.weights, np.diag(np.arange(16.0).reshape(4, 4)) * np.eye(4))
    assert p1.mask is not None
    assert p1.max_delay == 0
    assert p2.kind == "sparse"
    np.testing.assert_array_equal(p2.pre_idx, [0, 5])
    np.testing.assert_array_equal(p2.post_idx, [1, 3])
    np.testing.assert_array_equal(p2.delay, [1, 3])
    assert p2.max_delay == 3
    pre, post = random_pairs(0.5, 2, 4, 4)
    assert p3.kind == "sparse"
    np.testing.assert_array_equal(p3.pre_idx, pre)
    np.testing.assert_array_equal(p3.post_idx, post)
    fan = max(1.0, pre.size / 4)
    np.testing.assert_array_equal(
        p3.weights,
        init_weights(net.projections[3].weights, (pre.size,), fan),  # type: ignore[arg-type]
    )
    assert p3.plasticity is not None
    assert p3.plasticity.rule.name == "stdp"
    assert p3.plasticity.params["a_plus"] == 0.02
    assert set(p3.plasticity.params) == set(p3.plasticity.rule.params)
    assert p3.plasticity.options == {"weight_dependence": "additive"}
    assert (p4.kind, p4.kernel_size, p4.weights.shape) == ("conv2d", (2, 2), (1, 2, 2, 2))
    bound = math.sqrt(3.0 / 8)
    assert np.abs(p4.weights).max() <= bound
    assert (p4.pre_shape, p4.post_shape) == ((2, 3, 3), (1, 2, 2))
    np.testing.assert_array_equal(p5.weights, np.full(4, 2.0))
    assert r.projections[0].synapse_options == {}


def test_order_follows_zero_delay_projections() -> None:
    r = resolve(_net())
    # h -> out (delay 0) and out -> fm (delay 0); declaration order otherwise.
    assert r.order == ["h", "out", "fm"]
    net = Network()
    for name in ("c", "b", "a"):
        net.population(name, 1, "lif")
    net.connect("a", "b", delay=0)
    net.connect("b", "c", delay=0)
    net.connect("c", "a", delay=1)
    assert resolve(net).order == ["a", "b", "c"]


def test_probes() -> None:
    r = resolve(_net())
    assert [(p.key, p.target, p.variable) for p in r.probes] == [
        ("h.v", "h", "v"),
        ("in->h.syn.i", "in->h", "syn.i"),
    ]
    assert r.probes[0].index is not None
    np.testing.assert_array_equal(r.probes[0].index, [1])
    assert r.probes[1].index is None


def test_resolving_twice_gives_identical_arrays() -> None:
    a, b = resolve(_net()), resolve(_net())
    for pa, pb in zip(a.projections, b.projections, strict=True):
        np.testing.assert_array_equal(pa.weights, pb.weights)
        np.testing.assert_array_equal(pa.delay, pb.delay)
    for qa, qb in zip(a.populations, b.populations, strict=True):
        for key in qa.initial_state:
            np.testing.assert_array_equal(qa.initial_state[key], qb.initial_state[key])


def test_arrays_handed_out_are_copies() -> None:
    net = _net()
    r = resolve(net)
    r.projections[1].weights[:] = -1.0
    r.projections[2].delay[:] = 9
    r.projections[2].pre_idx[:] = 0  # type: ignore[index]
    v_rest = r.population("h").params["v_rest"]
    assert isinstance(v_rest, np.ndarray)
    v_rest[:] = 5.0
    r.population("h").initial_state["v"][:] = 7.0
    r.population("h").metadata["role"] = "changed"
    r.probes[0].index[:] = 0  # type: ignore[index]
    again = resolve(net)
    np.testing.assert_array_equal(net.projections[1].weights, np.arange(16.0).reshape(4, 4))
    np.testing.assert_array_equal(net.projections[2].delay, [1, 3])
    np.testing.assert_array_equal(net.projections[2].connectivity.pre, [0, 5])
    np.testing.assert_array_equal(net.populations[0].params["v_rest"], [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(again.population("h").initial_state["v"], [0.0, 0.1, 0.2, 0.3])
    assert net.populations[0].metadata == {"role": "hidden"}
    np.testing.assert_array_equal(net.probes[0].index, [1])


def test_signed_projections_fold_drawn_weights_onto_their_side() -> None:
    net = Network()
    net.input("in", 20)
    net.population("p", 30, "lif")
    net.connect("in", "p", sign="excitatory")
    net.connect("in", "p", sign="inhibitory", weights=WeightInit("normal", seed=1))
    net.connect("in", "p", sign="inhibitory", weights=-0.5)
    exc, inh, const = resolve(net).projections
    unsigned = init_weights(WeightInit("kaiming_uniform", {"gain": 1.0}, seed=0), (30, 20), 20)
    np.testing.assert_array_equal(exc.weights, np.abs(unsigned))
    assert (inh.weights <= 0).all()
    assert exc.sign == "excitatory"
    np.testing.assert_array_equal(const.weights, np.full((30, 20), -0.5))


def _step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
    return dict(state), current


COUNTER = neuropil.NeuronModel(
    name="counter",
    params={"gain": neuropil.Param(2.0, "1", "input gain", per_neuron=False, trainable=True)},
    state={"x": neuropil.StateVar("1", "count", "gain"), "y": neuropil.StateVar("1", "y", 0.5)},
    step=_step,
    doc="a toy model",
    options={"steps": neuropil.Option(1, (1, 2, 3), "sub-steps")},
    output="x",
)


def test_with_a_registry_of_our_own() -> None:
    class Plugin:
        NEUROPIL_PLUGIN_API = (1, 0)

        @staticmethod
        @neuropil.hookimpl
        def neuropil_neuron_models() -> list[neuropil.Component]:
            return [neuropil.Component("counter", f"{__name__}:COUNTER")]

        @staticmethod
        @neuropil.hookimpl
        def neuropil_surrogates() -> list[neuropil.Component]:
            return [neuropil.Component("fast_sigmoid", "neuropil.models._surrogates:FAST_SIGMOID")]

    registry = neuropil.Registry(discover=False)
    assert registry.register_plugin(Plugin(), "toys") == []
    net = Network()
    net.population("c", 3, "counter", steps=3, trainable={"gain": False})
    net.population("d", 2, "counter", gain=4.0)
    c, d = resolve(net, registry).populations
    assert c.model is COUNTER
    assert c.options == {"steps": 3}  # the builder put the integer among the params
    assert type(c.options["steps"]) is int
    np.testing.assert_array_equal(c.initial_state["x"], np.full(3, 2.0))
    np.testing.assert_array_equal(d.initial_state["x"], np.full(2, 4.0))
    np.testing.assert_array_equal(d.initial_state["y"], np.full(2, 0.5))
    assert (c.trainable, d.trainable) == (frozenset(), frozenset({"gain"}))
    assert d.options == {"steps": 1}


def test_invalid_networks_are_refused() -> None:
    net = _net()
    net.populations[0].params["tau_mem"] = 20.0
    with pytest.raises(NetworkValidationError, match="did you mean 20e-3"):
        resolve(net)


def test_random_connectivity_is_drawn_once_for_validation_and_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import neuropil._connectivity as connectivity

    calls: list[tuple[object, ...]] = []
    real = connectivity.random_pairs

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connectivity, "random_pairs", counting)
    connectivity.random_pairs_cached.cache_clear()
    net = Network(dt=1e-3)
    net.input("in", 40)
    net.population("h", 30, "lif")
    proj = net.connect("in", "h", connectivity=Connectivity.random(0.3, seed=11), weights=0.1)
    nnz = len(random_pairs(0.3, 11, 40, 30)[0])
    proj.delay = np.ones(nnz, dtype=np.int64)  # an array: validation needs the draw too
    a, b = resolve(net), resolve(net)
    assert len(calls) == 1
    pa, pb = a.projections[0], b.projections[0]
    assert pa.pre_idx is not None
    assert pb.pre_idx is not None
    assert pa.pre_idx.flags.writeable
    assert pa.pre_idx is not pb.pre_idx
    pa.pre_idx[:] = 0  # a backend may mutate its copy without touching the next one
    fresh = resolve(net).projections[0].pre_idx
    assert fresh is not None
    assert not np.array_equal(fresh, pa.pre_idx)
