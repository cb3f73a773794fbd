"""Connectivity helpers: layouts, convolution geometry, random draws, update order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from neuropil import Network
from neuropil._connectivity import (
    conv2d_output_shape,
    conv2d_synapses,
    find_cycle,
    layout_shape,
    random_pairs,
    to_dense,
    topological_order,
    zero_delay_edges,
)
from neuropil._resolve_types import ResolvedProjection


def test_layout_shapes() -> None:
    assert layout_shape("dense", 3, 2) == (2, 3)
    assert layout_shape("sparse", 3, 2, nnz=5) == (5,)
    assert layout_shape("random", 3, 2, nnz=0) == (0,)
    assert layout_shape("one_to_one", 4, 4) == (4,)
    assert layout_shape(
        "conv2d", 50, 36, pre_shape=(2, 5, 5), post_shape=(4, 3, 3), kernel_size=(3, 2)
    ) == (4, 2, 3, 2)
    with pytest.raises(ValueError, match="needs the number of synapses"):
        layout_shape("list", 1, 1)


@pytest.mark.parametrize(
    ("hw", "k", "s", "p", "out"),
    [
        ((5, 5), (3, 3), (1, 1), (0, 0), (3, 3)),
        ((5, 6), (3, 3), (2, 2), (1, 1), (3, 3)),
        ((28, 28), (5, 5), (1, 1), (2, 2), (28, 28)),
        ((4, 4), (5, 5), (1, 1), (0, 0), (0, 0)),
    ],
)
def test_conv2d_output_shape(hw, k, s, p, out) -> None:  # type: ignore[no-untyped-def]
    assert conv2d_output_shape(hw, k, s, p) == out


def _conv_reference(
    x: np.ndarray, w: np.ndarray, stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """A plain loop convolution (cross-correlation, PyTorch's Conv2d)."""
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (padding[0],) * 2, (padding[1],) * 2))
    h_out = (xp.shape[1] - kh) // stride[0] + 1
    w_out = (xp.shape[2] - kw) // stride[1] + 1
    out = np.zeros((c_out, h_out, w_out))
    for co in range(c_out):
        for y in range(h_out):
            for xx in range(w_out):
                patch = xp[
                    :, y * stride[0] : y * stride[0] + kh, xx * stride[1] : xx * stride[1] + kw
                ]
                out[co, y, xx] = np.sum(patch * w[co])
    return out


@pytest.mark.parametrize(("stride", "padding"), [((1, 1), (0, 0)), ((2, 1), (1, 2))])
def test_conv2d_to_dense_matches_a_loop_convolution(stride, padding) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    pre_shape = (2, 6, 5)
    in_hw = (6, 5)
    w = rng.normal(size=(3, 2, 3, 2))
    h_out, w_out = conv2d_output_shape(in_hw, (3, 2), stride, padding)
    post_shape = (3, h_out, w_out)
    proj = ResolvedProjection(
        name="c",
        pre="a",
        post="b",
        pre_size=60,
        post_size=int(np.prod(post_shape)),
        pre_shape=pre_shape,
        post_shape=post_shape,
        kind="conv2d",
        synapse=None,  # type: ignore[arg-type]
        synapse_params={},
        synapse_options={},
        weights=w,
        delay=np.array(1),
        max_delay=1,
        kernel_size=(3, 2),
        stride=stride,
        padding=padding,
    )
    dense = to_dense(proj)
    x = rng.normal(size=pre_shape)
    np.testing.assert_allclose(dense @ x.ravel(), _conv_reference(x, w, stride, padding).ravel())
    post_idx, pre_idx, w_idx = conv2d_synapses(pre_shape, post_shape, (3, 2), stride, padding)
    assert post_idx.dtype == pre_idx.dtype == w_idx.dtype == np.int64
    assert np.count_nonzero(dense) == post_idx.size


def test_to_dense_sparse_one_to_one_and_mask() -> None:
    base: dict[str, Any] = {
        "name": "p",
        "pre": "a",
        "post": "b",
        "pre_size": 3,
        "post_size": 2,
        "pre_shape": (3,),
        "post_shape": (2,),
        "synapse": None,
        "synapse_params": {},
        "synapse_options": {},
        "delay": np.array(1),
        "max_delay": 1,
    }
    sparse = ResolvedProjection(
        kind="sparse",
        weights=np.array([1.0, 2.0, 3.0]),
        pre_idx=np.array([0, 2, 2]),
        post_idx=np.array([1, 0, 0]),
        **base,
    )
    np.testing.assert_array_equal(to_dense(sparse), [[0, 0, 5.0], [1.0, 0, 0]])
    dense = ResolvedProjection(
        kind="dense",
        weights=np.arange(6.0, dtype=np.float64).reshape(2, 3),
        mask=np.array([[True, False, True], [True, True, False]]),
        **base,
    )
    np.testing.assert_array_equal(to_dense(dense), [[0, 0, 2], [3, 4, 0]])
    base.update(pre_size=2, pre_shape=(2,))
    one = ResolvedProjection(kind="one_to_one", weights=np.array([7.0, 8.0]), **base)
    np.testing.assert_array_equal(to_dense(one), [[7, 0], [0, 8]])


def test_random_pairs_is_the_documented_draw() -> None:
    pre, post = random_pairs(0.3, 11, 7, 5)
    u = np.random.Generator(np.random.PCG64(11)).random((5, 7))
    post_ref, pre_ref = np.nonzero(u < 0.3)
    np.testing.assert_array_equal(pre, pre_ref)
    np.testing.assert_array_equal(post, post_ref)
    assert pre.dtype == post.dtype == np.int64
    keys = post * 7 + pre
    assert np.all(np.diff(keys) > 0)  # sorted by (post, pre)


def test_random_pairs_autapses_and_block_independence(monkeypatch: pytest.MonkeyPatch) -> None:
    pre, post = random_pairs(1.0, 0, 4, 4, same_population=True)
    assert pre.size == 12
    assert not np.any(pre == post)
    pre, post = random_pairs(1.0, 0, 4, 4, same_population=True, allow_autapses=True)
    assert pre.size == 16
    whole = random_pairs(0.5, 3, 9, 13, same_population=True)
    import neuropil._connectivity as conn

    monkeypatch.setattr(conn, "_DRAW_BLOCK", 10)  # one row per block: same stream, same pairs
    blocked = random_pairs(0.5, 3, 9, 13, same_population=True)
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_array_equal(whole[1], blocked[1])
    empty = random_pairs(0.0, 0, 3, 0)
    assert empty[0].shape == (0,)


def test_topological_order_keeps_declaration_order_on_ties() -> None:
    assert topological_order(["a", "b", "c"], []) == ["a", "b", "c"]
    assert topological_order(["a", "b", "c", "d"], [("c", "a"), ("d", "b")]) == ["c", "a", "d", "b"]
    with pytest.raises(ValueError, match=r"cycle through \['a', 'b'\]"):
        topological_order(["a", "b", "c"], [("a", "b"), ("b", "a")])


def test_find_cycle_returns_the_edges_in_order() -> None:
    assert find_cycle(["a", "b"], [("a", "b", 0)]) is None
    assert find_cycle(["a"], [("a", "a", "self")]) == ["self"]
    edges = [("x", "a", 0), ("a", "b", 1), ("b", "c", 2), ("c", "a", 3)]
    assert find_cycle(["x", "a", "b", "c"], edges) == [1, 2, 3]


def test_zero_delay_edges() -> None:
    net = Network()
    net.input("in", 2)
    net.population("a", 2, "lif")
    net.population("b", 2, "lif")
    net.connect("in", "a", delay=0)
    net.connect("a", "b", delay=0)
    net.connect("b", "a", delay=1)
    net.connect("b", "a", delay=[[1, 0], [1, 1]])
    assert zero_delay_edges(net) == [("a", "b", 1), ("b", "a", 3)]
