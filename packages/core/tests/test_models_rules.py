"""The standard learning rules stepped with NumpyOps on a dense SynapseView."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import LearningRule, StepContext
from neuropil.errors import EngineError
from neuropil.models import OJA, STDP
from neuropil.reference._ops import NumpyOps

Arr = npt.NDArray[Any]
DT = 1e-3


class DenseView:
    """Dense projection: synapses [B, N_post, N_pre]."""

    def pre(self, x: Arr) -> Arr:
        return x[:, None, :]

    def post(self, x: Arr) -> Arr:
        return x[:, :, None]


VIEW = DenseView()


def defaults(rule: LearningRule, **overrides: float) -> dict[str, float]:
    params = {name: p.default for name, p in rule.params.items()}
    params.update(overrides)
    return params


def traces(rule: LearningRule, batch: int, n_pre: int, n_post: int) -> dict[str, Arr]:
    out = {k: np.full((batch, n_pre), float(v.initial({}))) for k, v in rule.pre_state.items()}
    out.update(
        {k: np.full((batch, n_post), float(v.initial({}))) for k, v in rule.post_state.items()}
    )
    return out


def run(
    rule: LearningRule,
    params: dict[str, float],
    w: Arr,
    pre: Arr,
    post: Arr,
    options: dict[str, Any] | None = None,
    dtype: Any = np.float64,
) -> tuple[Arr, dict[str, Arr]]:
    """Step ``rule`` over ``pre`` [T, B, N_pre] and ``post`` [T, B, N_post]; final (w, traces)."""
    ops = NumpyOps(dtype)
    state = {
        k: v.astype(dtype)
        for k, v in traces(rule, pre.shape[1], pre.shape[2], post.shape[2]).items()
    }
    w = w.astype(dtype)
    ctx = StepContext(dt=DT)
    for t in range(pre.shape[0]):
        state, w = rule.step(
            ops,
            params,
            options or {},
            state,
            w,
            pre[t].astype(dtype),
            post[t].astype(dtype),
            VIEW,
            ctx,
        )
    return w, state


def pair(t_pre: int, t_post: int, steps: int) -> tuple[Arr, Arr]:
    pre = np.zeros((steps, 1, 1))
    post = np.zeros((steps, 1, 1))
    pre[t_pre] = 1.0
    post[t_post] = 1.0
    return pre, post


STDP_PARAMS = {"a_plus": 0.01, "a_minus": 0.012, "tau_plus": 20e-3, "tau_minus": 30e-3}


@pytest.mark.parametrize(("t_pre", "t_post"), [(5, 5), (5, 6), (3, 20), (10, 4), (8, 7), (0, 0)])
def test_stdp_single_pair_is_the_classic_window(t_pre: int, t_post: int) -> None:
    w0 = 0.5
    pre, post = pair(t_pre, t_post, 25)
    w, _ = run(STDP, defaults(STDP, **STDP_PARAMS), np.full((1, 1), w0), pre, post)
    if t_post >= t_pre:
        expected = 0.01 * math.exp(-(t_post - t_pre) * DT / 20e-3)
    else:
        expected = -0.012 * math.exp(-(t_pre - t_post) * DT / 30e-3)
    np.testing.assert_allclose(w - w0, [[expected]], rtol=1e-12)


def test_stdp_multiplicative_scales_by_the_distance_to_the_bounds() -> None:
    params = defaults(STDP, **STDP_PARAMS, w_min=0.1, w_max=0.9)
    w0 = np.full((1, 1), 0.7)
    opts = {"weight_dependence": "multiplicative"}
    w, _ = run(STDP, params, w0, *pair(2, 6, 10), opts)
    np.testing.assert_allclose(
        w - 0.7, [[0.01 * math.exp(-4 * DT / 20e-3) * (0.9 - 0.7)]], rtol=1e-12
    )
    w, _ = run(STDP, params, w0, *pair(6, 2, 10), opts)
    np.testing.assert_allclose(
        w - 0.7, [[-0.012 * math.exp(-4 * DT / 30e-3) * (0.7 - 0.1)]], rtol=1e-12
    )


def test_stdp_all_to_all_pairs_add_up() -> None:
    # Two pre spikes (steps 1 and 3) then one post spike (step 6): both pairs potentiate.
    pre = np.zeros((8, 1, 1))
    post = np.zeros((8, 1, 1))
    pre[[1, 3]] = 1.0
    post[6] = 1.0
    w, st = run(STDP, defaults(STDP, **STDP_PARAMS), np.full((1, 1), 0.5), pre, post)
    expected = 0.01 * (math.exp(-5 * DT / 20e-3) + math.exp(-3 * DT / 20e-3))
    np.testing.assert_allclose(w - 0.5, [[expected]], rtol=1e-12)
    # The traces: x = e^{-6/20} + e^{-4/20} (decayed to the last step 7), y = e^{-1/30}.
    np.testing.assert_allclose(st["x"], [[math.exp(-6 / 20) + math.exp(-4 / 20)]], rtol=1e-12)
    np.testing.assert_allclose(st["y"], [[math.exp(-1 / 30)]], rtol=1e-12)


def test_stdp_clips_and_averages_over_the_batch() -> None:
    # Batch 0 potentiates by a_plus, batch 1 depresses by a_minus e^{-1/30}: the mean is applied.
    pre = np.zeros((4, 2, 1))
    post = np.zeros((4, 2, 1))
    pre[1, 0] = post[1, 0] = 1.0
    post[1, 1], pre[2, 1] = 1.0, 1.0
    w, _ = run(STDP, defaults(STDP, **STDP_PARAMS), np.full((1, 1), 0.5), pre, post)
    expected = (0.01 - 0.012 * math.exp(-1 / 30)) / 2
    np.testing.assert_allclose(w - 0.5, [[expected]], rtol=1e-12)
    w, _ = run(STDP, defaults(STDP, **STDP_PARAMS), np.full((1, 1), 0.995), *pair(1, 1, 3))
    np.testing.assert_array_equal(w, [[1.0]])
    w, _ = run(STDP, defaults(STDP, **STDP_PARAMS), np.full((1, 1), 0.005), *pair(2, 1, 3))
    np.testing.assert_array_equal(w, [[0.0]])


def test_stdp_dense_layout_pairs_the_right_neurons() -> None:
    # 2 pre, 3 post: pre 1 fires at step 1, post 2 at step 3; only w[2, 1] changes.
    pre = np.zeros((5, 1, 2))
    post = np.zeros((5, 1, 3))
    pre[1, 0, 1] = 1.0
    post[3, 0, 2] = 1.0
    w0 = np.full((3, 2), 0.5)
    w, st = run(STDP, defaults(STDP, **STDP_PARAMS), w0, pre, post)
    expected = w0.copy()
    expected[2, 1] += 0.01 * math.exp(-2 * DT / 20e-3)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    assert st["x"].shape == (1, 2)
    assert st["y"].shape == (1, 3)


def test_stdp_is_pure_and_keeps_float32() -> None:
    ops = NumpyOps(np.float32)
    rng = np.random.default_rng(0)
    state = {
        "x": rng.uniform(0, 1, (2, 4)).astype(np.float32),
        "y": rng.uniform(0, 1, (2, 3)).astype(np.float32),
    }
    w = rng.uniform(0, 1, (3, 4)).astype(np.float32)
    pre = (rng.uniform(size=(2, 4)) < 0.5).astype(np.float32)
    post = (rng.uniform(size=(2, 3)) < 0.5).astype(np.float32)
    frozen = {k: v.copy() for k, v in state.items()}
    w_before = w.copy()
    for arr in (*state.values(), w, pre, post):
        arr.setflags(write=False)
    for dependence in ("additive", "multiplicative"):
        new, new_w = STDP.step(
            ops,
            defaults(STDP),
            {"weight_dependence": dependence},
            state,
            w,
            pre,
            post,
            VIEW,
            StepContext(DT),
        )
        assert new_w.dtype == np.float32
        assert new_w.shape == (3, 4)
        assert all(v.dtype == np.float32 for v in new.values())
    np.testing.assert_array_equal(w, w_before)
    for k, v in state.items():
        np.testing.assert_array_equal(v, frozen[k])


def test_stdp_unknown_option_is_refused() -> None:
    with pytest.raises(EngineError, match="stdp: option weight_dependence='soft' is not one of"):
        run(
            STDP,
            defaults(STDP),
            np.full((1, 1), 0.5),
            *pair(0, 0, 1),
            {"weight_dependence": "soft"},
        )


def test_oja_traces_and_one_update_by_hand() -> None:
    # tau = dt / ln 2: k = 1/2. Step 0: x = 0.5 * [1, 2] = [0.5, 1], y = 0.5 * 1 = 0.5;
    # dw = 0.1 (y x - y^2 w) = 0.1 ([0.25, 0.5] - 0.25 [1, 0.5]) = [0, 0.0375].
    params = {"eta": 0.1, "tau": DT / math.log(2)}
    pre = np.array([[[1.0, 2.0]]])
    post = np.array([[[1.0]]])
    w, st = run(OJA, params, np.array([[1.0, 0.5]]), pre, post)
    np.testing.assert_allclose(st["x"], [[0.5, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(st["y"], [[0.5]], rtol=1e-12)
    np.testing.assert_allclose(w, [[1.0, 0.5375]], rtol=1e-12)


def test_oja_converges_to_the_unit_principal_eigenvector() -> None:
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    cov = q @ np.diag([3.0, 1.0, 0.5]) @ q.T
    chol = np.linalg.cholesky(cov)
    ops = NumpyOps(np.float64)
    params = {"eta": 0.01, "tau": 1e-6}  # k = 1: the rule sees the instantaneous activity
    state = traces(OJA, 32, 3, 1)
    w = rng.normal(size=(1, 3)) * 0.1
    ctx = StepContext(DT)
    for _ in range(2000):
        x = rng.normal(size=(32, 3)) @ chol.T
        y = x @ w.T  # a linear post neuron
        state, w = OJA.step(ops, params, {}, state, w, x, y, VIEW, ctx)
    principal = q[:, 0]
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.03)
    assert abs(float(w[0] @ principal)) / np.linalg.norm(w) > 0.995


def test_rules_declare_scalar_params_and_traces() -> None:
    for rule in (STDP, OJA):
        assert all(not p.per_neuron for p in rule.params.values()), rule.name
        assert set(rule.pre_state) == {"x"}
        assert set(rule.post_state) == {"y"}
        assert set(rule.schema.state) == {"x", "y"}
