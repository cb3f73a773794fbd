"""The core's own components, registered through the same entry point as any plugin."""

from __future__ import annotations

from neuropil._descriptors import Component
from neuropil.hookspecs import hookimpl

NEUROPIL_PLUGIN_API = (1, 0)

_MODELS = "neuropil.models"


@hookimpl
def neuropil_neuron_models() -> list[Component]:
    """The standard neuron models."""
    return [
        Component("lif", f"{_MODELS}._neurons:LIF", "leaky integrate-and-fire"),
        Component(
            "cuba_lif",
            f"{_MODELS}._neurons:CUBA_LIF",
            "current-based LIF with a synaptic current state (NIR CubaLIF)",
        ),
        Component("alif", f"{_MODELS}._neurons:ALIF", "adaptive-threshold LIF (LSNN)"),
        Component("izhikevich", f"{_MODELS}._neurons:IZHIKEVICH", "Izhikevich (2003)"),
        Component("li", f"{_MODELS}._neurons:LI", "leaky integrator, non-spiking readout"),
        Component("if", f"{_MODELS}._neurons:IF", "integrate-and-fire, no leak"),
    ]


@hookimpl
def neuropil_synapse_models() -> list[Component]:
    """The standard synapse models."""
    return [
        Component("delta", f"{_MODELS}._synapses:DELTA", "instantaneous: weight -> current"),
        Component(
            "exponential",
            f"{_MODELS}._synapses:EXPONENTIAL",
            "current-based, exponentially decaying",
        ),
    ]


@hookimpl
def neuropil_learning_rules() -> list[Component]:
    """The standard local learning rules."""
    return [
        Component("stdp", f"{_MODELS}._rules:STDP", "pair-based STDP on traces"),
        Component("oja", f"{_MODELS}._rules:OJA", "Oja's normalised Hebbian rule"),
    ]


@hookimpl
def neuropil_surrogates() -> list[Component]:
    """The standard surrogate gradients."""
    return [
        Component(
            "fast_sigmoid",
            f"{_MODELS}._surrogates:FAST_SIGMOID",
            "1 / (1 + slope |x|)^2 (SuperSpike)",
        ),
        Component("arctan", f"{_MODELS}._surrogates:ARCTAN", "arctangent"),
        Component(
            "triangle",
            f"{_MODELS}._surrogates:TRIANGLE",
            "slope * max(0, 1 - slope |x|), unit area",
        ),
    ]


@hookimpl
def neuropil_backends() -> list[Component]:
    """The reference engine."""
    return [
        Component(
            "numpy",
            "neuropil.reference:NumpyBackend",
            "reference engine: plain numpy, the ground truth",
        )
    ]
