"""The standard library of portable models: neurons, synapses, learning rules, surrogates.

Each name is a definition (:class:`~neuropil.NeuronModel`, :class:`~neuropil.SynapseModel`,
:class:`~neuropil.LearningRule`, :class:`~neuropil.SurrogateDefinition`) whose ``doc`` states its
exact discrete-time update. The core registers them under their lower-case names (``"lif"``,
``"exponential"``, ``"stdp"``, ``"fast_sigmoid"``...), exactly as a plugin registers its own.
"""

from __future__ import annotations

from neuropil.models._neurons import ALIF, CUBA_LIF, IF, IZHIKEVICH, LI, LIF
from neuropil.models._rules import OJA, STDP
from neuropil.models._surrogates import ARCTAN, FAST_SIGMOID, TRIANGLE
from neuropil.models._synapses import DELTA, EXPONENTIAL

__all__ = [
    "ALIF",
    "ARCTAN",
    "CUBA_LIF",
    "DELTA",
    "EXPONENTIAL",
    "FAST_SIGMOID",
    "IF",
    "IZHIKEVICH",
    "LI",
    "LIF",
    "OJA",
    "STDP",
    "TRIANGLE",
]
