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
    check_spikes_use_ops_spike,
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
        check_spikes_use_ops_spike,
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
        (lambda ops, v: v * 2.0 if ops.sum(v) > 0.5 else v, "truth test"),
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
    with pytest.raises(
        AssertionError,
        match="names 'v_rest', which is neither a parameter nor an earlier state variable",
    ):
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


# ---------------------------------------------------------------------------------------------
# Mistakes that numpy accepts and a compiler does not: each is caught, with the fix named.

_MEMO: dict[str, Any] = {}


def _noisy(ops: Ops, current: Array) -> Array:
    return current + np.random.default_rng(0).normal(size=np.shape(current))


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            lambda ops, p, o, state, current, ctx: (
                {"v": state["v"] * np.exp(-ctx.dt / p["tau"]) + current},
                ops.zeros_like(current),
            ),
            r"numpy\.exp on a traced array: use ops\.exp",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, state, current * (0.5 if np.asarray(state["v"]).max() > 0.5 else 1), ctx
            ),
            r"conversion of a traced array to numpy .*use ops methods",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops,
                p,
                o,
                {"v": state["v"] + ops.sum(state["v"][state["v"] > 0.5]) * 0.0},
                current,
                ctx,
            ),
            r"boolean-array indexing x\[mask\] has a data-dependent shape.*ops\.where",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, {"v": np.where(state["v"] > 0.5, 0.0, state["v"])}, current, ctx
            ),
            r"numpy\.where on a traced array: use ops\.where",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops,
                p,
                o,
                {"v": np.stack([state["v"][:, i] * 1.0 for i in range(state["v"].shape[1])], 1)},
                current,
                ctx,
            ),
            r"numpy\.stack on a traced array: no Python loops over neurons",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, {"v": ops.xp.stack(list(state["v"]), axis=0)}, current, ctx
            ),
            r"iterating over an array .*whole \[B, N\] arrays",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, state, _noisy(ops, current), ctx
            ),
            r"a numpy array mixed into traced arithmetic \(\+\).*ops\.normal\(ctx\.key",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, {"v": ops.maximum(state["v"], state["v"].max())}, current, ctx
            ),
            r"has no attribute \.max.*use ops\.maximum",
        ),
        (
            lambda ops, p, o, state, current, ctx: good_step(
                ops, p, o, state, current, dataclasses.replace(ctx, surrogate=None)
            ),
            r"ops\.spike\(x, None\).*ops\.spike\(x, ctx\.surrogate\)",
        ),
    ],
    ids=[
        "np-exp",
        "asarray-escape",
        "bool-mask-index",
        "np-where",
        "loop-np-stack",
        "iterate-neurons",
        "host-noise",
        "ndarray-method",
        "spike-without-surrogate",
    ],
)
def test_numpy_on_traced_arrays_is_caught(step: Step, message: str) -> None:
    with pytest.raises(AssertionError, match=f"neuron 'leaky' is not traceable .*{message}"):
        check_step_is_traceable(model(step))


def test_a_python_loop_through_ops_xp_is_traceable() -> None:
    # ops.xp is the backend's namespace: slow but traceable (jax unrolls the loop).
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        v = state["v"]
        v = ops.xp.stack([v[:, i] * 1.0 for i in range(v.shape[1])], axis=1)
        return good_step(ops, params, options, {"v": v}, current, ctx)

    check_step_is_traceable(model(step))


def test_numpy_random_in_the_step_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        return good_step(ops, params, options, state, _noisy(ops, current), ctx)

    with pytest.raises(
        AssertionError,
        match=r"neuron 'leaky' draws randomness from numpy\.random\.default_rng in step "
        r"\(default options\): draw randomness with ops\.normal\(ctx\.key, shape\)",
    ):
        check_step_is_pure(model(step))


def test_stdlib_random_in_the_step_is_caught() -> None:
    import random

    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        return good_step(ops, params, options, state, current * random.random(), ctx)

    with pytest.raises(AssertionError, match=r"draws randomness from random\.random in step"):
        check_step_is_pure(model(step))


def test_randomness_from_the_key_is_pure() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        noise = ops.normal(ctx.key, current.shape) * 0.01 + ops.uniform(ctx.key, current.shape)
        return good_step(ops, params, options, state, current + noise, ctx)

    check_step_is_pure(model(step))
    check_step_is_traceable(model(step))


def test_a_module_level_memo_is_caught() -> None:
    _MEMO.clear()

    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        decay = _MEMO.setdefault("decay", ops.exp(-ctx.dt / params["tau"]))
        v1 = state["v"] * decay + current
        s = ops.spike(v1 - 1.0, ctx.surrogate)
        return {"v": v1 * (1.0 - s)}, s

    with pytest.raises(
        AssertionError,
        match=r"neuron 'leaky' keeps hidden state: global '_MEMO' of module "
        r"\S*test_broken_models changed while step ran \(default options\)\. .*no module-level "
        r"caches or counters",
    ):
        check_step_is_pure(model(step))


def test_a_mutable_default_counter_is_caught() -> None:
    def step(ops, params, options, state, current, ctx, _calls=[0]):  # type: ignore[no-untyped-def]  # noqa: B006
        _calls[0] += 1
        scale = 1.0 if _calls[0] < 1000 else 2.0
        return good_step(ops, params, options, state, current * scale, ctx)

    with pytest.raises(
        AssertionError, match=r"keeps hidden state: default argument '_calls' of .*step changed"
    ):
        check_step_is_pure(model(step))


def test_a_closure_cache_is_caught() -> None:
    cache: dict[str, Array] = {}

    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        if "decay" not in cache:
            cache["decay"] = ops.exp(-ctx.dt / params["tau"])
        v1 = state["v"] * cache["decay"] + current
        s = ops.spike(v1 - 1.0, ctx.surrogate)
        return {"v": v1 * (1.0 - s)}, s

    with pytest.raises(AssertionError, match=r"keeps hidden state: closure variable 'cache'"):
        check_step_is_pure(model(step))


def test_remembering_the_last_input_is_caught_by_a_b_a() -> None:
    # Behind a callable object with __slots__ the closure escapes the state fingerprint: only
    # calling A, B, A shows the memory.
    last = np.zeros(1)

    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        previous = ops.asarray(last[0])
        np.copyto(last, np.sum(np.asarray(current)))
        return good_step(ops, params, options, state, current + previous, ctx)

    m = model(step)
    with pytest.raises(
        AssertionError,
        match=r"neuron 'leaky' is not deterministic: step gave different state 'v' for the "
        r"same inputs when called again after a call on other inputs",
    ):
        check_step_is_pure(dataclasses.replace(m, step=_opaque(step)))


class _Opaque:
    """A callable that hides its function from the state fingerprint (``__slots__``, no dict)."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, *args: Any) -> Any:
        return self._fn(*args)


def _opaque(fn: Callable[..., Any]) -> Any:
    return _Opaque(fn)


def test_a_threshold_written_with_a_comparison_is_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        v1 = state["v"] * ops.exp(-ctx.dt / params["tau"]) + current
        s = ops.where(v1 >= 1.0, 1.0, 0.0)
        return {"v": v1 * (1.0 - s)}, s

    m = model(step)
    # Pure, traceable, float32-clean: only the spike check sees the missing surrogate gradient.
    check_step_is_pure(m)
    check_step_is_traceable(m)
    check_dtype_preserved(m)
    with pytest.raises(
        AssertionError,
        match=r"neuron 'leaky' does not emit the result of ops\.spike \(default options\): its "
        r"output is an array computed from other values\. Return s = ops\.spike\(v - v_th, "
        r"ctx\.surrogate\)",
    ):
        check_spikes_use_ops_spike(m)


@pytest.mark.parametrize(
    "output",
    [
        lambda ops, s, ctx: 1.0 - ops.spike(0.5 - s, ctx.surrogate),
        lambda ops, s, ctx: ops.stop_gradient(s),
        lambda ops, s, ctx: ops.where(s > 0, 1.0, 0.0),
    ],
    ids=["one-minus-spike", "stop-gradient", "where-on-spike"],
)
def test_outputs_that_lose_the_surrogate_are_caught(
    output: Callable[[Ops, Array, StepContext], Array],
) -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        new, s = good_step(ops, params, options, state, current, ctx)
        return new, output(ops, s, ctx)

    with pytest.raises(AssertionError, match=r"neuron 'leaky' does not emit the result of ops"):
        check_spikes_use_ops_spike(model(step))


def test_masked_spikes_pass() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        new, s = good_step(ops, params, options, state, current, ctx)
        quiet = state["v"] < -0.2
        return new, ops.maximum(ops.where(quiet, 0.0, s) * (1.0 - quiet * 1.0), 0)

    check_spikes_use_ops_spike(model(step))


def test_scaled_spikes_are_caught() -> None:
    def step(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        new, s = good_step(ops, params, options, state, current, ctx)
        return new, s * 2.0

    with pytest.raises(AssertionError, match="neuron 'leaky' emits values other than 0 and 1"):
        check_spikes_use_ops_spike(model(step))


def test_a_threshold_that_fires_at_equality_is_caught() -> None:
    params = {
        "tau": Param(20e-3, "s", "time constant", low=0.0, low_inclusive=False),
        "v_th": Param(1.0, "V", "threshold", low=-10.0, high=10.0),
    }

    def strict(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        v1 = state["v"] * ops.exp(-ctx.dt / params["tau"]) + current
        s = ops.spike(v1 - params["v_th"], ctx.surrogate)
        return {"v": v1 * (1.0 - s)}, s

    def at_or_above(ops, params, options, state, current, ctx):  # type: ignore[no-untyped-def]
        v1 = state["v"] * ops.exp(-ctx.dt / params["tau"]) + current
        # An offset to make spike() fire at equality: v >= v_th in disguise.
        s = ops.spike(v1 - params["v_th"] + 1e-12, ctx.surrogate)
        return {"v": v1 * (1.0 - s)}, s

    check_spikes_use_ops_spike(model(strict, params=params))
    with pytest.raises(
        AssertionError,
        match=r"neuron 'leaky' spikes when v equals v_th exactly \(default options; batch entry "
        r"0, neuron \d: v = v_th = .*\)\. The threshold is strict",
    ):
        check_spikes_use_ops_spike(model(at_or_above, params=params))


def test_the_spike_check_refuses_a_non_spiking_model() -> None:
    with pytest.raises(AssertionError, match=r"neuron 'li': .*applies to spiking neuron models"):
        check_spikes_use_ops_spike("li")


@pytest.mark.parametrize("name", ["lif", "if", "cuba_lif", "alif", "izhikevich"])
def test_standard_spiking_models_pass_the_spike_check(name: str) -> None:
    check_spikes_use_ops_spike(name)
