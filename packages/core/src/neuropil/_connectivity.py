"""Connectivity helpers: weight layouts, convolution geometry, random draws, update order.

These are the single definitions that the validator, :func:`neuropil.resolve`, the reference
engine and the tests share, so that every backend sees the same synapses:

* :func:`layout_shape` -- the shape of a projection's weights for its connectivity kind;
* :func:`conv2d_output_shape` / :func:`conv2d_synapses` -- convolution geometry;
* :func:`random_pairs` -- the exact draw of ``random`` connectivity;
* :func:`topological_order` / :func:`find_cycle` -- the within-step update order over
  zero-delay projections;
* :func:`to_dense` -- any resolved projection's effective weights as ``[N_post, N_pre]``.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from neuropil._network import Network
    from neuropil._resolve_types import ResolvedProjection

__all__ = [
    "conv2d_output_shape",
    "conv2d_synapses",
    "fan_in",
    "find_cycle",
    "layout_shape",
    "random_pairs",
    "random_pairs_cached",
    "to_dense",
    "topological_order",
    "zero_delay_edges",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Most uniform draws held in memory at once by :func:`random_pairs`.
_DRAW_BLOCK = 1 << 22


def conv2d_output_shape(
    in_hw: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> tuple[int, int]:
    """The ``(H_out, W_out)`` of a 2-D convolution.

    ``H_out = floor((H + 2 ph - kh) / sh) + 1`` and the same for the width (PyTorch's
    ``Conv2d`` with ``dilation = 1``). A result below 1 means the kernel does not fit.
    """
    (h, w), (kh, kw), (sh, sw), (ph, pw) = in_hw, kernel_size, stride, padding
    return ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)


def layout_shape(
    kind: str,
    pre_size: int,
    post_size: int,
    *,
    nnz: int | None = None,
    pre_shape: tuple[int, ...] | None = None,
    post_shape: tuple[int, ...] | None = None,
    kernel_size: tuple[int, int] | None = None,
) -> tuple[int, ...]:
    """The shape of the weights (and of per-synapse delays and masks) of a projection.

    Args:
        kind: The connectivity kind.
        pre_size: ``N_pre``.
        post_size: ``N_post``.
        nnz: Number of synapses (``sparse``, ``list``, ``random``).
        pre_shape: ``(C_in, H, W)`` (``conv2d``).
        post_shape: ``(C_out, H_out, W_out)`` (``conv2d``).
        kernel_size: ``(kh, kw)`` (``conv2d``).

    Returns:
        ``(N_post, N_pre)`` for ``dense``, ``(nnz,)`` for ``sparse``/``list``/``random``,
        ``(N,)`` for ``one_to_one`` and ``(C_out, C_in, kh, kw)`` for ``conv2d``.

    Raises:
        ValueError: if ``kind`` is unknown or a field the kind needs is missing.
    """
    if kind == "dense":
        return (post_size, pre_size)
    if kind in ("sparse", "list", "random"):
        if nnz is None:
            raise ValueError(f"{kind} connectivity needs the number of synapses")
        return (nnz,)
    if kind == "one_to_one":
        return (post_size,)
    if kind == "conv2d":
        if pre_shape is None or post_shape is None or kernel_size is None:
            raise ValueError("conv2d connectivity needs pre_shape, post_shape and kernel_size")
        return (post_shape[0], pre_shape[0], kernel_size[0], kernel_size[1])
    raise ValueError(f"unknown connectivity kind {kind!r}")


def fan_in(
    kind: str,
    pre_size: int,
    post_size: int,
    *,
    nnz: int | None = None,
    pre_shape: tuple[int, ...] | None = None,
    kernel_size: tuple[int, int] | None = None,
) -> float:
    """The fan-in used by the Kaiming initialisers.

    ``dense``: ``N_pre``; ``conv2d``: ``C_in * kh * kw``; ``sparse``/``list``/``random``: the
    mean in-degree ``max(1, nnz / N_post)``; ``one_to_one``: 1.
    """
    if kind == "dense":
        return float(max(1, pre_size))
    if kind == "conv2d":
        if pre_shape is None or kernel_size is None:
            raise ValueError("conv2d fan-in needs pre_shape and kernel_size")
        return float(max(1, pre_shape[0] * kernel_size[0] * kernel_size[1]))
    if kind in ("sparse", "list", "random"):
        if nnz is None:
            raise ValueError(f"{kind} fan-in needs the number of synapses")
        return max(1.0, nnz / max(1, post_size))
    if kind == "one_to_one":
        return 1.0
    raise ValueError(f"unknown connectivity kind {kind!r}")


def random_pairs(
    p: float,
    seed: int,
    pre_size: int,
    post_size: int,
    *,
    same_population: bool = False,
    allow_autapses: bool = False,
) -> tuple[I64, I64]:
    """The synapses of ``random`` connectivity (PyNN's ``FixedProbabilityConnector``).

    The draw, exactly (so that any tool can reproduce it): ``rng =
    numpy.random.Generator(numpy.random.PCG64(seed))``; for each post-synaptic neuron ``j`` in
    order, draw ``N_pre`` doubles ``u = rng.random(N_pre)``; pre-synaptic neuron ``i`` connects
    to ``j`` when ``u[i] < p``. When ``same_population`` and not ``allow_autapses``, ``i == j``
    never connects (its draw is still consumed).

    Returns:
        ``(pre_idx, post_idx)``, int64 ``[nnz]`` each, sorted by ``(post, pre)``.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    rows = max(1, _DRAW_BLOCK // max(1, pre_size))
    pre_parts: list[I64] = []
    post_parts: list[I64] = []
    for start in range(0, post_size, rows):
        stop = min(post_size, start + rows)
        hit = rng.random((stop - start, pre_size)) < p
        if same_population and not allow_autapses:
            j = np.arange(start, stop)
            inside = j < pre_size
            hit[(j - start)[inside], j[inside]] = False
        post_local, pre_idx = np.nonzero(hit)
        pre_parts.append(pre_idx.astype(np.int64))
        post_parts.append((post_local + start).astype(np.int64))
    if not pre_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pre_parts), np.concatenate(post_parts)


@functools.lru_cache(maxsize=8)
def random_pairs_cached(
    p: float,
    seed: int,
    pre_size: int,
    post_size: int,
    same_population: bool,
    allow_autapses: bool,
) -> tuple[I64, I64]:
    """:func:`random_pairs`, memoised: validation and resolution draw the same pairs once.

    Returns:
        Read-only ``(pre_idx, post_idx)`` shared between callers; copy them before handing
        them out.
    """
    pre, post = random_pairs(
        p,
        seed,
        pre_size,
        post_size,
        same_population=same_population,
        allow_autapses=allow_autapses,
    )
    pre.flags.writeable = False
    post.flags.writeable = False
    return pre, post


def conv2d_synapses(
    pre_shape: tuple[int, ...],
    post_shape: tuple[int, ...],
    kernel_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> tuple[I64, I64, I64]:
    """Every synapse of a 2-D convolution, by explicit index computation.

    Output neuron ``(co, y, x)`` receives from input neuron ``(ci, y*sh - ph + ky,
    x*sw - pw + kx)`` with weight ``W[co, ci, ky, kx]`` whenever that input lies inside the
    image (zero padding contributes nothing). Neurons are numbered in C order of their shapes.

    Returns:
        ``(post_idx, pre_idx, weight_idx)``, int64 ``[n_synapses]``: flat indices of the post
        neuron, the pre neuron and the weight in ``W.ravel()``.
    """
    c_in, h, w = (int(s) for s in pre_shape)
    c_out, h_out, w_out = (int(s) for s in post_shape)
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    co, ci, ky, kx, y, x = np.meshgrid(
        np.arange(c_out),
        np.arange(c_in),
        np.arange(kh),
        np.arange(kw),
        np.arange(h_out),
        np.arange(w_out),
        indexing="ij",
    )
    iy = y * sh - ph + ky
    ix = x * sw - pw + kx
    inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    co, ci, ky, kx, y, x, iy, ix = (a[inside] for a in (co, ci, ky, kx, y, x, iy, ix))
    post_idx = (co * h_out + y) * w_out + x
    pre_idx = (ci * h + iy) * w + ix
    weight_idx = ((co * c_in + ci) * kh + ky) * kw + kx
    return post_idx.astype(np.int64), pre_idx.astype(np.int64), weight_idx.astype(np.int64)


def to_dense(proj: ResolvedProjection) -> F64:
    """The effective weights (mask applied) of a resolved projection as ``[N_post, N_pre]``.

    Several synapses between one pair of neurons (a repeated sparse index) add up.
    """
    n_post, n_pre = proj.post_size, proj.pre_size
    weights = np.asarray(proj.weights, dtype=np.float64)
    if proj.mask is not None:
        weights = weights * proj.mask
    if proj.kind == "dense":
        return weights.reshape(n_post, n_pre).copy()
    out = np.zeros((n_post, n_pre), dtype=np.float64)
    if proj.kind == "one_to_one":
        idx = np.arange(n_post)
        out[idx, idx] = weights
    elif proj.kind == "sparse":
        if proj.pre_idx is None or proj.post_idx is None:
            raise ValueError(f"sparse projection {proj.name!r} has no indices")
        np.add.at(out, (proj.post_idx, proj.pre_idx), weights)
    elif proj.kind == "conv2d":
        if proj.kernel_size is None:
            raise ValueError(f"conv2d projection {proj.name!r} has no kernel_size")
        post_idx, pre_idx, w_idx = conv2d_synapses(
            proj.pre_shape, proj.post_shape, proj.kernel_size, proj.stride, proj.padding
        )
        np.add.at(out, (post_idx, pre_idx), weights.ravel()[w_idx])
    else:
        raise ValueError(f"projection {proj.name!r} has unresolved kind {proj.kind!r}")
    return out


def find_cycle(nodes: Sequence[str], edges: Sequence[tuple[str, str, Any]]) -> list[Any] | None:
    """A directed cycle among ``edges``, as the labels of its edges in order, or ``None``.

    Args:
        nodes: Node names in declaration order (the search starts from them in that order).
        edges: ``(source, target, label)`` triples; a self-loop is a cycle of one edge.
    """
    out: dict[str, list[tuple[str, Any]]] = {n: [] for n in nodes}
    for src, dst, label in edges:
        out.setdefault(src, []).append((dst, label))
        out.setdefault(dst, [])
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(out, white)
    for root in out:
        if colour[root] != white:
            continue
        # Iterative DFS: the path holds (node, edge label that led here, next-edge cursor).
        stack: list[tuple[str, Any, int]] = [(root, None, 0)]
        colour[root] = grey
        while stack:
            node, via, cursor = stack[-1]
            if cursor == len(out[node]):
                colour[node] = black
                stack.pop()
                continue
            stack[-1] = (node, via, cursor + 1)
            nxt, label = out[node][cursor]
            if colour[nxt] == grey:
                start = next(k for k, entry in enumerate(stack) if entry[0] == nxt)
                return [entry[1] for entry in stack[start + 1 :]] + [label]
            if colour[nxt] == white:
                colour[nxt] = grey
                stack.append((nxt, label, 0))
    return None


def topological_order(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[str]:
    """``nodes`` sorted so that every edge's source comes before its target.

    Among the nodes that are ready at any point, the one declared first goes first, so a
    network without zero-delay projections keeps its declaration order. Edges to or from names
    not in ``nodes`` are ignored.

    Raises:
        ValueError: if the edges form a cycle (see :func:`find_cycle` to name it).
    """
    position = {n: k for k, n in enumerate(nodes)}
    indegree = [0] * len(nodes)
    succ: list[list[int]] = [[] for _ in nodes]
    for src, dst in edges:
        if src in position and dst in position:
            succ[position[src]].append(position[dst])
            indegree[position[dst]] += 1
    ready = [k for k, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(nodes[k])
        for m in succ[k]:
            indegree[m] -= 1
            if indegree[m] == 0:
                heapq.heappush(ready, m)
    if len(order) != len(nodes):
        placed = set(order)
        stuck = [n for n in nodes if n not in placed]
        raise ValueError(f"the zero-delay projections form a cycle through {stuck}")
    return order


def zero_delay_edges(network: Network) -> list[tuple[str, str, int]]:
    """``(pre, post, projection index)`` of the projections between populations that deliver
    within the same step (delay 0 on any synapse)."""
    pops = {p.name for p in network.populations}
    edges = []
    for k, proj in enumerate(network.projections):
        zero = bool(np.any(np.asarray(proj.delay) == 0))
        if zero and proj.pre in pops and proj.post in pops:
            edges.append((proj.pre, proj.post, k))
    return edges
