"""Reading a step's parameters and options, with the errors every standard model shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuropil._ops import Array, Ops
from neuropil._schema import Option
from neuropil._suggest import did_you_mean
from neuropil.errors import EngineError

__all__ = ["option", "param"]


def param(ops: Ops, params: Mapping[str, Array], name: str, owner: str) -> Array:
    """``params[name]`` as an array of the backend, or an error naming ``owner`` (``"lif"``)."""
    try:
        value = params[name]
    except KeyError:
        raise EngineError(
            f"{owner}: parameter {name!r} is missing from the step's params; pass every "
            "parameter of the schema (the engine fills in the defaults)"
        ) from None
    return ops.asarray(value)


def option(options: Mapping[str, Any], schema: Mapping[str, Option], name: str, owner: str) -> Any:
    """The value of option ``name`` (its default when not given), checked against its choices."""
    value = options.get(name, schema[name].default)
    if value not in schema[name].choices:
        choices = ", ".join(repr(c) for c in schema[name].choices)
        strings = [c for c in schema[name].choices if isinstance(c, str)]
        hint = (did_you_mean(value, strings) if isinstance(value, str) else "") or (
            "; pass one of them"
        )
        raise EngineError(f"{owner}: option {name}={value!r} is not one of {choices}{hint}")
    return value
