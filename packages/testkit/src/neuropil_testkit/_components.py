"""Turning what a check is given (a registry name or the component itself) into the component."""

from __future__ import annotations

from typing import Any

from neuropil import LearningRule, NeuronModel, SynapseModel, get_registry

__all__ = ["component_name", "create_engine", "load_definition"]

Definition = NeuronModel | SynapseModel | LearningRule


def load_definition(kind: str, component: str | Definition) -> Definition:
    """The definition of a neuron model, synapse model or learning rule.

    Args:
        kind: ``"neuron"``, ``"synapse"`` or ``"rule"``.
        component: Its registry name (looked up in the current registry) or the definition.
    """
    loaded = get_registry().load(kind, component) if isinstance(component, str) else component
    expected = {"neuron": NeuronModel, "synapse": SynapseModel, "rule": LearningRule}[kind]
    if not isinstance(loaded, NeuronModel | SynapseModel | LearningRule) or not isinstance(
        loaded, expected
    ):
        raise AssertionError(
            f"{kind} {component_name(component)!r} is a {type(loaded).__name__}, not a "
            f"{expected.__name__}: its descriptor's target must name a {expected.__name__} object"
        )
    return loaded


def create_engine(kind: str, component: Any) -> Any:
    """A backend, target, dataset or encoder: created from the registry when given a name."""
    if isinstance(component, str):
        return get_registry().create(kind, component)
    return component


def component_name(component: Any) -> str:
    """The name a message uses for ``component``."""
    if isinstance(component, str):
        return component
    name = getattr(component, "name", None)
    if isinstance(name, str):
        return name
    return type(component).__name__
