"""The standard models' schemas and documentation: bounds, unit hints, registry targets, and the
"Discrete update" block that the code, the definition's doc and
docs/models.md must all agree on."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from neuropil import (
    Component,
    LearningRule,
    NeuronModel,
    SurrogateDefinition,
    SynapseModel,
    _builtins,
)
from neuropil.models import (
    ALIF,
    ARCTAN,
    CUBA_LIF,
    DELTA,
    EXPONENTIAL,
    FAST_SIGMOID,
    IF,
    IZHIKEVICH,
    LI,
    LIF,
    OJA,
    STDP,
    TRIANGLE,
)

ALL: list[Any] = [
    LIF,
    IF,
    LI,
    CUBA_LIF,
    ALIF,
    IZHIKEVICH,
    DELTA,
    EXPONENTIAL,
    STDP,
    OJA,
    FAST_SIGMOID,
    ARCTAN,
    TRIANGLE,
]
DOCS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "models.md"


def block(text: str, name: str) -> list[str]:
    """The lines of "Discrete update (name):" up to the next blank line, dedented together."""
    lines = text.splitlines()
    header = f"Discrete update ({name}):"
    starts = [i for i, line in enumerate(lines) if line.strip() == header]
    assert len(starts) == 1, f"{len(starts)} blocks named {header!r}"
    body = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip() or line.strip() == "```":
            break
        body.append(line)
    indent = min(len(line) - len(line.lstrip()) for line in body)
    return [header] + [line[indent:].rstrip() for line in body]


def _page() -> str:
    if not DOCS_PAGE.exists():
        pytest.skip("docs/models.md is only in the monorepo checkout")
    return DOCS_PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("definition", ALL, ids=lambda d: d.name)
def test_docs_page_has_the_block_and_the_tables(definition: Any) -> None:
    page = _page()
    assert block(page, definition.name) == block(definition.doc, definition.name)
    section = page.split(f"### `{definition.name}`\n", 1)[1].split("\n### ", 1)[0]
    for name, param in definition.params.items():
        row = f"| `{name}` | `{param.default:g}` | {param.unit} | `{param.bounds_text()}` |"
        assert row in section, row
    for name, option in getattr(definition, "options", {}).items():
        assert f"| `{name}` | " in section, name
        assert f"| `{option.default}` |" in section, name
    state = getattr(definition, "state", None)
    if isinstance(definition, LearningRule):
        state = {**definition.pre_state, **definition.post_state}
    for name, var in (state or {}).items():
        assert f"| `{name}` | {var.unit} |" in section, name


@pytest.mark.parametrize("definition", ALL, ids=lambda d: d.name)
def test_schema_is_consistent(definition: Any) -> None:
    for name, param in definition.params.items():
        assert param.contains(param.default), name
        assert param.doc, name
    for name, option in getattr(definition, "options", {}).items():
        assert option.default in option.choices, name
    if isinstance(definition, NeuronModel | SynapseModel):
        for name, var in definition.state.items():
            if isinstance(var.init, str):
                assert var.init in definition.params, (name, var.init)
    if isinstance(definition, NeuronModel) and not definition.spiking:
        assert definition.output in definition.state


@pytest.mark.parametrize(
    ("definition", "param", "value", "hint"),
    [
        (LIF, "tau_mem", 20, "did you mean 20e-3?"),
        (LIF, "v_th", -50, "did you mean -50e-3?"),
        (LIF, "tau_ref", 2, None),  # 2 s is a legal (if long) refractory period
        (LIF, "tau_ref", 20, "did you mean 20e-3?"),
        (CUBA_LIF, "tau_syn", 5, None),
        (CUBA_LIF, "tau_syn", 50, "did you mean 50e-3?"),
        (EXPONENTIAL, "tau_syn", 15, "did you mean 15e-3?"),
        (STDP, "tau_plus", 20, "did you mean 20e-3?"),
        (STDP, "tau_minus", 40, "did you mean 40e-3?"),
        (IZHIKEVICH, "c", -65, "did you mean -65e-3?"),
        (IZHIKEVICH, "d", 8, "did you mean 8e-3?"),
        (IZHIKEVICH, "a", 0.02, "did you mean 0.02e3?"),
    ],
)
def test_bounds_give_unit_hints(
    definition: Any, param: str, value: float, hint: str | None
) -> None:
    p = definition.params[param]
    if hint is None:
        assert p.contains(value)
    else:
        assert not p.contains(value)
        assert p.unit_hint(value) == hint


def test_units_are_si() -> None:
    for model in (LIF, IF, LI, CUBA_LIF, ALIF, IZHIKEVICH):
        for name, param in model.params.items():
            if name.startswith("tau"):
                assert param.unit == "s", (model.name, name)
            if name.startswith("v_") or name in ("c", "d"):
                assert param.unit == "V", (model.name, name)
        assert model.params["r"].unit == "ohm"
        assert model.params["r"].default == 1.0


def test_every_neuron_model_has_a_constant_bias_current() -> None:
    for model in (LIF, IF, LI, CUBA_LIF, ALIF, IZHIKEVICH):
        bias = model.params["bias"]
        assert (bias.unit, bias.default, bias.per_neuron, bias.trainable) == ("A", 0.0, True, False)
        assert bias.bounds_text() == "[-1000, 1000] A", model.name
        assert any("+ bias)" in line for line in block(model.doc, model.name)), model.name


def test_builtin_components_load_these_definitions() -> None:
    kinds: dict[str, tuple[Callable[[], list[Component]], type[Any]]] = {
        "neuron": (_builtins.neuropil_neuron_models, NeuronModel),
        "synapse": (_builtins.neuropil_synapse_models, SynapseModel),
        "rule": (_builtins.neuropil_learning_rules, LearningRule),
        "surrogate": (_builtins.neuropil_surrogates, SurrogateDefinition),
    }
    loaded = set()
    for hook, cls in kinds.values():
        for component in hook():
            module, attr = component.target.split(":")
            obj: Any = getattr(importlib.import_module(module), attr)
            assert isinstance(obj, cls), component.target
            assert obj.name == component.name
            loaded.add(obj.name)
    assert loaded == {d.name for d in ALL}
