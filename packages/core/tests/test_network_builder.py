"""The builder methods of :class:`neuropil.Network`."""

from __future__ import annotations

import numpy as np
import pytest

from neuropil import Connectivity, Network, Plasticity, WeightInit
from neuropil.errors import NetworkValidationError


def test_input_records_size_shape_and_metadata() -> None:
    net = Network()
    node = net.input("img", 12, shape=[3, 2, 2], metadata={"sensor": "dvs"})
    assert net.inputs == [node]
    assert (node.size, node.shape, node.metadata) == (12, (3, 2, 2), {"sensor": "dvs"})
    assert net.node("img") is node


def test_population_splits_keywords_into_params_and_options() -> None:
    net = Network()
    pop = net.population(
        "h", 3, "lif", tau_mem=20e-3, v_th=[1.0, 1.1, 1.2], reset="subtract", flag=True
    )
    assert pop.params["tau_mem"] == 20e-3
    assert isinstance(pop.params["tau_mem"], float)
    v_th = pop.params["v_th"]
    assert isinstance(v_th, np.ndarray)
    assert v_th.dtype == np.float64
    np.testing.assert_array_equal(v_th, [1.0, 1.1, 1.2])
    assert pop.options == {"reset": "subtract", "flag": True}
    assert net.population_by_name("h") is pop


def test_population_trainable_list_or_mapping_and_surrogate() -> None:
    net = Network()
    a = net.population("a", 2, "lif", trainable=["tau_mem", "v_th"])
    b = net.population(
        "b",
        2,
        "lif",
        trainable={"tau_mem": False},
        surrogate="arctan",
        surrogate_params={"slope": 2},
        initial_state={"v": np.array([0.1, 0.2])},
    )
    assert a.trainable == {"tau_mem": True, "v_th": True}
    assert b.trainable == {"tau_mem": False}
    assert (b.surrogate, b.surrogate_params) == ("arctan", {"slope": 2.0})
    np.testing.assert_array_equal(b.initial_state["v"], [0.1, 0.2])


def test_connect_names_projections_and_numbers_duplicates() -> None:
    net = Network()
    net.input("in", 2)
    net.population("out", 2, "lif")
    first = net.connect("in", "out")
    second = net.connect("in", "out")
    third = net.connect("in", "out")
    named = net.connect("in", "out", name="skip")
    assert [p.name for p in (first, second, third, named)] == [
        "in->out",
        "in->out#2",
        "in->out#3",
        "skip",
    ]
    assert net.projection_by_name("in->out#2") is second


def test_connect_weights_forms() -> None:
    net = Network()
    inp = net.input("in", 2)
    out = net.population("out", 3, "lif")
    scalar = net.connect(inp, out, weights=0.5)
    default = net.connect(inp, out)
    init = WeightInit("normal", {"std": 0.1}, seed=4)
    given = net.connect(inp, out, weights=init)
    array = net.connect(inp, out, weights=np.ones((3, 2), dtype=np.float32))
    assert scalar.weights == WeightInit("constant", {"value": 0.5}, seed=0)
    assert default.weights == WeightInit("kaiming_uniform", {"gain": 1.0}, seed=1)
    assert given.weights is init
    assert isinstance(array.weights, np.ndarray)
    assert array.weights.dtype == np.float64
    assert (scalar.pre, scalar.post) == ("in", "out")


def test_connect_delay_mask_plasticity_connectivity_and_synapse_params() -> None:
    net = Network()
    net.population("a", 2, "lif")
    proj = net.connect(
        "a",
        "a",
        "exponential",
        connectivity="one_to_one",
        delay=[1, 2],
        mask=[1, 0],
        plasticity="stdp",
        sign="excitatory",
        tau_syn=5e-3,
        synapse_options={"x": 1},
        trainable=False,
        trainable_delays=True,
        metadata={"role": "recurrent"},
    )
    assert proj.connectivity == Connectivity("one_to_one")
    assert isinstance(proj.delay, np.ndarray)
    assert proj.delay.dtype == np.int64
    assert proj.mask is not None
    assert proj.mask.dtype == np.bool_
    np.testing.assert_array_equal(proj.mask, [True, False])
    assert proj.plasticity == Plasticity("stdp")
    assert proj.synapse_params == {"tau_syn": 5e-3}
    assert proj.synapse_options == {"x": 1}
    assert (proj.sign, proj.trainable_weights, proj.trainable_delays) == ("excitatory", False, True)
    assert proj.metadata == {"role": "recurrent"}
    scalar = net.connect("a", "a", delay=np.int64(3), name="r2")
    assert scalar.delay == 3
    assert type(scalar.delay) is int


def test_connect_refuses_fractional_delays_instead_of_truncating() -> None:
    net = Network()
    net.population("a", 2, "lif")
    with pytest.raises(NetworkValidationError, match=r"projections\[0\]\.delay: delay is a whole"):
        net.connect("a", "a", delay=1.5)
    with pytest.raises(NetworkValidationError, match="whole number of steps"):
        net.connect("a", "a", delay=[1.0, 2.5], connectivity="one_to_one")
    proj = net.connect("a", "a", delay=2.0)
    assert proj.delay == 2


def test_connectivity_constructors() -> None:
    listed = Connectivity.from_list([(0, 1), (2, 0)])
    assert listed.kind == "list"
    np.testing.assert_array_equal(listed.pre, [0, 2])
    np.testing.assert_array_equal(listed.post, [1, 0])
    conv = Connectivity.conv2d(3, stride=2, padding=(1, 0))
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (2, 2), (1, 0))
    rnd = Connectivity.random(0.25, seed=7, allow_autapses=True)
    assert (rnd.kind, rnd.p, rnd.seed, rnd.allow_autapses) == ("random", 0.25, 7, True)


def test_probe_and_lookup_errors() -> None:
    net = Network()
    pop = net.population("h", 4, "lif")
    probe = net.probe(pop, "v", index=[0, 3])
    assert probe.key == "h.v"
    assert probe.index is not None
    assert probe.index.dtype == np.int64
    with pytest.raises(KeyError, match="no input or population named 'x'; the network has"):
        net.node("x")
    with pytest.raises(KeyError, match="no projection named 'p'"):
        net.projection_by_name("p")


# -- bad values are refused where they are written -------------------------------------------------


def _refused(build: object) -> tuple[str, str]:
    with pytest.raises(NetworkValidationError) as info:
        build()  # type: ignore[operator]
    assert len(info.value.problems) == 1
    return info.value.problems[0]


def _two() -> Network:
    net = Network()
    net.input("in", 3)
    net.population("h", 2, "lif")
    return net


def test_params_that_are_not_numbers_are_refused_at_their_place() -> None:
    place, message = _refused(lambda: _two().population("g", 2, "lif", tau_mem=None))
    assert place == "populations[1].params.tau_mem"
    assert message == "tau_mem is None; give a number, or leave it out for the default"
    place, message = _refused(lambda: _two().population("g", 2, "lif", tau_mem=["a", "b"]))
    assert place == "populations[1].params.tau_mem"
    assert message.startswith("tau_mem must be a number or an array of numbers, got ['a', 'b']")


def test_weights_mask_and_probe_index_are_checked_in_the_builder() -> None:
    place, message = _refused(lambda: _two().connect("in", "h", weights=[["a"] * 3] * 2))
    assert place == "projections[0].weights"
    assert "weights must be a number or an array of numbers" in message
    mask = [[0.5, 0, 0], [np.nan, 0, 0]]
    place, message = _refused(lambda: _two().connect("in", "h", weights=1.0, mask=mask))
    assert place == "projections[0].mask"
    assert message.startswith("mask must be boolean (or 0 / 1), got values other than 0 and 1")
    net = _two()
    assert net.connect("in", "h", mask=[[1, 0, 1], [0, 1, 1]]).mask.dtype == np.bool_  # type: ignore[union-attr]
    place, message = _refused(lambda: _two().probe("h", "v", index=[1.7]))
    assert place == "probes[0].index"
    assert message.startswith("index holds neuron indices (whole numbers), got [1.7]")
    assert _two().probe("h", "v", index=[1.0]).index.tolist() == [1]  # type: ignore[union-attr]


def test_trainable_as_one_name() -> None:
    net = Network()
    assert net.population("h", 2, "lif", trainable="tau_mem").trainable == {"tau_mem": True}
