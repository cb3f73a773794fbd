"""Seeded weight initialisers: the same weights on every backend.

Each :class:`~neuropil.WeightInit` is drawn in float64 with
``rng = numpy.random.Generator(numpy.random.PCG64(seed))``, in the layout of the projection's
connectivity (C order):

=============== ========================= ==============================================
kind            parameters (default)      draw
=============== ========================= ==============================================
constant        ``value`` (required)      every weight is ``value``
uniform         ``low`` (0), ``high`` (1) ``rng.uniform(low, high, shape)``
normal          ``mean`` (0), ``std`` (1) ``rng.normal(mean, std, shape)``
kaiming_uniform ``gain`` (1)              ``rng.uniform(-b, b, shape)``,
                                          ``b = gain * sqrt(3 / fan_in)``
kaiming_normal  ``gain`` (1)              ``rng.normal(0, s, shape)``,
                                          ``s = gain / sqrt(fan_in)``
=============== ========================= ==============================================

``fan_in`` comes from the connectivity (:func:`neuropil._connectivity.fan_in`): ``N_pre`` for
dense, ``C_in*kh*kw`` for conv2d, the mean in-degree ``max(1, nnz/N_post)`` for sparse, list and
random, 1 for one-to-one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from neuropil._network import WeightInit
from neuropil._suggest import did_you_mean

__all__ = ["INIT_PARAMS", "check_init", "init_weights"]

#: Parameters of each initialiser with their defaults (``None``: required).
INIT_PARAMS: dict[str, dict[str, float | None]] = {
    "constant": {"value": None},
    "uniform": {"low": 0.0, "high": 1.0},
    "normal": {"mean": 0.0, "std": 1.0},
    "kaiming_uniform": {"gain": 1.0},
    "kaiming_normal": {"gain": 1.0},
}


def check_init(init: WeightInit) -> list[tuple[str, str]]:
    """The problems of an initialiser, as ``(field, message)`` pairs (empty when valid).

    ``field`` is ``"init"``, ``"params.<name>"`` or ``"seed"``.
    """
    if init.kind not in INIT_PARAMS:
        hint = did_you_mean(init.kind, INIT_PARAMS)
        return [
            (
                "init",
                f"unknown weight initialiser {init.kind!r}{hint} "
                f"(choose one of {', '.join(sorted(INIT_PARAMS))})",
            )
        ]
    problems: list[tuple[str, str]] = []
    schema = INIT_PARAMS[init.kind]
    given: object = init.params  # user data: the annotation is not a guarantee
    if not isinstance(given, Mapping):
        example = ", ".join(f"{k!r}: ..." for k in schema)
        return [
            (
                "params",
                f"the {init.kind} initialiser's params must be a dict, got {given!r}; "
                f"give WeightInit({init.kind!r}, {{{example}}})",
            )
        ]
    params: Mapping[str, object] = given
    for key, value in params.items():
        if key not in schema:
            hint = did_you_mean(key, schema)
            problems.append(
                (
                    f"params.{key}",
                    f"the {init.kind} initialiser has no parameter "
                    f"{key!r}{hint} (it takes: {', '.join(schema)})",
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int | float | np.number):
            problems.append((f"params.{key}", f"{key} must be a number, got {value!r}"))
        elif not math.isfinite(float(value)):
            problems.append((f"params.{key}", f"{key} must be finite, got {value!r}"))
    for key, default in schema.items():
        if default is None and key not in params:
            problems.append(
                (
                    f"params.{key}",
                    f"the {init.kind} initialiser needs {key!r}; "
                    f"give WeightInit({init.kind!r}, {{{key!r}: ...}})",
                )
            )
    if problems:
        return problems
    values = _values(init)
    if init.kind == "uniform" and values["low"] > values["high"]:
        problems.append(
            (
                "params.low",
                f"uniform needs low <= high, got low={values['low']:g} "
                f"and high={values['high']:g}; swap them",
            )
        )
    if init.kind == "normal" and values["std"] < 0:
        problems.append(("params.std", f"std must be >= 0, got {values['std']:g}"))
    if init.kind.startswith("kaiming") and values["gain"] < 0:
        problems.append(("params.gain", f"gain must be >= 0, got {values['gain']:g}"))
    if isinstance(init.seed, bool) or not isinstance(init.seed, int | np.integer) or init.seed < 0:
        problems.append(("seed", f"seed must be an integer >= 0, got {init.seed!r}"))
    return problems


def init_weights(
    init: WeightInit, shape: tuple[int, ...], fan_in: float
) -> npt.NDArray[np.float64]:
    """Draw the weights of ``init``.

    Args:
        init: The initialiser.
        shape: The weights' layout shape (see :func:`neuropil._connectivity.layout_shape`).
        fan_in: Inputs per post-synaptic neuron (Kaiming initialisers), ``>= 1``.

    Returns:
        A new float64 array of ``shape``.

    Raises:
        ValueError: for an unknown kind, unknown or missing parameters, or a bad seed.
    """
    problems = check_init(init)
    if problems:
        raise ValueError("; ".join(f"{where}: {msg}" for where, msg in problems))
    values = _values(init)
    rng = np.random.Generator(np.random.PCG64(int(init.seed)))
    if init.kind == "constant":
        return np.full(shape, values["value"], dtype=np.float64)
    if init.kind == "uniform":
        return rng.uniform(values["low"], values["high"], shape)
    if init.kind == "normal":
        return rng.normal(values["mean"], values["std"], shape)
    fan = max(1.0, float(fan_in))
    if init.kind == "kaiming_uniform":
        bound = values["gain"] * math.sqrt(3.0 / fan)
        return rng.uniform(-bound, bound, shape)
    return rng.normal(0.0, values["gain"] / math.sqrt(fan), shape)


def _values(init: WeightInit) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, default in INIT_PARAMS[init.kind].items():
        value = init.params.get(key, default)
        if value is not None:
            out[key] = float(value)
    return out
