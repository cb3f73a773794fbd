"""The jax engine itself: registry entry, ops, inputs, dtypes, devices, plasticity, jit reuse."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuropil
from neuropil import Network
from neuropil.errors import EngineError
from neuropil.reference import NumpyBackend
from neuropil_jax import JaxBackend, JaxOps, StepKey
from neuropil_testkit import networks


def _inputs(net: Network, steps: int = 30, batch: int = 2) -> dict[str, Any]:
    case = networks.Case("t", lambda: net, steps=steps)
    return case.inputs(net)


def test_registered_through_the_entry_point_without_importing_jax() -> None:
    # Only this plugin is registered: another plugin's imports are not under test here.
    code = (
        "import sys, importlib.metadata as md, neuropil\n"
        "from neuropil import _builtins\n"
        "eps = [e for e in md.entry_points(group='neuropil') if e.name == 'jax']\n"
        "assert eps and eps[0].value == 'neuropil_jax.plugin', eps\n"
        "reg = neuropil.Registry(discover=False)\n"
        "reg.register_plugin(_builtins, 'builtins')\n"
        "assert not reg.register_plugin(eps[0].load(), 'jax')\n"
        "assert 'jax' in reg.names('backend'), reg.names('backend')\n"
        "assert 'jax' not in sys.modules and 'torch' not in sys.modules\n"
        "b = reg.create('backend', 'jax')\n"
        "assert type(b).__name__ == 'JaxBackend' and 'jax' in sys.modules\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_neuropil_compile_by_name_matches_reference() -> None:
    net = networks.feedforward_recurrent("lif", "exponential")
    inputs = _inputs(net)
    got = neuropil.compile(net, backend="jax", dtype="float64").run(inputs)
    ref = NumpyBackend().compile(net).run(inputs)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, atol=1e-12)


def test_float32_computes_in_float32_and_agrees_closely() -> None:
    net = networks.feedforward_recurrent("lif", "delta")
    inputs = _inputs(net)
    sim = JaxBackend().compile(net, dtype="float32")
    got = sim.run(inputs)
    ref = NumpyBackend().compile(net, dtype="float32").run(inputs)
    assert all(v.dtype == np.float32 for v in got.recordings.values())
    agree = np.mean([np.mean(got[k] == ref[k]) for k in ref if k.endswith("spikes")])
    assert agree > 0.99


def test_second_run_reuses_the_compiled_loop() -> None:
    net = networks.feedforward_recurrent("lif", "delta")
    sim = JaxBackend().compile(net, dtype="float64")
    inputs = _inputs(net)
    sim.run(inputs)
    cached: Any = sim._run  # a jax.jit function; _cache_size is jax's own introspection
    before = cached._cache_size()
    sim.set_parameters({"a.v_th": 0.9, "in->a.weights": sim.get_parameters()["in->a.weights"] * 2})
    sim.run(inputs)
    assert cached._cache_size() == before


def test_plastic_weights_persist_and_match_reference() -> None:
    net = networks.plastic("stdp", "dense")
    key = next(f"{p.name}.weights" for p in net.projections if p.plasticity is not None)
    inputs = _inputs(net, steps=60)
    sim = JaxBackend().compile(net, dtype="float64")
    ref = NumpyBackend().compile(networks.plastic("stdp", "dense"))
    start = sim.get_parameters()[key]
    sim.run(inputs)
    ref.run(inputs)
    learned = sim.get_parameters()[key]
    assert not np.allclose(learned, start)
    np.testing.assert_allclose(learned, ref.get_parameters()[key], rtol=1e-9, atol=1e-12)
    # a second run starts from the learned weights, as the reference engine's does
    again, ref_again = sim.run(inputs), ref.run(inputs)
    for probe in ref_again:
        np.testing.assert_allclose(again[probe], ref_again[probe], rtol=1e-9, atol=1e-12)


def test_zero_steps_and_missing_inputs() -> None:
    net = networks.feedforward_recurrent("lif", "delta")
    sim = JaxBackend().compile(net, dtype="float64")
    empty = sim.run({}, steps=0)
    assert all(v.shape[0] == 0 for v in empty.recordings.values())
    quiet = sim.run({}, steps=5)
    ref = NumpyBackend().compile(net).run({}, steps=5)
    for key in ref:
        np.testing.assert_array_equal(quiet[key], ref[key])


@pytest.mark.parametrize(
    ("inputs", "steps", "message"),
    [
        ({"inn": np.zeros((3, 1, 10))}, None, "no input named 'inn'; did you mean 'in'"),
        ({"in": np.zeros((3, 1, 7))}, None, "input 'in' must be \\[T, B, 10\\]"),
        ({"in": np.full((3, 1, 10), np.nan)}, None, "NaN"),
        ({}, None, "give steps=T"),
        ({"in": np.zeros((3, 1, 10))}, 5, "has 3 steps but the run asks for 5"),
    ],
)
def test_bad_inputs_are_refused(inputs: Mapping[str, Any], steps: int | None, message: str) -> None:
    sim = JaxBackend().compile(networks.feedforward_recurrent("lif", "delta"))
    with pytest.raises(EngineError, match=message):
        sim.run(inputs, steps=steps)


def test_set_parameters_refuses_and_explains() -> None:
    net = networks.feedforward_recurrent("lif", "delta")
    sim = JaxBackend().compile(net)
    with pytest.raises(EngineError, match=r"no parameter named 'a\.v_thr'; did you mean 'a\.v_th'"):
        sim.set_parameters({"a.v_thr": 1.0})
    with pytest.raises(EngineError, match="delays are fixed at compile time"):
        sim.set_parameters({"in->a.delay": 2})
    with pytest.raises(EngineError, match=r"'a\.tau_mem' must lie in"):
        sim.set_parameters({"a.tau_mem": -1.0})


def test_unsupported_dtype_and_device() -> None:
    net = networks.feedforward_recurrent("lif", "delta")
    with pytest.raises(EngineError, match="supports dtype 'float32' or 'float64', got 'float16'"):
        JaxBackend().compile(net, dtype="float16")
    with pytest.raises(EngineError, match="has no device 'cpu:7'"):
        JaxBackend().compile(net, device="cpu:7")
    sim = JaxBackend().compile(net, device="cpu")
    assert sim.run({}, steps=2).steps == 2


def test_ops_spike_uses_the_surrogate_gradient() -> None:
    ops = JaxOps("float32")
    surrogate = neuropil.get_registry().surrogate("fast_sigmoid").bind(slope=10.0)
    x = jnp.asarray([-0.2, 0.0, 0.3], dtype=jnp.float32)
    assert ops.spike(x, surrogate).tolist() == [0.0, 0.0, 1.0]
    grad = jax.grad(lambda v: ops.sum(ops.spike(v, surrogate)))(x)
    np.testing.assert_allclose(grad, 1 / (1 + 10 * np.abs(np.asarray(x))) ** 2, rtol=1e-6)
    _, tangent = jax.jvp(lambda v: ops.spike(v, surrogate), (x,), (jnp.ones(3, jnp.float32),))
    np.testing.assert_allclose(tangent, grad, rtol=1e-6)
    assert ops.spike(x, None).dtype == jnp.float32


def test_ops_random_is_deterministic_per_key() -> None:
    ops = JaxOps("float32")
    a = ops.normal(StepKey(1, 3, 0), (4,))
    assert np.array_equal(a, ops.normal(StepKey(1, 3, 0), (4,)))
    assert not np.array_equal(a, ops.normal(StepKey(1, 4, 0), (4,)))
    u = ops.uniform(7, (100,))
    assert float(u.min()) >= 0.0
    assert float(u.max()) < 1.0
    with pytest.raises(EngineError, match="needs a random key and got None"):
        ops.normal(None, (2,))


def test_ops_refuses_other_dtypes() -> None:
    with pytest.raises(EngineError, match="float32 or float64, got 'int8'"):
        JaxOps("int8")
