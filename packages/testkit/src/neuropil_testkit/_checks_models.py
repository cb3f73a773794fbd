"""Checks of portable components: neuron models, synapse models and learning rules.

Each check takes the component's registry name (``kind`` says which registry kind; neuron by
default) or the definition object itself, and raises :class:`AssertionError` with a message
naming the component, the property violated and the fix.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from neuropil import LearningRule, NeuronModel, Option, Param, StateVar
from neuropil.reference import NumpyOps
from neuropil_testkit import _harness as h
from neuropil_testkit._components import Definition, load_definition
from neuropil_testkit._ops import TracingError, TracingOps, trace

__all__ = [
    "check_dtype_preserved",
    "check_heterogeneous_params",
    "check_runs_on_reference",
    "check_schema_is_valid",
    "check_step_is_pure",
    "check_step_is_traceable",
]

_NAME_RE = re.compile(r"[a-z0-9_]+")


def _resolve(component: str | Definition, kind: str | None) -> tuple[Definition, str, str]:
    if kind is None:
        kind = "neuron" if isinstance(component, str) else h.kind_of(component)
    model = load_definition(kind, component)
    return model, kind, f"{kind} {model.name!r}"


def check_schema_is_valid(component: str | Definition, *, kind: str | None = None) -> None:
    """The component's schema is well formed.

    Its name is a registry name (``[a-z0-9_]+``, equal to the name it is registered under);
    parameters, options and state are :class:`~neuropil.Param` / :class:`~neuropil.Option` /
    :class:`~neuropil.StateVar`; every default lies within its bounds; every state variable's
    ``init`` is a number or names a parameter; a neuron's ``output`` is ``"spikes"`` or one of its
    state variables; a rule's pre- and post-synaptic traces have distinct names; the docstring
    has a ``Discrete update`` block.
    """
    model, kind, what = _resolve(component, kind)
    problems: list[str] = []
    if not _NAME_RE.fullmatch(model.name):
        problems.append(f"name {model.name!r} is not a registry name (lower case, [a-z0-9_])")
    if isinstance(component, str) and component != model.name:
        problems.append(f"registered as {component!r} but its name is {model.name!r}")
    # Plugins are not type-checked: look at what the dicts really hold.
    params: dict[str, object] = dict(model.params)
    options: dict[str, object] = dict(model.options)
    state: dict[str, object] = dict(
        {**model.pre_state, **model.post_state} if isinstance(model, LearningRule) else model.state
    )
    for pname, param in params.items():
        if not isinstance(param, Param):
            problems.append(f"params[{pname!r}] is a {type(param).__name__}, not a Param")
        elif not param.contains(float(param.default)):
            problems.append(
                f"params[{pname!r}]: default {param.default:g} is outside its bounds "
                f"{param.bounds_text()}"
            )
    for oname, opt in options.items():
        if not isinstance(opt, Option):
            problems.append(f"options[{oname!r}] is a {type(opt).__name__}, not an Option")
    for sname, sv in state.items():
        if not isinstance(sv, StateVar):
            problems.append(f"state[{sname!r}] is a {type(sv).__name__}, not a StateVar")
        elif isinstance(sv.init, str) and sv.init not in model.params:
            problems.append(
                f"state[{sname!r}].init names parameter {sv.init!r}, which does not exist; "
                f"parameters: {', '.join(sorted(model.params)) or 'none'}"
            )
    if isinstance(model, LearningRule):
        both = sorted(set(model.pre_state) & set(model.post_state))
        if both:
            problems.append(f"traces {both} are both pre- and post-synaptic; rename one")
    if isinstance(model, NeuronModel) and not model.spiking and model.output not in model.state:
        problems.append(
            f"output {model.output!r} is neither 'spikes' nor a state variable "
            f"({', '.join(sorted(model.state))})"
        )
    step: object = model.step
    if not callable(step):
        problems.append("step is not callable")
    if "Discrete update" not in (model.doc or ""):
        problems.append(
            "its doc has no 'Discrete update' block stating the exact update the step computes"
        )
    if problems:
        raise AssertionError(f"{what} has an invalid schema: " + "; ".join(problems))


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _check_result(
    what: str, model: Definition, trial: h.Trial, new_state: dict[str, Any], out: Any
) -> None:
    names = h.expected_state(model)
    if sorted(new_state) != names:
        raise AssertionError(
            f"{what} returned state {sorted(new_state)} with {trial.label}, expected exactly "
            f"the schema's state {names}: return every state variable, and nothing else"
        )
    shapes = h.expected_shapes(model, trial)
    for key, value in [*new_state.items(), ("output", out)]:
        shape = np.shape(value)
        if shape != shapes[key]:
            where = "its output" if key == "output" else f"state {key!r}"
            raise AssertionError(
                f"{what} returned {where} with shape {shape} with {trial.label}, expected "
                f"{shapes[key]}"
            )


def check_step_is_pure(component: str | Definition, *, kind: str | None = None) -> None:
    """``step`` is a pure function.

    Run with read-only input arrays and read-only mappings, once per option choice: it must not
    write to them, must return the same outputs for the same inputs, and must return exactly
    the schema's state variables in their shapes.
    """
    model, kind, what = _resolve(component, kind)
    ops = NumpyOps("float64")
    for trial in h.trials(model):
        frozen = trial.copy()
        for arr in frozen.all_arrays().values():
            arr.setflags(write=False)
        before = {k: v.copy() for k, v in frozen.all_arrays().items()}
        try:
            first = h.call_step(model, ops, frozen, frozen=True)
        except ValueError as exc:
            if "read-only" not in str(exc):
                raise
            raise AssertionError(
                f"{what} mutates its input arrays in step ({trial.label}): {exc}. A step must "
                "return new arrays (v = v + x), never write into its arguments (v += x)"
            ) from exc
        except TypeError as exc:
            if "mappingproxy" not in str(exc):
                raise
            raise AssertionError(
                f"{what} mutates its input mappings in step ({trial.label}): {exc}. Build and "
                "return a new dict instead"
            ) from exc
        for key, arr in frozen.all_arrays().items():
            if not _same(arr, before[key]):
                raise AssertionError(
                    f"{what} mutates its input {key} in step ({trial.label}); a step must "
                    "return new arrays and leave its arguments untouched"
                )
        _check_result(what, model, trial, *first)
        second = h.call_step(model, ops, frozen, frozen=True)
        for key in first[0]:
            if not _same(first[0][key], second[0][key]):
                raise AssertionError(
                    f"{what} is not deterministic: two calls of step on the same inputs gave "
                    f"different state {key!r} ({trial.label}); keep no hidden state and draw "
                    "randomness only from ctx.key"
                )
        if not _same(first[1], second[1]):
            raise AssertionError(
                f"{what} is not deterministic: two calls of step on the same inputs gave "
                f"different outputs ({trial.label}); keep no hidden state and draw randomness "
                "only from ctx.key"
            )


def check_step_is_traceable(component: str | Definition, *, kind: str | None = None) -> None:
    """``step`` can be traced by a compiler (``jax.jit``, ``torch.compile``).

    Runs the step with ops whose arrays refuse truth tests, ``float()``, ``int()``, ``.item()``
    and ``.tolist()`` (including per-neuron parameters), once per option choice.
    """
    model, kind, what = _resolve(component, kind)
    ops = TracingOps("float64")
    for trial in h.trials(model):
        hetero = _heterogeneous(model, trial) if kind != "rule" else trial
        for t in (trial, hetero):
            try:
                h.call_step(model, ops, t.copy(), trace)
            except TracingError as exc:
                raise AssertionError(f"{what} is not traceable ({t.label}): {exc}") from exc


def check_dtype_preserved(component: str | Definition, *, kind: str | None = None) -> None:
    """float32 in gives float32 out: no state variable or output is upcast to float64."""
    model, kind, what = _resolve(component, kind)
    ops = NumpyOps("float32")
    for base in h.trials(model):
        variants = [base] if kind == "rule" else [base, _heterogeneous(model, base)]
        for trial in variants:
            t32 = trial.cast(np.float32)
            new_state, out = h.call_step(model, ops, t32)
            for key, value in [*sorted(new_state.items()), ("output", out)]:
                dtype = np.asarray(value).dtype
                if dtype != np.float32:
                    where = "its output" if key == "output" else f"state {key!r}"
                    raise AssertionError(
                        f"{what} upcasts float32: {where} came back as {dtype} "
                        f"({t32.label}). Keep constants as Python floats or pass them through "
                        "ops.asarray; never build float64 numpy scalars or arrays in a step"
                    )


def _heterogeneous(model: Definition, trial: h.Trial, *, which: int | None = None) -> h.Trial:
    """``trial`` with each per-neuron parameter alternating default / alternative value.

    ``which=None`` gives per-neuron arrays; ``0`` all defaults; ``1`` all alternatives.
    """
    params = dict(trial.params)
    for name, param in model.params.items():
        alt = h.alternative_value(param) if param.per_neuron else None
        if alt is None:
            continue
        if which is None:
            values = np.where(np.arange(h.N_POST) % 2 == 0, float(param.default), alt)
            params[name] = values.astype(np.float64)
        else:
            params[name] = float(param.default) if which == 0 else alt
    return h.Trial(
        trial.options,
        params,
        trial.state,
        trial.arrays,
        trial.layout,
        trial.pre_idx,
        trial.post_idx,
    )


def check_heterogeneous_params(component: str | Definition, *, kind: str | None = None) -> None:
    """Per-neuron ``[N]`` parameter arrays broadcast against ``[B, N]`` state.

    With every per-neuron parameter alternating between its default (even neurons) and another
    valid value (odd neurons), each neuron's result equals the result of a homogeneous run with
    that neuron's values.
    """
    model, kind, what = _resolve(component, kind)
    if kind == "rule":
        raise AssertionError(
            f"{what}: learning rules take scalar parameters only; this check applies to "
            "neuron and synapse models"
        )
    ops = NumpyOps("float64")
    varied = [n for n, p in model.params.items() if p.per_neuron and h.alternative_value(p)]
    for trial in h.trials(model):
        het_state, het_out = h.call_step(model, ops, _heterogeneous(model, trial).copy())
        _check_result(what, model, trial, het_state, het_out)
        even = h.call_step(model, ops, _heterogeneous(model, trial, which=0).copy())
        odd = h.call_step(model, ops, _heterogeneous(model, trial, which=1).copy())
        for key in [*sorted(het_state), "output"]:
            got = np.asarray(het_out if key == "output" else het_state[key])
            for parity, ref in ((0, even), (1, odd)):
                want = np.asarray(ref[1] if key == "output" else ref[0][key])
                cols = slice(parity, None, 2)
                if not np.allclose(
                    got[:, cols], want[:, cols], rtol=1e-12, atol=0.0, equal_nan=True
                ):
                    where = "its output" if key == "output" else f"state {key!r}"
                    raise AssertionError(
                        f"{what} does not broadcast per-neuron parameters ({trial.label}): "
                        f"with {', '.join(varied)} given one value per neuron, {where} of the "
                        f"{'even' if parity == 0 else 'odd'} neurons differs from a run with "
                        "those values for every neuron. Index parameters only by broadcasting "
                        "against the last (neuron) axis of [B, N]"
                    )


def check_runs_on_reference(component: str | Definition, *, kind: str | None = None) -> None:
    """A small network using the component simulates on the reference engine.

    Outputs are finite; a spiking neuron model spikes under strong input; a learning rule
    changes the weights it is given.
    """
    from neuropil_testkit import networks

    model, kind, what = _resolve(component, kind)
    if kind == "neuron":
        assert isinstance(model, NeuronModel)
        scale = networks.drive_scale(model.name, "delta")
        if model.spiking and scale is None:
            raise AssertionError(
                f"{what} never spiked on the reference engine, even driven by Poisson input "
                f"through weights up to {networks.MAX_DRIVE:g}; check its threshold and reset"
            )
        net = networks.single_population(model.name, "delta", scale=scale or 1.0)
    elif kind == "synapse":
        net = networks.single_population("lif", model.name, scale=None)
    else:
        net = networks.plastic(model.name, "dense")
    result = networks.simulate_reference(net, steps=60, batch=2, seed=3)
    for key, value in sorted(result.recordings.items()):
        if not np.all(np.isfinite(value)):
            raise AssertionError(
                f"{what}: the reference simulation of {net.name!r} recorded non-finite values "
                f"in {key!r}"
            )
    if kind == "rule":
        w = result.recordings[networks.PLASTIC_WEIGHTS]
        if np.array_equal(w[0], w[-1]):
            raise AssertionError(
                f"{what} left the weights unchanged over 60 steps of Poisson pre and post "
                "activity; check that step returns the updated weights"
            )
