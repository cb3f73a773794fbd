"""The standard networks exercise what they claim to, on the reference engine.

A case where a population never fires, fires at most steps, or whose plastic weights start
clipped at a bound (or never move) lets a wrong backend pass; these tests keep the cases honest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import Network, get_registry, use_registry
from neuropil.protocols import SimulationResult
from neuropil.reference import NumpyBackend
from neuropil_testkit import blocked_registry, networks

LOW, HIGH = networks.ACTIVITY_BAND
_CORE = blocked_registry()
with use_registry(_CORE):
    CASES = networks.reference_cases()


def _simulate(case: networks.Case) -> tuple[Network, Any, SimulationResult]:
    net = case.build()
    sim = NumpyBackend().compile(net, dtype="float64", seed=case.seed)
    initial = sim.get_parameters()
    return net, initial, sim.run(case.inputs(net), steps=case.steps)


def _outside_band(net: Network, recordings: dict[str, npt.NDArray[Any]]) -> dict[str, float]:
    reg = get_registry()
    spiking = [p.name for p in net.populations if reg.neuron(p.model).spiking]
    assert sorted(k.removesuffix(".spikes") for k in recordings if k.endswith(".spikes")) == sorted(
        n for n in spiking + [i.name for i in net.inputs] if f"{n}.spikes" in recordings
    )
    rates = {f"{n}.spikes": float(recordings[f"{n}.spikes"].mean()) for n in spiking}
    return {k: round(r, 4) for k, r in rates.items() if not LOW <= r <= HIGH}


def test_the_cases_cover_every_standard_model_and_structure() -> None:
    names = set(CASES)
    for neuron in _CORE.names("neuron"):
        assert {f"params-{neuron}", f"state-{neuron}"} <= names
    assert {f"options-{n}" for n in ("lif", "if", "li", "cuba_lif", "alif")} <= names
    assert "options-izhikevich" not in names  # izhikevich has no options
    assert {"synapse-exponential", "stdp-variants", "oja-variants"} <= names
    assert {"order-diamond", "probe-index", "sign-excitatory-dense", "sign-inhibitory-sparse"} <= (
        names
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_spiking_population_fires_within_the_band(name: str) -> None:
    net, _, result = _simulate(CASES[name])
    outside = _outside_band(net, result.recordings)
    assert not outside, f"case {name!r}: firing rates outside [{LOW}, {HIGH}]: {outside}"


PLASTIC = sorted(n for n, c in CASES.items() if any(p.plasticity for p in c.build().projections))


@pytest.mark.parametrize("name", PLASTIC)
def test_plastic_weights_start_inside_their_bounds_and_change(name: str) -> None:
    net, initial, result = _simulate(CASES[name])
    reg = get_registry()
    for proj in net.projections:
        if proj.plasticity is None:
            continue
        rule = reg.rule(proj.plasticity.rule)
        bounds = {
            k: float(proj.plasticity.params.get(k, rule.params[k].default))
            for k in ("w_min", "w_max")
            if k in rule.params
        }
        w0 = initial[f"{proj.name}.weights"]
        if bounds:
            assert bounds["w_min"] <= w0.min(), (proj.name, bounds)
            assert w0.max() < bounds["w_max"], f"{proj.name}: weights start clipped at w_max"
        learned = result.recordings[f"{proj.name}.weights"]
        assert learned.shape == (CASES[name].steps, w0.size)
        assert np.abs(learned[-1] - w0.ravel()).max() > 1e-4, f"{proj.name} barely changed"


def test_the_sign_constraint_bites_in_the_sign_cases() -> None:
    for name, side in (("sign-excitatory-dense", 1.0), ("sign-inhibitory-sparse", -1.0)):
        case = CASES[name]
        net = case.build()
        net.projection_by_name("in->pop").sign = None
        free = NumpyBackend().compile(net, dtype="float64").run(case.inputs(net), steps=case.steps)
        w = free["in->pop.weights"]
        # Without the constraint the rule takes weights to the wrong side of zero...
        assert (side * w < 0).any(), name
        _, _, result = _simulate(case)
        # ... with it, none gets there.
        assert not (side * result["in->pop.weights"] < 0).any(), name


def test_the_mask_matters_in_the_masked_case() -> None:
    net = CASES["sign-excitatory-dense"].build()
    mask = net.projection_by_name("in->pop").mask
    assert mask is not None
    assert 0 < mask.mean() < 1


def test_the_diamond_is_declared_against_its_update_order() -> None:
    net = networks.diamond()
    order = NumpyBackend().compile(net).resolved.order
    assert [p.name for p in net.populations] == ["c", "b", "a"]
    assert list(order) == ["a", "b", "c"]


def test_per_neuron_parameters_and_initial_state_differ_from_the_defaults() -> None:
    reg = get_registry()
    for neuron in _CORE.names("neuron"):
        model = reg.neuron(neuron)
        pop = networks.heterogeneous(neuron).populations[0]
        assert set(pop.params) == set(model.params)
        for k, value in pop.params.items():
            param = model.params[k]
            arr = np.asarray(value)
            assert not np.any(arr == param.default), (neuron, k)
            assert all(param.contains(float(x)) for x in np.ravel(arr)), (neuron, k)
            if param.per_neuron:
                assert arr.shape == (pop.size,), (neuron, k)
                assert np.ptp(arr) > 0, (neuron, k)
        state = networks.initial_state(neuron).populations[0].initial_state
        assert set(state) == set(model.state)
        assert all(np.ptp(v) > 0 for v in state.values()), neuron


def test_the_deployable_network_is_active_under_the_emulation_stimulus() -> None:
    from neuropil_testkit._checks_data import (
        EMULATION_BATCH,
        EMULATION_RATE_HZ,
        EMULATION_SEED,
        EMULATION_STEPS,
    )

    net = networks.deployable()
    result = networks.simulate_reference(
        net,
        steps=EMULATION_STEPS,
        batch=EMULATION_BATCH,
        seed=EMULATION_SEED,
        rate_hz=EMULATION_RATE_HZ,
    )
    assert not _outside_band(net, result.recordings)


def test_the_gradient_networks_are_active_and_the_one_step_neuron_stays_below_threshold() -> None:
    for net in (networks.gradient(), networks.readout()):
        result = networks.simulate_reference(net, steps=30)
        assert not _outside_band(net, result.recordings), net.name
    result = NumpyBackend().compile(networks.one_step()).run({"in": np.ones((1, 1, 1))})
    assert result["n.spikes"].item() == 0.0
    assert result["n.v"].item() == pytest.approx(0.8, rel=1e-12)
