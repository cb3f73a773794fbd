"""A tracing :class:`neuropil.Ops`: runs a step on opaque values, as a compiler traces it.

``jax.jit`` and ``torch.compile`` run a step once on abstract values: arrays whose contents are
unknown, on which only the backend's own operations work. :class:`TracingOps` does the same with
numpy underneath: every array a step receives or computes is a :class:`TracedArray`, which is
*not* a numpy array. It supports what a traced array supports everywhere (arithmetic and
comparison operators, ``shape`` / ``ndim`` / ``dtype``, basic slicing and integer-array
indexing) and refuses, with a :class:`TracingError` naming the fix, everything that needs the
values on the host or a numpy function: ``if`` on values, ``float(x)``, ``.item()``,
``np.asarray(x)``, ``np.exp(x)``, ``np.where(...)``, boolean-mask indexing (a data-dependent
shape), iterating over neurons, numpy arrays mixed into the arithmetic.

Results of ``ops.spike`` carry a mark (:attr:`TracedArray.is_spike`) that survives only the
operations that keep a value a spike train with its surrogate gradient:

* ``ops.where(cond, a, b)``, ``ops.maximum(a, b)``, ``ops.minimum(a, b)``, when each of ``a`` and
  ``b`` is marked or zero (a number or an array of zeros) and one is marked (masking: refractory
  neurons emit no spike);
* ``a * b`` when ``a`` or ``b`` is marked (masking by a 0/1 array);
* ``ops.asarray(s)`` and ``ops.clip(s, low, high)``.

Anything else (``1 - s``, ``s > 0``, ``ops.stop_gradient(s)``, a threshold written with
comparisons) gives an unmarked value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from neuropil._ops import SurrogateFn
from neuropil.reference import NumpyOps

__all__ = ["TracedArray", "TracingError", "TracingOps"]

_HOST = "a traced step cannot read array values on the host"


class TracingError(TypeError):
    """A portable step did something a compiler cannot trace; the message names the fix."""


class _NoAttributeError(AttributeError):
    """An attribute a traced array does not have (numpy methods such as ``x.max()``)."""


# The numpy functions and ufuncs a step may reach for, and the ops method that replaces each.
_OPS_FOR = {
    "exp": "ops.exp",
    "log": "ops.log",
    "absolute": "ops.abs",
    "abs": "ops.abs",
    "fabs": "ops.abs",
    "sqrt": "ops.sqrt",
    "tanh": "ops.tanh",
    "where": "ops.where",
    "select": "ops.where",
    "maximum": "ops.maximum",
    "fmax": "ops.maximum",
    "max": "ops.maximum",
    "amax": "ops.maximum",
    "minimum": "ops.minimum",
    "fmin": "ops.minimum",
    "min": "ops.minimum",
    "amin": "ops.minimum",
    "clip": "ops.clip",
    "floor": "ops.floor",
    "zeros_like": "ops.zeros_like",
    "full_like": "ops.full_like",
    "ones_like": "ops.full_like",
    "sum": "ops.sum",
    "mean": "ops.mean",
    "heaviside": "ops.spike",
    "copy": "the array itself (arrays in a step are never mutated)",
}
# numpy functions that need only the (static) shape: fine under jit.
_STATIC = {"shape", "ndim", "size"}
# ufuncs that a numpy scalar on the left of an operator calls (np.float64(2) * x): the operator.
_OPERATOR_UFUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "true_divide": operator.truediv,
    "divide": operator.truediv,
    "floor_divide": operator.floordiv,
    "remainder": operator.mod,
    "power": operator.pow,
    "less": operator.lt,
    "less_equal": operator.le,
    "greater": operator.gt,
    "greater_equal": operator.ge,
    "equal": operator.eq,
    "not_equal": operator.ne,
    "bitwise_and": operator.and_,
    "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
}


def _numpy_fix(name: str) -> str:
    replacement = _OPS_FOR.get(name)
    if replacement is not None:
        return f"use {replacement}"
    if name in ("stack", "concatenate", "hstack", "vstack", "array", "asarray", "append"):
        return (
            "no Python loops over neurons or batch entries: write the step on whole [B, N] "
            "arrays (ops.xp is the backend's namespace for what ops lacks)"
        )
    return "use the ops method for it, or ops.xp (the backend's array namespace) for what ops lacks"


def _refuse(what: str, fix: str) -> NoReturn:
    raise TracingError(f"{what}: {fix}")


def _is_number(x: object) -> bool:
    return isinstance(x, int | float | np.generic) and not isinstance(x, np.ndarray)


def _operand(x: object, op: str) -> Any:
    """``x`` as something numpy can combine with a traced value's contents."""
    if isinstance(x, TracedArray):
        return x._value
    if isinstance(x, np.ndarray):
        _refuse(
            f"a numpy array mixed into traced arithmetic ({op})",
            "arrays in a step come from its arguments or from ops (ops.asarray(...) for a "
            "constant, ops.normal(ctx.key, ...) for noise); a numpy array stays on the host",
        )
    if _is_number(x):
        return x
    return NotImplemented


def _is_zero(x: object) -> bool:
    if isinstance(x, TracedArray):
        return not x.is_spike and bool(np.all(x._value == 0))
    return _is_number(x) and bool(x == 0)


def _spike_combination(a: object, b: object) -> bool:
    """Whether ``where(c, a, b)`` / ``maximum(a, b)`` keeps the spike mark (module docstring)."""
    marked = [isinstance(x, TracedArray) and x.is_spike for x in (a, b)]
    return any(marked) and all(m or _is_zero(x) for m, x in zip(marked, (a, b), strict=True))


def _check_index(key: Any) -> Any:
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for item in items:
        value = item._value if isinstance(item, TracedArray) else item
        if isinstance(value, list):
            value = np.asarray(value)
        if isinstance(value, np.ndarray) and value.dtype == np.bool_:
            _refuse(
                "boolean-array indexing x[mask] has a data-dependent shape, which jax.jit refuses",
                "use ops.where(mask, x, 0) (and ops.sum to count)",
            )
        if isinstance(value, np.ndarray) and not np.issubdtype(value.dtype, np.integer):
            _refuse(
                f"indexing with a {value.dtype} array",
                "index with integers, slices, None or integer arrays",
            )
        out.append(value)
    return tuple(out) if isinstance(key, tuple) else out[0]


class TracedArray:
    """An opaque array, as a compiler's tracer sees it: its shape is known, its values are not.

    Holds a numpy array that a step cannot reach. Supports ``+ - * / // % **``, comparisons,
    ``& | ^ ~``, unary minus and ``abs``, ``shape`` / ``ndim`` / ``dtype`` / ``size`` /
    ``len()``, basic slicing, ``None`` axes and integer-array indexing. Everything that would
    read values on the host or hand the array to numpy raises :class:`TracingError`.
    """

    __slots__ = ("_spike", "_value")
    # Defining __eq__ makes instances unhashable, as jax and torch arrays under tracing are.
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: Any, *, spike: bool = False) -> None:
        self._value: npt.NDArray[Any] = np.asarray(value)
        self._spike = spike

    def __repr__(self) -> str:
        mark = ", spike" if self._spike else ""
        return f"TracedArray(shape={self.shape}, dtype={self.dtype}{mark})"

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape (static under tracing)."""
        return tuple(int(n) for n in self._value.shape)

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self._value.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self._value.size)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the contents."""
        return self._value.dtype

    @property
    def is_spike(self) -> bool:
        """Whether this value is a result of ``ops.spike`` (see the module docstring)."""
        return self._spike

    # ---------------------------------------------------------------- arithmetic and comparison

    def _binary(self, other: object, fn: Callable[[Any, Any], Any], op: str, *, rev: bool) -> Any:
        value = _operand(other, op)
        if value is NotImplemented:
            return NotImplemented
        result = fn(value, self._value) if rev else fn(self._value, value)
        spike = fn is operator.mul and (
            self._spike or (isinstance(other, TracedArray) and other._spike)
        )
        return TracedArray(result, spike=spike)

    def __add__(self, other: object) -> Any:
        return self._binary(other, operator.add, "+", rev=False)

    def __radd__(self, other: object) -> Any:
        return self._binary(other, operator.add, "+", rev=True)

    def __sub__(self, other: object) -> Any:
        return self._binary(other, operator.sub, "-", rev=False)

    def __rsub__(self, other: object) -> Any:
        return self._binary(other, operator.sub, "-", rev=True)

    def __mul__(self, other: object) -> Any:
        return self._binary(other, operator.mul, "*", rev=False)

    def __rmul__(self, other: object) -> Any:
        return self._binary(other, operator.mul, "*", rev=True)

    def __truediv__(self, other: object) -> Any:
        return self._binary(other, operator.truediv, "/", rev=False)

    def __rtruediv__(self, other: object) -> Any:
        return self._binary(other, operator.truediv, "/", rev=True)

    def __floordiv__(self, other: object) -> Any:
        return self._binary(other, operator.floordiv, "//", rev=False)

    def __rfloordiv__(self, other: object) -> Any:
        return self._binary(other, operator.floordiv, "//", rev=True)

    def __mod__(self, other: object) -> Any:
        return self._binary(other, operator.mod, "%", rev=False)

    def __rmod__(self, other: object) -> Any:
        return self._binary(other, operator.mod, "%", rev=True)

    def __pow__(self, other: object) -> Any:
        return self._binary(other, operator.pow, "**", rev=False)

    def __rpow__(self, other: object) -> Any:
        return self._binary(other, operator.pow, "**", rev=True)

    def __matmul__(self, other: object) -> Any:
        return self._binary(other, operator.matmul, "@", rev=False)

    def __rmatmul__(self, other: object) -> Any:
        return self._binary(other, operator.matmul, "@", rev=True)

    def __and__(self, other: object) -> Any:
        return self._binary(other, operator.and_, "&", rev=False)

    def __rand__(self, other: object) -> Any:
        return self._binary(other, operator.and_, "&", rev=True)

    def __or__(self, other: object) -> Any:
        return self._binary(other, operator.or_, "|", rev=False)

    def __ror__(self, other: object) -> Any:
        return self._binary(other, operator.or_, "|", rev=True)

    def __xor__(self, other: object) -> Any:
        return self._binary(other, operator.xor, "^", rev=False)

    def __rxor__(self, other: object) -> Any:
        return self._binary(other, operator.xor, "^", rev=True)

    def __lt__(self, other: object) -> Any:
        return self._binary(other, operator.lt, "<", rev=False)

    def __le__(self, other: object) -> Any:
        return self._binary(other, operator.le, "<=", rev=False)

    def __gt__(self, other: object) -> Any:
        return self._binary(other, operator.gt, ">", rev=False)

    def __ge__(self, other: object) -> Any:
        return self._binary(other, operator.ge, ">=", rev=False)

    def __eq__(self, other: object) -> Any:
        return self._binary(other, operator.eq, "==", rev=False)

    def __ne__(self, other: object) -> Any:
        return self._binary(other, operator.ne, "!=", rev=False)

    def __neg__(self) -> TracedArray:
        return TracedArray(-self._value)

    def __pos__(self) -> TracedArray:
        return TracedArray(+self._value, spike=self._spike)

    def __abs__(self) -> TracedArray:
        return TracedArray(np.abs(self._value))

    def __invert__(self) -> TracedArray:
        return TracedArray(~self._value)

    # ------------------------------------------------------------------------------ indexing

    def __len__(self) -> int:
        if self._value.ndim == 0:
            _refuse("len() of a 0-d array", "use x.shape")
        return int(self._value.shape[0])

    def __getitem__(self, key: Any) -> TracedArray:
        return TracedArray(self._value[_check_index(key)])

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse(
            "item assignment x[...] = y (traced arrays are immutable, as jax arrays are)",
            "build a new array with ops.where",
        )

    def __iter__(self) -> Iterator[Any]:
        _refuse(
            "iterating over an array (a Python loop over batch entries or neurons)",
            "no Python loops over array entries: write the step on whole [B, N] arrays",
        )

    def __contains__(self, item: object) -> bool:
        _refuse("`in` on an array", f"{_HOST}; no Python branching on array values")

    # ---------------------------------------------------------------------- host round trips

    def __bool__(self) -> bool:
        _refuse(
            "truth test (if/while/and/or/assert) on an array",
            f"{_HOST}; no Python branching on array values: use ops.where(cond, a, b)",
        )

    def __float__(self) -> float:
        _refuse("float() on an array", f"{_HOST}; keep arrays as arrays (use ops methods)")

    def __int__(self) -> int:
        _refuse("int() on an array", f"{_HOST}; keep arrays as arrays (use ops methods)")

    def __complex__(self) -> complex:
        _refuse("complex() on an array", f"{_HOST}; keep arrays as arrays")

    def __index__(self) -> int:
        _refuse(
            "use of an array as a Python index (operator.index, range())",
            f"{_HOST}; index with integers fixed by the shapes or by options",
        )

    def item(self, *args: Any) -> NoReturn:
        """Refused: ``.item()`` is a host round trip."""
        _refuse(".item() on an array", f"{_HOST}; keep arrays as arrays (use ops methods)")

    def tolist(self) -> NoReturn:
        """Refused: ``.tolist()`` is a host round trip."""
        _refuse(".tolist() on an array", f"{_HOST}; keep arrays as arrays (use ops methods)")

    def __array__(self, dtype: Any = None, copy: Any = None) -> NoReturn:
        _refuse(
            "conversion of a traced array to numpy (np.asarray, np.array, a numpy function)",
            f"{_HOST}; use ops methods (ops.asarray for constants) instead of numpy",
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        name = getattr(ufunc, "__name__", str(ufunc))
        fn = _OPERATOR_UFUNCS.get(name)
        others = [x for x in inputs if x is not self]
        for x in others:
            if isinstance(x, np.ndarray):
                _operand(x, f"numpy.{name}")
        if (
            fn is not None
            and method == "__call__"
            and not kwargs
            and len(inputs) == 2
            and all(_is_number(x) for x in others)
        ):
            # A numpy scalar on the left of an operator (np.float64(2) * x) calls the ufunc;
            # on jax and torch the operator defers to the array, so this is allowed.
            a, b = inputs
            if isinstance(a, TracedArray):
                return a._binary(b, fn, name, rev=False)
            return self._binary(a, fn, name, rev=True)
        _refuse(f"numpy.{name} on a traced array", _numpy_fix(name))

    def __array_function__(
        self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        name = getattr(func, "__name__", str(func))
        if name in _STATIC:
            return func(*_unwrap_all(args), **_unwrap_all(kwargs))
        _refuse(f"numpy.{name} on a traced array", _numpy_fix(name))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        fix = _OPS_FOR.get(name)
        hint = f"use {fix}" if fix else "use ops methods and operators"
        raise _NoAttributeError(
            f"a traced array has no attribute .{name}: a portable step cannot call numpy's "
            f"array methods (torch and jax arrays differ); {hint}"
        )


def _unwrap(x: Any) -> Any:
    return x._value if isinstance(x, TracedArray) else x


def _unwrap_all(x: Any) -> Any:
    if isinstance(x, TracedArray):
        return x._value
    if isinstance(x, list | tuple):
        return type(x)(_unwrap_all(i) for i in x)
    if isinstance(x, dict):
        return {k: _unwrap_all(v) for k, v in x.items()}
    return x


def _wrap_all(x: Any) -> Any:
    if isinstance(x, np.ndarray | np.generic):
        return TracedArray(x)
    if isinstance(x, list | tuple):
        return type(x)(_wrap_all(i) for i in x)
    return x


def trace(x: Any) -> Any:
    """``x`` as a :class:`TracedArray` when it is a numpy array; Python numbers stay as they are."""
    if isinstance(x, np.ndarray):
        return TracedArray(x)
    return x


def concrete(x: Any) -> Any:
    """The numpy contents of a :class:`TracedArray` (for the checks, never for a step)."""
    return _unwrap(x)


class _TracedNamespace:
    """``ops.xp`` under tracing: numpy, taking and returning traced arrays.

    The backend's namespace is allowed for what ``ops`` lacks; this is what it looks like to a
    step traced by a compiler (the backend's functions work on the backend's arrays).
    """

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if not callable(attr) or isinstance(attr, type):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap_all(attr(*_unwrap_all(args), **_unwrap_all(kwargs)))

        call.__name__ = name
        return call


class TracingOps:
    """The reference engine's ops on :class:`TracedArray` values.

    Every method unwraps its arguments, computes with :class:`~neuropil.reference.NumpyOps` and
    wraps the result, so a traced step computes exactly what it computes on the reference
    engine. ``spike`` marks its result (:attr:`TracedArray.is_spike`) and refuses a missing
    surrogate.

    Args:
        dtype: ``float32`` or ``float64``.

    Attributes:
        xp: numpy, as seen under tracing (takes and returns traced arrays).
        dtype: The numpy dtype of every result.
    """

    def __init__(self, dtype: npt.DTypeLike = np.float64) -> None:
        self._np = NumpyOps(dtype)
        self.dtype: np.dtype[Any] = self._np.dtype
        self.xp: Any = _TracedNamespace()

    def __repr__(self) -> str:
        return f"TracingOps({self.dtype.name!r})"

    def spike(self, x: Any, surrogate: SurrogateFn) -> TracedArray:
        """``1.0`` where ``x > 0`` else ``0.0`` (strict), marked as a spike."""
        if surrogate is None:
            _refuse(
                "ops.spike(x, None): a spike without a surrogate has no gradient to train",
                "pass the population's surrogate: ops.spike(x, ctx.surrogate)",
            )
        return TracedArray(self._np.spike(_unwrap(x), surrogate), spike=True)

    def exp(self, x: Any) -> TracedArray:
        """``e ** x``."""
        return TracedArray(self._np.exp(_unwrap(x)))

    def log(self, x: Any) -> TracedArray:
        """Natural logarithm."""
        return TracedArray(self._np.log(_unwrap(x)))

    def abs(self, x: Any) -> TracedArray:
        """Absolute value."""
        return TracedArray(self._np.abs(_unwrap(x)))

    def sqrt(self, x: Any) -> TracedArray:
        """Square root."""
        return TracedArray(self._np.sqrt(_unwrap(x)))

    def tanh(self, x: Any) -> TracedArray:
        """Hyperbolic tangent."""
        return TracedArray(self._np.tanh(_unwrap(x)))

    def sigmoid(self, x: Any) -> TracedArray:
        """Logistic function."""
        return TracedArray(self._np.sigmoid(_unwrap(x)))

    def where(self, cond: Any, a: Any, b: Any) -> TracedArray:
        """``a`` where ``cond`` is true, else ``b``; a spike where both branches are (or 0)."""
        out = self._np.where(_unwrap(cond), _unwrap(a), _unwrap(b))
        return TracedArray(out, spike=_spike_combination(a, b))

    def maximum(self, a: Any, b: Any) -> TracedArray:
        """Elementwise maximum; a spike where both arguments are (or 0)."""
        out = self._np.maximum(_unwrap(a), _unwrap(b))
        return TracedArray(out, spike=_spike_combination(a, b))

    def minimum(self, a: Any, b: Any) -> TracedArray:
        """Elementwise minimum; a spike where both arguments are (or 0)."""
        out = self._np.minimum(_unwrap(a), _unwrap(b))
        return TracedArray(out, spike=_spike_combination(a, b))

    def clip(self, x: Any, low: Any, high: Any) -> TracedArray:
        """``x`` limited to ``[low, high]``; keeps the spike mark of ``x``."""
        out = self._np.clip(_unwrap(x), _unwrap(low), _unwrap(high))
        return TracedArray(out, spike=isinstance(x, TracedArray) and x.is_spike)

    def floor(self, x: Any) -> TracedArray:
        """Round toward minus infinity."""
        return TracedArray(self._np.floor(_unwrap(x)))

    def zeros_like(self, x: Any) -> TracedArray:
        """Zeros of ``x``'s shape."""
        return TracedArray(self._np.zeros_like(_unwrap(x)))

    def full_like(self, x: Any, value: Any) -> TracedArray:
        """``value`` broadcast to ``x``'s shape."""
        return TracedArray(self._np.full_like(_unwrap(x), _unwrap(value)))

    def asarray(self, x: Any) -> TracedArray:
        """``x`` as an array of this dtype; keeps the spike mark."""
        out = self._np.asarray(_unwrap_all(x))
        return TracedArray(out, spike=isinstance(x, TracedArray) and x.is_spike)

    def sum(self, x: Any, axis: int | tuple[int, ...] | None = None) -> TracedArray:
        """Sum over ``axis``."""
        return TracedArray(self._np.sum(_unwrap(x), axis=axis))

    def mean(self, x: Any, axis: int | tuple[int, ...] | None = None) -> TracedArray:
        """Mean over ``axis``."""
        return TracedArray(self._np.mean(_unwrap(x), axis=axis))

    def stop_gradient(self, x: Any) -> TracedArray:
        """``x`` without gradient: no longer a spike (its surrogate gradient is gone)."""
        return TracedArray(self._np.stop_gradient(_unwrap(x)))

    def normal(self, key: Any, shape: tuple[int, ...]) -> TracedArray:
        """Standard normal samples drawn from ``key``."""
        return TracedArray(self._np.normal(_unwrap_all(key), shape))

    def uniform(self, key: Any, shape: tuple[int, ...]) -> TracedArray:
        """Uniform samples in ``[0, 1)`` drawn from ``key``."""
        return TracedArray(self._np.uniform(_unwrap_all(key), shape))
