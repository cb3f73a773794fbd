"""The torch :class:`~neuropil.Ops` that portable ``step`` functions run on.

Every result is a tensor of the engine's dtype and device. Python numbers are cast to that
dtype *before* computing (as the reference engine's ``NumpyOps`` does), so that a float64 run
computes exactly what the reference engine computes, operation for operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from neuropil._ops import Array, SurrogateFn
from neuropil.errors import EngineError

__all__ = ["SpikeFunction", "TorchOps"]


class SpikeFunction(torch.autograd.Function):
    """Heaviside ``x > 0`` forward; ``grad * surrogate.derivative(ops, x)`` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, surrogate: SurrogateFn, ops: TorchOps) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        ctx.ops = ops
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:
        (x,) = ctx.saved_tensors
        derivative = torch.as_tensor(ctx.surrogate.derivative(ctx.ops, x), dtype=x.dtype)
        return grads[0] * derivative, None, None


class TorchOps:
    """The ``ops`` of the torch backend: one floating dtype on one device.

    Args:
        dtype: ``torch.float32`` or ``torch.float64``.
        device: Where every tensor lives (``"cpu"``, ``"cuda"``...).

    Attributes:
        xp: The ``torch`` module.
        dtype: The torch dtype of every tensor this object returns.
        device: The torch device.

    Example::

        ops = TorchOps(torch.float64)
        ops.spike(v - 1.0, surrogate)   # [B, N] of 0.0 / 1.0, differentiable via the surrogate
    """

    xp: Any = torch

    def __init__(
        self, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
    ) -> None:
        if dtype not in (torch.float32, torch.float64):
            raise EngineError(
                f"TorchOps computes in float32 or float64, got {dtype}; pass "
                "dtype=torch.float32 or torch.float64"
            )
        self.dtype = dtype
        self.device = torch.device(device)

    def __repr__(self) -> str:
        return f"TorchOps({self.dtype}, {str(self.device)!r})"

    def _a(self, x: Any) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            if x.dtype == self.dtype and x.device == self.device:
                return x
            return x.to(dtype=self.dtype, device=self.device)
        return torch.as_tensor(np.asarray(x), dtype=self.dtype, device=self.device)

    def spike(self, x: Array, surrogate: SurrogateFn | None) -> Array:
        """``1.0`` where ``x > 0`` else ``0.0`` (strict); its gradient is the surrogate's."""
        a = self._a(x)
        if surrogate is None or not (a.requires_grad and torch.is_grad_enabled()):
            return (a > 0).to(self.dtype)
        out: torch.Tensor = SpikeFunction.apply(a, surrogate, self)
        return out

    def exp(self, x: Array) -> Array:
        """``e ** x``."""
        return torch.exp(self._a(x))

    def log(self, x: Array) -> Array:
        """Natural logarithm."""
        return torch.log(self._a(x))

    def abs(self, x: Array) -> Array:
        """Absolute value."""
        return torch.abs(self._a(x))

    def sqrt(self, x: Array) -> Array:
        """Square root."""
        return torch.sqrt(self._a(x))

    def tanh(self, x: Array) -> Array:
        """Hyperbolic tangent."""
        return torch.tanh(self._a(x))

    def sigmoid(self, x: Array) -> Array:
        """Logistic function ``1 / (1 + e ** -x)``, computed as the reference engine does."""
        a = self._a(x)
        # e ** -|x| never overflows; the two branches are the same function.
        e = torch.exp(-torch.abs(a))
        return torch.where(a >= 0, 1 / (1 + e), e / (1 + e))

    def where(self, cond: Array, a: Array | float, b: Array | float) -> Array:
        """``a`` where ``cond`` is true, else ``b``."""
        c = cond if isinstance(cond, torch.Tensor) else torch.as_tensor(np.asarray(cond))
        return torch.where(c.to(device=self.device, dtype=torch.bool), self._a(a), self._a(b))

    def maximum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise maximum."""
        return torch.maximum(self._a(a), self._a(b))

    def minimum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise minimum."""
        return torch.minimum(self._a(a), self._a(b))

    def clip(self, x: Array, low: Array | float | None, high: Array | float | None) -> Array:
        """``x`` limited to ``[low, high]`` (``None``: no limit on that side)."""
        out = self._a(x)
        if low is not None:
            out = torch.maximum(out, self._a(low))
        if high is not None:
            out = torch.minimum(out, self._a(high))
        return out

    def floor(self, x: Array) -> Array:
        """Round toward minus infinity."""
        return torch.floor(self._a(x))

    def zeros_like(self, x: Array) -> Array:
        """Zeros of ``x``'s shape, in this dtype and device."""
        return torch.zeros(tuple(np.shape(x)), dtype=self.dtype, device=self.device)

    def full_like(self, x: Array, value: Array | float) -> Array:
        """``value`` broadcast to ``x``'s shape, in this dtype and device."""
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else tuple(np.shape(x))
        return torch.broadcast_to(self._a(value), shape).clone()

    def asarray(self, x: Any) -> Array:
        """``x`` as a tensor of this dtype and device (no copy when it already is one)."""
        return self._a(x)

    def sum(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Sum over ``axis`` (all axes when ``None``)."""
        a = self._a(x)
        return torch.sum(a) if axis is None else torch.sum(a, dim=axis)

    def mean(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Mean over ``axis`` (all axes when ``None``)."""
        a = self._a(x)
        return torch.mean(a) if axis is None else torch.mean(a, dim=axis)

    def stop_gradient(self, x: Array) -> Array:
        """``x`` detached from the autograd graph."""
        return self._a(x).detach()

    def normal(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Standard normal samples of ``shape`` from ``key``: the reference engine's numbers
        (numpy's PCG64 seeded with the key), so that stochastic models agree across engines."""
        values = self._generator(key, "normal").standard_normal(shape)
        return torch.as_tensor(values, device=self.device).to(self.dtype)

    def uniform(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Uniform samples in ``[0, 1)`` of ``shape`` from ``key`` (the reference engine's)."""
        u = self._generator(key, "uniform").random(shape)
        np_dtype = np.float64 if self.dtype == torch.float64 else np.float32
        u = u.astype(np_dtype)
        u = np.minimum(u, np.nextafter(np_dtype(1), np_dtype(0)))
        return torch.as_tensor(u, device=self.device)

    def _generator(self, key: Any, what: str) -> np.random.Generator:
        if key is None:
            raise EngineError(
                f"ops.{what} needs a random key and got None; pass ctx.key, which the engine "
                "sets for every component and step"
            )
        try:
            entropy: Sequence[int] = [int(k) for k in np.ravel(np.asarray(key))]
            seq = np.random.SeedSequence(entropy)
        except (TypeError, ValueError) as exc:
            raise EngineError(
                f"ops.{what}: the key must be non-negative integers, e.g. (seed, step, "
                f"component); got {key!r}"
            ) from exc
        return np.random.Generator(np.random.PCG64(seq))
