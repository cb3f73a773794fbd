"""What every engine needs besides its arrays, written once: the checks of what a user hands a
compiled network (the inputs of a run, the values of ``set_parameters``), so that every backend
refuses the same mistakes with the same message, and the per-synapse views learning rules see.
The reference engine, torch and jax all use these."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil._models import SynapseView
from neuropil._ops import Array
from neuropil._resolve_types import ResolvedNetwork, ResolvedProjection
from neuropil.errors import EngineError

__all__ = [
    "DelayGroup",
    "check_input_layout",
    "check_inputs",
    "check_parameter_values",
    "delay_groups",
    "synapse_view",
]

_NUMBER_KINDS = "biuf"


def check_input_layout(
    network: ResolvedNetwork,
    inputs: Mapping[str, tuple[tuple[int, ...], str]],
    steps: int | None,
) -> tuple[int, int]:
    """Check the inputs of a run from their shapes and dtype kinds, whatever arrays hold them.

    Args:
        network: The compiled network.
        inputs: Input name to ``(shape, dtype kind)``; the kind is numpy's one-letter code
            (``"b"``, ``"i"``, ``"u"``, ``"f"``; anything else is refused). Shapes are
            ``[T, B, *shape]``.
        steps: The steps asked for, or ``None`` for the inputs' ``T``.

    Returns:
        ``(steps, batch)``; the batch is 1 without inputs.

    Raises:
        EngineError: an unknown input, a non-numeric dtype, a shape that is not
            ``[T, B, *input shape]``, inputs disagreeing on ``B`` or ``T``, no way to know the
            number of steps, or inputs shorter than ``steps``.
    """
    known = {i.name: i for i in network.inputs}
    batch: int | None = None
    length: int | None = None
    first: str | None = None
    for name, (shape, kind) in inputs.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EngineError(
                f"the network has no input named {name!r}{hint} "
                f"(inputs: {', '.join(sorted(known)) or 'none'})"
            )
        if kind not in _NUMBER_KINDS:
            raise EngineError(
                f"input {name!r} must hold numbers (bool, int or float), got dtype kind {kind!r}"
            )
        spec = known[name]
        if len(shape) < 2 or int(np.prod(shape[2:], dtype=np.int64)) != spec.size:
            raise EngineError(
                f"input {name!r} must be [T, B, {', '.join(map(str, spec.shape))}] "
                f"(time, batch, then {spec.size} channels), got shape {tuple(shape)}"
            )
        if batch is not None and shape[1] != batch:
            raise EngineError(
                f"inputs disagree on the batch size: {name!r} has {shape[1]}, others have {batch}"
            )
        if length is not None and shape[0] != length:
            raise EngineError(
                f"inputs disagree on the number of steps: {name!r} has {shape[0]}, "
                f"{first!r} has {length}; give every input the same T"
            )
        batch, length, first = int(shape[1]), int(shape[0]), first or name
    if steps is None:
        if length is None:
            wanted = ", ".join(
                f"{i.name!r} [T, B, {', '.join(map(str, i.shape))}]" for i in network.inputs
            )
            raise EngineError(
                "no input given, so the number of steps is unknown: "
                + (f"pass the network's inputs ({wanted}), or " if wanted else "")
                + "give steps=T"
                + (" to run with every input at zero" if wanted else "")
            )
        steps = length
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise EngineError(f"steps must be a whole number >= 0, got {steps!r}")
    for name, (shape, _) in inputs.items():
        if shape[0] < steps:
            raise EngineError(f"input {name!r} has {shape[0]} steps but the run asks for {steps}")
    return int(steps), int(batch if batch is not None else 1)


def check_inputs(
    network: ResolvedNetwork, inputs: Mapping[str, npt.ArrayLike], steps: int | None
) -> tuple[dict[str, npt.NDArray[Any]], int, int]:
    """:func:`check_input_layout` for array-likes, plus finiteness; the inputs as numpy arrays
    ``[T, B, size]`` (flattened channels, dtype unchanged), the steps and the batch."""
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    steps, batch = check_input_layout(
        network, {name: (a.shape, a.dtype.kind) for name, a in arrays.items()}, steps
    )
    sizes = {i.name: i.size for i in network.inputs}
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise EngineError(f"input {name!r} contains NaN or infinite values")
        arrays[name] = arr.reshape(arr.shape[0], arr.shape[1], sizes[name])
    return arrays, steps, batch


def check_parameter_values(
    network: ResolvedNetwork,
    shapes: Mapping[str, tuple[int, ...]],
    values: Mapping[str, npt.ArrayLike],
) -> dict[str, npt.NDArray[np.float64]]:
    """Check the values of ``Simulator.set_parameters`` before any is applied (all or none).

    Args:
        network: The compiled network.
        shapes: Every settable parameter's IR name (``pop.param``, ``proj.weights``,
            ``proj.<synapse param>``) to its current shape. Delays (``proj.delay``) are refused
            whether listed or not: they are structural.
        values: What the user sets.

    Returns:
        The values as float64 arrays, by name.

    Raises:
        EngineError: an unknown name (with a did-you-mean), a delay, values that are not finite
            numbers, weights of another shape or on the wrong side of zero for the
            projection's sign, a neuron or synapse parameter that is neither a scalar nor one
            value per neuron, or a value outside its schema's bounds.
    """
    projections = {p.name: p for p in network.projections}
    populations = {p.name: p for p in network.populations}
    checked: dict[str, npt.NDArray[np.float64]] = {}
    for key, value in values.items():
        target, _, name = key.rpartition(".")
        proj = projections.get(target)
        if proj is not None and name == "delay":
            raise EngineError(
                f"delays are fixed at compile time ({key!r}); change them in the network and "
                "compile again"
            )
        if key not in shapes:
            close = difflib.get_close_matches(key, list(shapes), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EngineError(f"no parameter named {key!r}{hint}")
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise EngineError(f"parameter {key!r} must be numbers: {exc}") from exc
        if not np.all(np.isfinite(arr)):
            raise EngineError(f"parameter {key!r} contains NaN or infinite values")
        if proj is not None and name == "weights":
            _check_weights(key, arr, tuple(shapes[key]), proj.sign)
        else:
            if proj is not None:
                size, schema = proj.post_size, proj.synapse.params
            else:
                pop = populations[target]
                size, schema = pop.size, pop.model.params
            if arr.shape not in ((), (size,)):
                raise EngineError(
                    f"parameter {key!r} takes a scalar or {size} values (one per neuron), "
                    f"got shape {arr.shape}"
                )
            spec = schema[name]
            bad = [float(v) for v in arr.reshape(-1) if not spec.contains(float(v))]
            if bad:
                raise EngineError(
                    f"parameter {key!r} must lie in {spec.bounds_text()}, got {bad[0]:g}"
                )
        checked[key] = arr
    return checked


def _check_weights(
    key: str, w: npt.NDArray[np.float64], shape: tuple[int, ...], sign: str | None
) -> None:
    if w.shape != shape:
        raise EngineError(f"parameter {key!r} has shape {shape}, got {w.shape}")
    wrong = (
        int(np.count_nonzero(w < 0))
        if sign == "excitatory"
        else (int(np.count_nonzero(w > 0)) if sign == "inhibitory" else 0)
    )
    if wrong:
        side = ">= 0" if sign == "excitatory" else "<= 0"
        raise EngineError(
            f"parameter {key!r}: the projection is {sign}, so its weights must be {side}; "
            f"{wrong} are not (clip them, or drop the projection's sign constraint)"
        )


class _DenseView:
    """Dense projections: ``[B, N_post, N_pre]`` by broadcasting."""

    def pre(self, x: Array) -> Array:
        return x[:, None, :]

    def post(self, x: Array) -> Array:
        return x[:, :, None]


class _IndexView:
    """Sparse projections: ``[B, nnz]``, gathered by the synapses' neuron indices."""

    def __init__(self, pre_idx: Any, post_idx: Any) -> None:
        self._pre = pre_idx
        self._post = post_idx

    def pre(self, x: Array) -> Array:
        return x[:, self._pre]

    def post(self, x: Array) -> Array:
        return x[:, self._post]


class _IdentityView:
    """One-to-one projections: ``[B, N]``, the neurons' own arrays."""

    def pre(self, x: Array) -> Array:
        return x

    def post(self, x: Array) -> Array:
        return x


def synapse_view(
    proj: ResolvedProjection, index: Callable[[npt.NDArray[np.int64]], Any] = lambda a: a
) -> SynapseView:
    """The :class:`~neuropil.SynapseView` a learning rule on ``proj`` sees.

    Args:
        proj: A resolved projection (dense, one-to-one, or sparse with its indices).
        index: Turns the synapses' ``pre_idx`` / ``post_idx`` (numpy int64) into the engine's
            index arrays (a torch tensor on the right device, say); numpy arrays by default.

    Raises:
        EngineError: plasticity on connectivity that has no per-synapse layout (conv2d).
    """
    if proj.kind == "dense":
        return _DenseView()
    if proj.kind == "one_to_one":
        return _IdentityView()
    if proj.kind == "sparse" and proj.pre_idx is not None and proj.post_idx is not None:
        return _IndexView(index(proj.pre_idx), index(proj.post_idx))
    raise EngineError(
        f"projection {proj.name!r}: plasticity is not supported on {proj.kind!r} connectivity; "
        "use dense, sparse, list or one_to_one"
    )


@dataclass(frozen=True)
class DelayGroup:
    """The synapses of a projection that share one delay.

    A projection with one delay is one group in its own layout (``select`` is ``None``). With
    per-synapse delays each delay's synapses form a ``sparse`` group, which gathers its weights
    from the flattened layout at ``select``, so an engine's work per step is the number of
    synapses, not the synapses times the distinct delays.

    Attributes:
        delay: The delay in steps.
        kind: The projection's connectivity kind, or ``"sparse"`` for a per-delay subset.
        select: Flat indices into the projection's weights (row-major), or ``None``: all.
        pre_idx / post_idx: The synapses' neurons (``[nnz]``), for sparse groups.
    """

    delay: int
    kind: str
    select: npt.NDArray[np.int64] | None
    pre_idx: npt.NDArray[np.int64] | None
    post_idx: npt.NDArray[np.int64] | None


def delay_groups(proj: ResolvedProjection) -> list[DelayGroup]:
    """``proj``'s synapses grouped by delay (see :class:`DelayGroup`).

    Raises:
        EngineError: per-synapse delays on conv2d connectivity, which has no per-synapse
            layout to split.
    """
    delays = np.asarray(proj.delay, dtype=np.int64)
    if delays.ndim == 0:
        return [DelayGroup(int(delays), proj.kind, None, proj.pre_idx, proj.post_idx)]
    groups = []
    for d in np.unique(delays):
        sel = delays == d
        if proj.kind == "dense":
            post, pre = np.nonzero(sel)
        elif proj.kind == "one_to_one":
            pre = post = np.flatnonzero(sel)
        elif proj.pre_idx is not None and proj.post_idx is not None:
            pre, post = proj.pre_idx[sel], proj.post_idx[sel]
        else:
            raise EngineError(
                f"projection {proj.name!r}: per-synapse delays on {proj.kind!r} connectivity; "
                "give it one delay"
            )
        groups.append(
            DelayGroup(
                int(d),
                "sparse",
                np.flatnonzero(sel.reshape(-1)).astype(np.int64),
                pre.astype(np.int64),
                post.astype(np.int64),
            )
        )
    return groups
