"""The resolved network: what backends compile.

:func:`neuropil.resolve` turns a validated :class:`~neuropil.Network` into a
:class:`ResolvedNetwork`, in which every default is filled in, every initialiser has been drawn,
``list`` and ``random`` connectivity are ``sparse``, and the models are loaded definitions. A
backend reads only this, so that defaults, seeds and connectivity are identical on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neuropil._models import BoundSurrogate, LearningRule, NeuronModel, SynapseModel

if TYPE_CHECKING:
    from neuropil._network import Network

__all__ = [
    "ResolvedInput",
    "ResolvedNetwork",
    "ResolvedPlasticity",
    "ResolvedPopulation",
    "ResolvedProbe",
    "ResolvedProjection",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass
class ResolvedInput:
    """An input: ``size`` channels, ``shape`` (``(size,)`` when none was given)."""

    name: str
    size: int
    shape: tuple[int, ...]


@dataclass
class ResolvedPopulation:
    """A population with every parameter, option and initial state filled in.

    Attributes:
        params: Every model parameter: a Python ``float`` (homogeneous) or a float64 ``[size]``
            array (heterogeneous).
        options: Every model option.
        initial_state: Every state variable as a float64 ``[size]`` array.
        trainable: Names of the parameters to train.
        surrogate: The bound surrogate gradient.
    """

    name: str
    size: int
    shape: tuple[int, ...]
    model: NeuronModel
    params: dict[str, float | F64]
    options: dict[str, Any]
    initial_state: dict[str, F64]
    trainable: frozenset[str]
    surrogate: BoundSurrogate
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResolvedPlasticity:
    """A learning rule with every parameter and option filled in."""

    rule: LearningRule
    params: dict[str, float]
    options: dict[str, Any]


@dataclass
class ResolvedProjection:
    """A projection with concrete weights and delays.

    Attributes:
        kind: ``dense``, ``sparse``, ``one_to_one`` or ``conv2d`` (``list`` and ``random`` are
            resolved to ``sparse``).
        pre_size / post_size: Neurons at either end.
        pre_shape / post_shape: Shapes at either end (used by ``conv2d``).
        pre_idx / post_idx: ``[nnz]`` indices (``sparse`` only).
        kernel_size / stride / padding: ``conv2d`` only.
        weights: float64 array in the layout of ``kind``, with ``mask`` already applied.
        delay: int64 array: shape ``()`` (one delay) or the weights' layout.
        max_delay: ``int(delay.max())``.
        mask: The boolean mask (also needed to keep masked synapses at zero in training), or
            ``None``.
        synapse_params: Every synapse parameter (``float`` or ``[post_size]`` float64).
    """

    name: str
    pre: str
    post: str
    pre_size: int
    post_size: int
    pre_shape: tuple[int, ...]
    post_shape: tuple[int, ...]
    kind: str
    synapse: SynapseModel
    synapse_params: dict[str, float | F64]
    synapse_options: dict[str, Any]
    weights: F64
    delay: I64
    max_delay: int
    mask: npt.NDArray[np.bool_] | None = None
    sign: str | None = None
    plasticity: ResolvedPlasticity | None = None
    trainable_weights: bool = True
    trainable_delays: bool = False
    pre_idx: I64 | None = None
    post_idx: I64 | None = None
    kernel_size: tuple[int, int] | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass
class ResolvedProbe:
    """A probe: ``key`` is ``"target.variable"``; ``index`` is ``None`` for all."""

    key: str
    target: str
    variable: str
    index: I64 | None


@dataclass
class ResolvedNetwork:
    """A network ready to compile.

    Attributes:
        network: The network it was resolved from.
        dt: Time step in seconds.
        order: Population names in the order they are updated within a step: a topological
            order of the zero-delay projections (ties broken by declaration order).
    """

    network: Network
    dt: float
    inputs: list[ResolvedInput]
    populations: list[ResolvedPopulation]
    projections: list[ResolvedProjection]
    probes: list[ResolvedProbe]
    order: list[str]

    def population(self, name: str) -> ResolvedPopulation:
        """The resolved population called ``name``."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise KeyError(name)

    def incoming(self, name: str) -> list[ResolvedProjection]:
        """Projections whose ``post`` is ``name``, in declaration order."""
        return [p for p in self.projections if p.post == name]
