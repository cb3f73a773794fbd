"""The model checks catch deliberately broken neuron models, each with the expected message."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from neuropil import NeuronModel, Ops, Param, StateVar, StepContext, get_registry
from neuropil._ops import Array
from neuropil_testkit import (
    check_dtype_preserved,
    check_heterogeneous_params,
    check_runs_on_reference,
    check_schema_is_valid,
    check_step_is_pure,
    check_step_is_traceable,
)

DOC = """A leaky neuron for the testkit's own tests.

Discrete update:
    v1 = v * exp(-dt / tau) + current
    s' = spike(v1 - 1)
    v' = v1 * (1 - s')
"""

Step = Callable[
    [Ops, Mapping[str, Any], Mapping[str, Any], Mapping[str, Array], Array, StepContext],
    tuple[dict[str, Array], Array],
]


def good_step(
    ops: Ops,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    state: Mapping[str, Array],
    current: Array,
    ctx: StepContext,
) -> tuple[dict[str, Array], Array]:
    v1 = state["v"] * ops.exp(-ctx.dt / params["tau"]) + current
    s = ops.spike(v1 - 1.0, ctx.surrogate)  # type: ignore[arg-type]
    return {"v": v1 * (1.0 - s)}, s


def model(step: Step = good_step, **changes: Any) -> NeuronModel:
    base = NeuronModel(
        name="leaky",
        params={"tau": Param(20e-3, "s", "time constant", low=0.0, low_inclusive=False)},
        state={"v": StateVar("V", "membrane potential", 0.0)},
        step=step,
        doc=DOC,
    )
    return dataclasses.replace(base, **changes)


def test_a_correct_model_passes_every_check() -> None:
    m = model()
    for check in (
        check_schema_is_valid,
        check_step_is_pure,
        check_step_is_traceable,
        check_dtype_preserved,
        check_heterogeneous_params,
    ):
        check(m)


def test_mutating_the_input_array_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        v = state["v"]
        v *= ops.exp(-ctx.dt / params["tau"])
        v += current
        s = ops.spike(v - 1.0, ctx.surrogate)
        return {"v": v * (1.0 - s)}, s

    with pytest.raises(
        AssertionError, match=r"neuron 'leaky' mutates its input arrays in step .*v \+= x"
    ):
        check_step_is_pure(model(step))


def test_mutating_the_state_mapping_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        new, s = good_step(ops, params, options, state, current, ctx)
        state["v"] = new["v"]
        return dict(state), s

    with pytest.raises(AssertionError, match="neuron 'leaky' mutates its input mappings"):
        check_step_is_pure(model(step))


def test_branching_on_float_of_an_array_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        if float(ops.mean(state["v"])) > 0.5:
            current = current * 0.5
        return good_step(ops, params, options, state, current, ctx)

    # The plain numpy path runs it without complaint: only tracing reveals the problem.
    check_step_is_pure(model(step))
    with pytest.raises(
        AssertionError, match=r"neuron 'leaky' is not traceable .*float\(\) on an array"
    ):
        check_step_is_traceable(model(step))


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (lambda ops, v: v * 2.0 if (v > 0.5).any() else v, "truth test"),
        (lambda ops, v: v * v[0, 0].item(), r"\.item\(\)"),
        (lambda ops, v: v + len(v.tolist()), r"\.tolist\(\)"),
        (lambda ops, v: v * int(ops.sum(v > 0)), r"int\(\)"),
    ],
    ids=["if", "item", "tolist", "int"],
)
def test_every_host_round_trip_is_caught(body: Callable[[Ops, Array], Array], what: str) -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        return good_step(ops, params, options, {"v": body(ops, state["v"])}, current, ctx)

    with pytest.raises(AssertionError, match=f"not traceable.*{what}"):
        check_step_is_traceable(model(step))


def test_upcasting_float32_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        decay = np.exp(np.float64(-ctx.dt) / params["tau"])
        v1 = state["v"] * decay + current
        s = ops.spike(v1 - 1.0, ctx.surrogate)
        return {"v": v1 * (1.0 - s)}, s

    with pytest.raises(
        AssertionError, match="neuron 'leaky' upcasts float32: state 'v' came back as float64"
    ):
        check_dtype_preserved(model(step))


def test_a_missing_state_variable_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        _, s = good_step(ops, params, options, state, current, ctx)
        return {}, s

    with pytest.raises(
        AssertionError, match=r"returned state \[\] with default options, expected .*\['v'\]"
    ):
        check_step_is_pure(model(step))


def test_hidden_randomness_is_caught() -> None:
    rng = np.random.default_rng(0)

    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        noisy = current + rng.normal(size=np.shape(current))
        return good_step(ops, params, options, state, noisy, ctx)

    with pytest.raises(AssertionError, match="neuron 'leaky' is not deterministic"):
        check_step_is_pure(model(step))


def test_a_parameter_that_does_not_broadcast_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        tau = np.ravel(params["tau"])[0]  # the first neuron's value for everyone
        return good_step(ops, {"tau": tau}, options, state, current, ctx)

    with pytest.raises(
        AssertionError, match="neuron 'leaky' does not broadcast per-neuron parameters"
    ):
        check_heterogeneous_params(model(step))


def test_invalid_schemas_are_caught() -> None:
    bad = model(
        name="Leaky",
        params={"tau": Param(-1.0, "s", "time constant", low=0.0, low_inclusive=False)},
        doc="No exact update here.",
    )
    with pytest.raises(AssertionError, match="invalid schema") as info:
        check_schema_is_valid(bad)
    text = str(info.value)
    assert "name 'Leaky' is not a registry name" in text
    assert "default -1 is outside its bounds (0, inf) s" in text
    assert "no 'Discrete update' block" in text


def test_a_state_init_naming_no_parameter_is_caught() -> None:
    bad = model(state={"v": StateVar("V", "membrane potential", "v_rest")})
    with pytest.raises(AssertionError, match="names parameter 'v_rest', which does not exist"):
        check_schema_is_valid(bad)


def test_checks_run_on_a_registered_plugin_model(register_plugin: Callable[..., str]) -> None:
    register_plugin({"neuron": [model()]}, "leaky_plugin")
    assert "leaky" in get_registry().names("neuron")
    check_schema_is_valid("leaky")
    check_runs_on_reference("leaky")


def test_a_model_that_never_spikes_fails_on_the_reference(
    register_plugin: Callable[..., str],
) -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        new, s = good_step(ops, params, options, state, current, ctx)
        return new, ops.zeros_like(s)

    register_plugin({"neuron": [model(step, name="mute")]})
    with pytest.raises(AssertionError, match="neuron 'mute' never spiked on the reference engine"):
        check_runs_on_reference("mute")


def test_a_name_registered_under_another_kind_is_refused() -> None:
    with pytest.raises(AssertionError, match="synapse 'lif' is a NeuronModel, not a SynapseModel"):
        check_step_is_pure(get_registry().neuron("lif"), kind="synapse")
