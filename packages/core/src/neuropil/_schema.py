"""Parameter, option and state schemas of portable components.

A schema is light data: the registry and the IR validator read it without importing any backend.
Units are SI. ``unit`` is one of :data:`UNITS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["UNITS", "Option", "Param", "StateInit", "StateVar", "initial_state"]

#: Units a parameter or state variable may declare (SI; ``"1"`` is dimensionless).
UNITS: dict[str, str] = {
    "s": "seconds",
    "V": "volts",
    "A": "amperes",
    "ohm": "ohms",
    "F": "farads",
    "Hz": "hertz",
    "1": "dimensionless",
    "1/s": "per second",
    "V/s": "volts per second",
}


@dataclass(frozen=True)
class Param:
    """A numeric parameter of a neuron, synapse, learning rule or surrogate.

    A value is a scalar or, when ``per_neuron`` is true, an array with one entry per neuron
    (heterogeneous populations).

    Attributes:
        default: The value used when none is given, in ``unit``.
        unit: The SI unit, a key of :data:`UNITS`.
        doc: One line saying what the parameter is.
        low: Lower bound, or ``None``.
        high: Upper bound, or ``None``.
        low_inclusive: Whether ``low`` itself is allowed.
        high_inclusive: Whether ``high`` itself is allowed.
        per_neuron: Whether a per-neuron array is accepted.
        trainable: Whether the parameter is trainable unless the network says otherwise.
        typical: The ``(low, high)`` range (inclusive, in ``unit``) most models use, or
            ``None``. A value inside the bounds but outside this range is accepted with a
            :class:`~neuropil.errors.UnitWarning`: it is more often a unit slip (``tau_mem=5``
            meant as 5 ms) than an intended value.
    """

    default: float
    unit: str
    doc: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    per_neuron: bool = True
    trainable: bool = False
    typical: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; use one of {', '.join(sorted(UNITS))}")
        if self.typical is not None:
            lo, hi = self.typical
            if (
                lo > hi
                or (self.low is not None and lo < self.low)
                or (self.high is not None and hi > self.high)
            ):
                raise ValueError(
                    f"typical range {self.typical!r} must be (low, high) with low <= high, "
                    f"inside the bounds {self.bounds_text()}"
                )

    def bounds_text(self) -> str:
        """The bounds as interval notation, e.g. ``(0, 10] s``."""
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.low is not None and self.low_inclusive else "("
        right = "]" if self.high is not None and self.high_inclusive else ")"
        return f"{left}{lo}, {hi}{right} {self.unit}"

    def contains(self, value: float) -> bool:
        """Whether ``value`` is within the bounds."""
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_inclusive))
        )

    def unit_hint(self, value: float) -> str | None:
        """A did-you-mean for a value that is out of bounds by an SI prefix (ms vs s, mV vs V)."""
        for factor, text in ((1e-3, "e-3"), (1e-6, "e-6"), (1e-9, "e-9"), (1e3, "e3")):
            if self.contains(value * factor):
                return f"did you mean {value:g}{text}?"
        return None

    def is_typical(self, value: float) -> bool:
        """Whether ``value`` lies in the typical range (always true when there is none)."""
        return self.typical is None or self.typical[0] <= value <= self.typical[1]

    def typical_text(self) -> str:
        """The typical range as text: ``up to 1 s`` when it starts at the lower bound (or 0),
        else ``1e-3 to 1 s``; empty when there is none."""
        if self.typical is None:
            return ""
        lo, hi = self.typical
        unit = "" if self.unit == "1" else f" {self.unit}"
        if lo == 0 or lo == self.low:
            return f"up to {hi:g}{unit}"
        return f"{lo:g} to {hi:g}{unit}"

    def typical_prefix(self, value: float) -> tuple[str, str] | None:
        """For a value above the typical range that an SI prefix brings into it, the unit
        probably meant and the exponent that converts it: ``("milliseconds", "e-3")`` for a
        ``tau_mem`` of 5; else ``None``."""
        if self.typical is None or value <= self.typical[1] or self.unit not in _PREFIXABLE:
            return None
        for factor, text, prefix in ((1e-3, "e-3", "milli"), (1e-6, "e-6", "micro")):
            if self.typical[0] <= value * factor <= self.typical[1]:
                return f"{prefix}{UNITS[self.unit]}", text
        return None


#: Units whose name takes an SI prefix as one word (``milliseconds``, ``millivolts``).
_PREFIXABLE = frozenset({"s", "V", "A", "F", "Hz"})


@dataclass(frozen=True)
class Option:
    """A discrete choice of a component (e.g. the reset mode of ``lif``).

    Options are plain Python values, fixed at compile time: a ``step`` may branch on them.

    Attributes:
        default: The value used when none is given.
        choices: The allowed values.
        doc: One line saying what the option selects, and what each choice means.
    """

    default: str | bool | int
    choices: tuple[str | bool | int, ...]
    doc: str

    def __post_init__(self) -> None:
        if self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of {self.choices!r}")


#: An initial value computed from the values of the parameters and of the state variables
#: declared before it (by name), each a float or a per-neuron array; numpy in, numpy out.
StateInit = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class StateVar:
    """A state variable of a neuron, synapse or learning rule.

    Attributes:
        unit: The SI unit, a key of :data:`UNITS`.
        doc: One line saying what the variable is.
        init: The initial value: a number; the name of a parameter (or of a state variable
            declared before this one) whose value it starts at; or a function of those values
            (e.g. Izhikevich's ``u = b * v``), whose docstring says what it computes.
    """

    unit: str
    doc: str
    init: float | str | StateInit = 0.0

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; use one of {', '.join(sorted(UNITS))}")

    def initial(self, values: Mapping[str, Any]) -> Any:
        """The initial value, given the values of the parameters and of the state variables
        declared before this one (a float or a per-neuron array)."""
        if isinstance(self.init, str):
            return values[self.init]
        if callable(self.init):
            return self.init(values)
        return self.init

    def init_text(self) -> str:
        """The initial value as documentation shows it (``0``, ``v_rest``, ``b * v``)."""
        if isinstance(self.init, str):
            return self.init
        if callable(self.init):
            return (self.init.__doc__ or self.init.__name__).strip().splitlines()[0]
        return f"{self.init:g}"


def initial_state(
    state: Mapping[str, StateVar],
    params: Mapping[str, Any],
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The initial value of every state variable, in declaration order.

    Args:
        state: The schema's state variables.
        params: Every parameter's value (floats or per-neuron arrays).
        given: Values set by the user, which win over the schema's ``init`` and are seen by the
            variables declared after them.
    """
    given = given or {}
    values: dict[str, Any] = dict(params)
    out: dict[str, Any] = {}
    for name, var in state.items():
        out[name] = given[name] if name in given else var.initial(values)
        values[name] = out[name]
    return out


@dataclass(frozen=True)
class Schema:
    """The schema of one component: its parameters, options and state."""

    params: dict[str, Param] = field(default_factory=dict)
    options: dict[str, Option] = field(default_factory=dict)
    state: dict[str, StateVar] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, used by ``neuropil plugins --details`` and the docs."""
        return {
            "params": {
                k: {"default": p.default, "unit": p.unit, "bounds": p.bounds_text(), "doc": p.doc}
                for k, p in self.params.items()
            },
            "options": {
                k: {"default": o.default, "choices": list(o.choices), "doc": o.doc}
                for k, o in self.options.items()
            },
            "state": {
                k: {"unit": s.unit, "init": s.init_text(), "doc": s.doc}
                for k, s in self.state.items()
            },
        }
