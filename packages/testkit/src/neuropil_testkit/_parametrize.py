"""``parametrize_with_checks``: the whole conformance suite in one pytest decorator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pytest

from neuropil import NeuronModel, get_registry
from neuropil_testkit import _checks_backends as cb
from neuropil_testkit import _checks_data as cd
from neuropil_testkit import _checks_models as cm
from neuropil_testkit import _harness as h
from neuropil_testkit import networks
from neuropil_testkit._components import component_name

__all__ = ["Check", "checks_for", "parametrize_with_checks"]

_MODEL_CHECKS: tuple[Callable[..., None], ...] = (
    cm.check_schema_is_valid,
    cm.check_step_is_pure,
    cm.check_step_is_traceable,
    cm.check_spikes_use_ops_spike,
    cm.check_dtype_preserved,
    cm.check_heterogeneous_params,
    cm.check_runs_on_reference,
)
_ENGINE_CHECKS: dict[str, tuple[Callable[..., None], ...]] = {
    "backend": (
        cb.check_matches_reference,
        cb.check_gradients_finite_nonzero,
        cb.check_gradients_match_reference,
        cb.check_parameters_round_trip,
        cb.check_deterministic_with_seed,
    ),
    "target": (
        cd.check_target_reports_issues,
        cd.check_emulation_deterministic,
        cd.check_emulation_matches_reference,
        cd.check_export_writes_files,
    ),
    "dataset": (cd.check_dataset_info, cd.check_samples_match_info, cd.check_split_deterministic),
    "encoder": (cd.check_encoder_shape_and_determinism,),
}


class Check:
    """One check bound to one component: call it with no arguments.

    Attributes:
        component: The component's registry name (or the object given).
        name: The check's name (``"check_step_is_pure"``, ``"check_matches_reference-conv2d"``).
        id: The pytest id, ``"<component>-<name>"``.
    """

    def __init__(
        self, func: Callable[..., None], component: Any, suffix: str = "", **kwargs: Any
    ) -> None:
        self.func = func
        self.component = component
        self.kwargs = kwargs
        self.name = func.__name__ + (f"-{suffix}" if suffix else "")
        self.id = f"{component_name(component)}-{self.name}"

    def __call__(self) -> None:
        self.func(self.component, **self.kwargs)

    def __repr__(self) -> str:
        return f"<Check {self.id}>"


def _model_checks(kind: str, component: Any) -> list[Check]:
    chosen = list(_MODEL_CHECKS)
    if kind != "neuron":
        chosen.remove(cm.check_spikes_use_ops_spike)
    try:
        model = get_registry().load(kind, component) if isinstance(component, str) else component
    except Exception:
        # Keep every check: each one will report the loading failure itself.
        model = None
    if model is not None:
        if kind == "rule":
            chosen.remove(cm.check_heterogeneous_params)
        elif not any(
            p.per_neuron and h.alternative_value(p) is not None for p in model.params.values()
        ):
            # Nothing heterogeneous to check: the model has no per-neuron parameter.
            chosen.remove(cm.check_heterogeneous_params)
        if isinstance(model, NeuronModel) and not model.spiking:
            chosen.remove(cm.check_spikes_use_ops_spike)
        if kind == "neuron" and not isinstance(model, NeuronModel):
            chosen = [cm.check_schema_is_valid]
    return [Check(f, component, kind=kind) for f in chosen]


def checks_for(kind: str, component: Any) -> list[Check]:
    """The checks that apply to ``component`` of ``kind``, bound to it.

    Args:
        kind: ``"neuron"``, ``"synapse"``, ``"rule"``, ``"backend"``, ``"target"``,
            ``"dataset"`` or ``"encoder"``.
        component: Registry name (or the component object).
    """
    if kind in ("neuron", "synapse", "rule"):
        return _model_checks(kind, component)
    if kind not in _ENGINE_CHECKS:
        raise ValueError(
            f"no conformance checks for kind {kind!r}; kinds: neuron, synapse, rule, "
            f"{', '.join(_ENGINE_CHECKS)}"
        )
    out: list[Check] = []
    for func in _ENGINE_CHECKS[kind]:
        if func is cb.check_matches_reference:
            out.extend(
                Check(func, component, case_name, case=case_name)
                for case_name in networks.reference_cases()
            )
        else:
            out.append(Check(func, component))
    return out


def parametrize_with_checks(
    *,
    backends: Sequence[Any] = (),
    neurons: Sequence[Any] = (),
    synapses: Sequence[Any] = (),
    rules: Sequence[Any] = (),
    targets: Sequence[Any] = (),
    datasets: Sequence[Any] = (),
    encoders: Sequence[Any] = (),
    xfail: Mapping[tuple[str, str], str] | None = None,
) -> pytest.MarkDecorator:
    """A pytest ``parametrize`` over every conformance check of the given components.

    Each parameter is a zero-argument :class:`Check`; its id reads ``component-check`` (backend
    agreement checks add the case: ``numpy-check_matches_reference-conv2d``), so ``-k`` selects
    one::

        from neuropil_testkit import parametrize_with_checks

        @parametrize_with_checks(neurons=["my_neuron"], backends=["my_backend"])
        def test_conformance(check):
            check()

    Args:
        backends / neurons / synapses / rules / targets / datasets / encoders: Registry names
            (or component objects) of each kind; the checks applied are chosen from the kind
            and from what the component declares.
        xfail: Known gaps, ``{(component, check): reason}``: a strict xfail (the test must fail;
            once the gap is fixed, remove the entry). ``check`` is a check name, or a check
            name with its case (``"check_matches_reference-conv2d"``).

    Raises:
        ValueError: An ``xfail`` key matches no check.
    """
    groups: Iterable[tuple[str, Sequence[Any]]] = (
        ("neuron", neurons),
        ("synapse", synapses),
        ("rule", rules),
        ("backend", backends),
        ("target", targets),
        ("dataset", datasets),
        ("encoder", encoders),
    )
    checks = [c for kind, comps in groups for comp in comps for c in checks_for(kind, comp)]
    gaps = dict(xfail or {})
    used: set[tuple[str, str]] = set()
    params = []
    for check in checks:
        comp = component_name(check.component)
        base = check.name.split("-", 1)[0]
        marks = []
        for key in ((comp, check.name), (comp, base)):
            if key in gaps:
                used.add(key)
                marks.append(pytest.mark.xfail(strict=True, reason=gaps[key]))
                break
        params.append(pytest.param(check, id=check.id, marks=marks))
    unused = sorted(set(gaps) - used)
    if unused:
        known = sorted({(component_name(c.component), c.name.split("-", 1)[0]) for c in checks})
        raise ValueError(
            f"xfail entries {unused} match no check; checks are (component, check) pairs such "
            f"as {known[:3]}"
        )
    return pytest.mark.parametrize("check", params)
