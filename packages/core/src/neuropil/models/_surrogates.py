"""The standard surrogate gradients: ``fast_sigmoid``, ``arctan``, ``triangle``.

A surrogate replaces the derivative of the spike's Heaviside step, evaluated at ``x = v - v_th``
(volts; with the default threshold of 1 V, the dimensionless distance to threshold). The forward
pass is always the exact step; only the backward pass uses these.

Each definition's ``doc`` holds its exact "Discrete update" block, which the code follows
line for line; docs/models.md shows the same blocks (a test keeps the two identical).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from neuropil._models import SurrogateDefinition
from neuropil._ops import Array, Ops
from neuropil._schema import Param

__all__ = ["ARCTAN", "FAST_SIGMOID", "TRIANGLE"]


def _fast_sigmoid(ops: Ops, x: Array, params: Mapping[str, float]) -> Array:
    return 1 / (1 + params["slope"] * ops.abs(x)) ** 2


def _arctan(ops: Ops, x: Array, params: Mapping[str, float]) -> Array:
    slope = params["slope"]
    return (slope / 2) / (1 + (math.pi / 2 * slope * x) ** 2)


def _triangle(ops: Ops, x: Array, params: Mapping[str, float]) -> Array:
    slope = params["slope"]
    return slope * ops.maximum(0.0, 1 - slope * ops.abs(x))


FAST_SIGMOID = SurrogateDefinition(
    name="fast_sigmoid",
    params={
        "slope": Param(
            25.0,
            "1",
            "steepness, per volt of v - v_th (snnTorch's slope, SuperSpike's beta)",
            low=0.0,
            low_inclusive=False,
            per_neuron=False,
        ),
    },
    derivative=_fast_sigmoid,
    doc="""The derivative of a fast sigmoid (SuperSpike, Zenke & Ganguli 2018; snnTorch's
fast_sigmoid with the same slope convention).

Discrete update (fast_sigmoid):
    d spike / dx = 1 / (1 + slope * |x|) ** 2

Its peak is 1 at x = 0 (not normalised: its integral is 2 / slope).
""",
)

ARCTAN = SurrogateDefinition(
    name="arctan",
    params={
        "slope": Param(
            2.0,
            "1",
            "steepness, per volt of v - v_th (snnTorch's ATan alpha)",
            low=0.0,
            low_inclusive=False,
            per_neuron=False,
        ),
    },
    derivative=_arctan,
    doc="""The derivative of (1 / pi) arctan(pi / 2 * slope * x) + 1 / 2 (snnTorch's ATan, Fang et
al. 2021: slope is snnTorch's alpha).

Discrete update (arctan):
    d spike / dx = (slope / 2) / (1 + (pi / 2 * slope * x) ** 2)

Its peak is slope / 2 at x = 0 and its integral is 1, like the Heaviside step it replaces.
""",
)

TRIANGLE = SurrogateDefinition(
    name="triangle",
    params={
        "slope": Param(
            1.0,
            "1",
            "sharpness, per volt of v - v_th: peak slope, zero beyond 1 / slope",
            low=0.0,
            low_inclusive=False,
            per_neuron=False,
        ),
    },
    derivative=_triangle,
    doc="""A triangle of unit area (Esser et al. 2016; Bellec et al. 2018 with slope = 1 and
their dampening factor 0.3 left out).

Discrete update (triangle):
    d spike / dx = slope * max(0, 1 - slope * |x|)

Its peak is slope at x = 0, its support |x| < 1 / slope and its integral 1, like the Heaviside
step it replaces. With slope = 1 it is max(0, 1 - |x|).
""",
)
