"""Golden trajectories of the standard synapse models, stepped with NumpyOps."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from neuropil import StepContext, SynapseModel
from neuropil.errors import EngineError
from neuropil.models import DELTA, EXPONENTIAL
from neuropil.reference._ops import NumpyOps

DT = 1e-3
HALF = DT / math.log(2)  # exp(-DT / HALF) == 0.5


def run(
    model: SynapseModel, params: dict[str, Any], arriving: list[float], dtype: Any = np.float64
) -> tuple[np.ndarray[Any, Any], dict[str, np.ndarray[Any, Any]]]:
    ops = NumpyOps(dtype)
    state = {name: np.full((1, 1), var.init, dtype=dtype) for name, var in model.state.items()}
    ctx = StepContext(dt=DT)
    currents = []
    for a in arriving:
        state, current = model.step(ops, params, {}, state, np.full((1, 1), a, dtype=dtype), ctx)
        currents.append(current)
    return np.stack(currents)[:, 0, 0], state


def test_delta_passes_the_arriving_current_through() -> None:
    currents, state = run(DELTA, {}, [2.0, 0.0, -1.5])
    np.testing.assert_array_equal(currents, [2.0, 0.0, -1.5])
    assert state == {}
    assert DELTA.state == {}


def test_exponential_jumps_by_the_weight_and_decays() -> None:
    # A spike of weight 2 at step 0 and of weight 1 at step 3: i' = i / 2 + arriving.
    currents, state = run(EXPONENTIAL, {"tau_syn": HALF}, [2.0, 0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(currents, [2.0, 1.0, 0.5, 1.25, 0.625], rtol=1e-12)
    np.testing.assert_allclose(state["i"], [[0.625]], rtol=1e-12)


def test_exponential_decays_with_its_time_constant() -> None:
    currents, _ = run(EXPONENTIAL, {"tau_syn": 5e-3}, [1.0] + [0.0] * 9)
    np.testing.assert_allclose(currents, np.exp(-np.arange(10) * DT / 5e-3), rtol=1e-12)


def test_exponential_per_neuron_tau_and_float32() -> None:
    ops = NumpyOps(np.float32)
    tau = np.array([HALF, DT / math.log(4)])
    state = {"i": np.array([[1.0, 1.0]], dtype=np.float32)}
    arriving = np.array([[0.5, 0.5]], dtype=np.float32)
    for arr in (tau, state["i"], arriving):
        arr.setflags(write=False)
    new, current = EXPONENTIAL.step(ops, {"tau_syn": tau}, {}, state, arriving, StepContext(DT))
    np.testing.assert_allclose(current, [[1.0, 0.75]], rtol=1e-6)
    assert current.dtype == np.float32
    assert new["i"].dtype == np.float32
    np.testing.assert_array_equal(state["i"], [[1.0, 1.0]])


def test_exponential_missing_param_is_explained() -> None:
    ops = NumpyOps(np.float64)
    with pytest.raises(EngineError, match="exponential: parameter 'tau_syn' is missing"):
        EXPONENTIAL.step(ops, {}, {}, {"i": np.zeros((1, 1))}, np.zeros((1, 1)), StepContext(DT))
