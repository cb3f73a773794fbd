"""Checks of portable components: neuron models, synapse models and learning rules.

Each check takes the component's registry name (``kind`` says which registry kind; neuron by
default) or the definition object itself, and raises :class:`AssertionError` with a message
naming the component, the property violated and the fix.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import random
import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import CodeType, FunctionType, ModuleType
from typing import Any

import numpy as np

from neuropil import LearningRule, NeuronModel, Option, Param, StateVar
from neuropil.reference import NumpyOps
from neuropil_testkit import _harness as h
from neuropil_testkit._components import Definition, load_definition
from neuropil_testkit._ops import (
    TracedArray,
    TracingError,
    TracingOps,
    _NoAttributeError,
    concrete,
    trace,
)

__all__ = [
    "check_dtype_preserved",
    "check_heterogeneous_params",
    "check_runs_on_reference",
    "check_schema_is_valid",
    "check_spikes_use_ops_spike",
    "check_step_is_pure",
    "check_step_is_traceable",
]

_NAME_RE = re.compile(r"[a-z0-9_]+")
# The seed of the other inputs (B) in the A, B, A calls of check_step_is_pure.
_OTHER_SEED = 101


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
    earlier: set[str] = set()
    for sname, sv in state.items():
        if not isinstance(sv, StateVar):
            problems.append(f"state[{sname!r}] is a {type(sv).__name__}, not a StateVar")
        elif isinstance(sv.init, str) and sv.init not in set(model.params) | earlier:
            problems.append(
                f"state[{sname!r}].init names {sv.init!r}, which is neither a parameter nor an "
                f"earlier state variable; parameters: {', '.join(sorted(model.params)) or 'none'}"
            )
        earlier.add(sname)
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


class _HostRandomnessError(Exception):
    """A step called a ``numpy.random`` / ``random`` function (see :func:`_no_host_randomness`)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# Set while ops.normal / ops.uniform run: they draw from the key with numpy.random themselves.
_KEYED_DRAW = [False]


def _random_functions() -> list[tuple[ModuleType, str]]:
    out: list[tuple[ModuleType, str]] = []
    for module in (np.random, random):
        names = getattr(module, "__all__", None) or dir(module)
        for name in names:
            attr = getattr(module, name, None)
            if not name.startswith("_") and callable(attr) and not isinstance(attr, ModuleType):
                out.append((module, name))
    return out


def _guarded(module: ModuleType, name: str, original: Any) -> Any:
    label = f"{module.__name__}.{name}"

    def guard(*args: Any, **kwargs: Any) -> Any:
        if _KEYED_DRAW[0]:
            return original(*args, **kwargs)
        raise _HostRandomnessError(label)

    return guard


@contextmanager
def _no_host_randomness() -> Iterator[None]:
    """While active, every public function and class of ``numpy.random`` and ``random`` raises
    :class:`_HostRandomnessError` (except inside ``ops.normal`` / ``ops.uniform``)."""
    saved = [(m, n, getattr(m, n)) for m, n in _random_functions()]
    try:
        for module, name, original in saved:
            setattr(module, name, _guarded(module, name, original))
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


class _KeyedOps(NumpyOps):
    """The reference ops, whose keyed draws may use ``numpy.random`` while it is guarded."""

    def normal(self, key: Any, shape: tuple[int, ...]) -> Any:
        """Standard normal samples from ``key``."""
        _KEYED_DRAW[0] = True
        try:
            return super().normal(key, shape)
        finally:
            _KEYED_DRAW[0] = False

    def uniform(self, key: Any, shape: tuple[int, ...]) -> Any:
        """Uniform samples in ``[0, 1)`` from ``key``."""
        _KEYED_DRAW[0] = True
        try:
            return super().uniform(key, shape)
        finally:
            _KEYED_DRAW[0] = False


def _fingerprint(x: object, depth: int = 0) -> object:
    """A comparable summary of ``x``'s contents: it changes when ``x`` is mutated."""
    if x is None or isinstance(x, bool | int | str | bytes):
        return x
    if isinstance(x, float | complex | np.generic):
        return repr(x)
    if isinstance(x, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes()).hexdigest()
        return ("array", x.shape, x.dtype.str, digest)
    if depth >= _FINGERPRINT_DEPTH or isinstance(x, ModuleType | type) or callable(x):
        return ("object", type(x).__qualname__, id(x))
    if isinstance(x, list | tuple | deque):
        return (type(x).__name__, tuple(_fingerprint(i, depth + 1) for i in x))
    if isinstance(x, dict):
        return (
            "dict",
            tuple((_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in x.items()),
        )
    if isinstance(x, set | frozenset):
        return ("set", len(x), tuple(sorted(repr(_fingerprint(i, depth + 1)) for i in x)))
    if isinstance(x, bytearray):
        return ("bytearray", bytes(x))
    attrs = getattr(x, "__dict__", None)
    if isinstance(attrs, dict):
        return (type(x).__qualname__, id(x), _fingerprint(attrs, depth + 1))
    return ("object", type(x).__qualname__, id(x))


_FINGERPRINT_DEPTH = 4
_FOLLOW_DEPTH = 4


def _code_names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _code_names(const)
    return names


def _reachable_state(step: object) -> dict[str, object]:
    """What a step can keep state in besides its arguments, by a readable name.

    The globals its code names, its default arguments and closure variables, and the same for
    the functions it calls that live in the step's own package.
    """
    found: dict[str, object] = {}
    seen: set[int] = set()
    package = (getattr(step, "__module__", None) or "").split(".")[0]

    def follow(fn: object, depth: int) -> None:
        if id(fn) in seen or depth > _FOLLOW_DEPTH:
            return
        seen.add(id(fn))
        if isinstance(fn, functools.partial):
            found[f"the arguments bound by functools.partial({fn.func!r})"] = (
                fn.args,
                fn.keywords,
            )
            follow(fn.func, depth + 1)
            return
        if inspect.ismethod(fn):
            found[f"the object of method {fn.__qualname__}"] = fn.__self__
            follow(fn.__func__, depth + 1)
            return
        if not isinstance(fn, FunctionType):
            call = inspect.getattr_static(type(fn), "__call__", None)
            if isinstance(call, FunctionType):
                found[f"the {type(fn).__qualname__} object called as step"] = fn
                follow(call, depth + 1)
            return
        if depth > 0 and (fn.__module__ or "").split(".")[0] != package:
            return
        code, where = fn.__code__, fn.__qualname__
        positional = code.co_varnames[: code.co_argcount]
        for name, value in zip(positional[::-1], (fn.__defaults__ or ())[::-1], strict=False):
            found[f"default argument {name!r} of {where}"] = value
        for name, value in (fn.__kwdefaults__ or {}).items():
            found[f"default argument {name!r} of {where}"] = value
        for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            found[f"closure variable {name!r} of {where}"] = value
            follow(value, depth + 1)
        for name in sorted(_code_names(code)):
            if name not in fn.__globals__:
                continue
            value = fn.__globals__[name]
            if isinstance(value, FunctionType | functools.partial):
                follow(value, depth + 1)
            elif not isinstance(value, ModuleType | type):
                found[f"global {name!r} of module {fn.__module__}"] = value

    follow(step, 0)
    return found


def _hidden_state_changes(step: object, before: dict[str, object]) -> list[str]:
    after = {k: _fingerprint(v) for k, v in _reachable_state(step).items()}
    return sorted(k for k, v in after.items() if k in before and before[k] != v)


def _frozen(trial: h.Trial) -> h.Trial:
    frozen = trial.copy()
    for arr in frozen.all_arrays().values():
        arr.setflags(write=False)
    return frozen


def _other_inputs(model: Definition, trial: h.Trial) -> h.Trial:
    """``trial`` with every parameter at another valid value (the B of an A, B, A sequence)."""
    params = dict(trial.params)
    for name, param in model.params.items():
        alt = h.alternative_value(param)
        if alt is not None:
            params[name] = alt
    return replace(trial, params=params)


def _pure_call(
    what: str, model: Definition, ops: NumpyOps, trial: h.Trial
) -> tuple[dict[str, Any], Any]:
    """Call the step on read-only inputs with host randomness refused."""
    try:
        with _no_host_randomness():
            return h.call_step(model, ops, trial, frozen=True)
    except _HostRandomnessError as exc:
        raise AssertionError(
            f"{what} draws randomness from {exc.name} in step ({trial.label}): draw randomness "
            "with ops.normal(ctx.key, shape) or ops.uniform(ctx.key, shape), so that runs are "
            "reproducible and every backend draws the same numbers"
        ) from exc
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


def check_step_is_pure(component: str | Definition, *, kind: str | None = None) -> None:
    """``step`` is a pure function.

    Once per option choice, the step runs on read-only input arrays and read-only mappings as
    A, then B (other inputs and other parameter values), then A again. It must not write to its
    inputs; it must return exactly the schema's state variables in their shapes; both calls
    on A must give the same result (a step that remembers earlier calls does not); no global,
    default argument or closure variable the step can reach (followed through the functions it
    calls in its own package) may change; and every function of ``numpy.random`` and
    ``random`` raises while it runs: randomness comes only from ``ctx.key`` through
    ``ops.normal`` / ``ops.uniform``.
    """
    model, kind, what = _resolve(component, kind)
    ops = _KeyedOps("float64")
    state_before = {k: _fingerprint(v) for k, v in _reachable_state(model.step).items()}
    for trial, other in zip(h.trials(model), h.trials(model, seed=_OTHER_SEED), strict=True):
        frozen = _frozen(trial)
        before = {k: v.copy() for k, v in frozen.all_arrays().items()}
        first = _pure_call(what, model, ops, frozen)
        for key, arr in frozen.all_arrays().items():
            if not _same(arr, before[key]):
                raise AssertionError(
                    f"{what} mutates its input {key} in step ({trial.label}); a step must "
                    "return new arrays and leave its arguments untouched"
                )
        _check_result(what, model, trial, *first)
        try:
            _pure_call(what, model, ops, _frozen(_other_inputs(model, other)))
        except AssertionError:
            raise
        except Exception:
            # Each alternative value is within its bounds, but together they may not be a
            # valid combination for this model: then B keeps A's parameters.
            _pure_call(what, model, ops, _frozen(other))
        again = _pure_call(what, model, ops, frozen)
        changed = _hidden_state_changes(model.step, state_before)
        if changed:
            raise AssertionError(
                f"{what} keeps hidden state: {', '.join(changed)} changed while step ran "
                f"({trial.label}). A step must be a function of its arguments only: no "
                "module-level caches or counters, no mutable default arguments; compute "
                "values like exp(-dt / tau) inside the step and carry what must persist in "
                "the model's state"
            )
        for key in [*sorted(first[0]), "output"]:
            a = first[1] if key == "output" else first[0][key]
            b = again[1] if key == "output" else again[0][key]
            if not _same(a, b):
                where = "outputs" if key == "output" else f"state {key!r}"
                raise AssertionError(
                    f"{what} is not deterministic: step gave different {where} for the same "
                    f"inputs when called again after a call on other inputs ({trial.label}); "
                    "keep no hidden state and draw randomness only from ctx.key"
                )


def check_step_is_traceable(component: str | Definition, *, kind: str | None = None) -> None:
    """``step`` can be traced by a compiler (``jax.jit``, ``torch.compile``).

    Runs the step with :class:`~neuropil_testkit.TracingOps`, once per option choice, with
    scalar and with per-neuron parameters (traced too). Its arrays are opaque, as a tracer's
    are: truth tests, ``float()`` / ``int()``, ``.item()``, ``.tolist()``, ``np.asarray``,
    numpy functions and ufuncs (``np.exp``, ``np.where``, ``np.stack``), numpy arrays mixed into
    the arithmetic, boolean-mask indexing and iteration all fail with the fix named.
    """
    model, kind, what = _resolve(component, kind)
    ops = TracingOps("float64")
    for trial in h.trials(model):
        hetero = _heterogeneous(model, trial) if kind != "rule" else trial
        for t in (trial, hetero):
            _traced_call(what, model, ops, t)


def _traced_call(
    what: str, model: Definition, ops: TracingOps, trial: h.Trial
) -> tuple[dict[str, Any], Any]:
    try:
        return h.call_step(model, ops, trial.copy(), trace)
    except (TracingError, _NoAttributeError) as exc:
        raise AssertionError(f"{what} is not traceable ({trial.label}): {exc}") from exc


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


def _with_param(trial: h.Trial, name: str, value: float | np.ndarray[Any, Any]) -> h.Trial:
    return replace(trial.copy(), params={**trial.params, name: value})


def _unreachable_threshold(param: Param) -> float | None:
    """A threshold value far above any potential the standard trials produce, within bounds."""
    default = float(param.default)
    for candidate in (param.high, default + 1e3 * max(1.0, abs(default))):
        if candidate is not None and param.contains(float(candidate)):
            return float(candidate)
    return None


def _check_strict_threshold(what: str, model: NeuronModel, trial: h.Trial) -> None:
    """With ``v_th`` set to the very ``v`` the step computes, no spike (neuron by neuron).

    The ``v`` a step computes is read from a run whose threshold no neuron reaches. Setting
    ``v_th`` to it and a little above it must give the same (no) spike: a model whose output
    flips between the two fires at ``v == v_th``.
    """
    v_th = model.params.get("v_th")
    if "v" not in model.state or v_th is None or not v_th.per_neuron:
        return
    high = _unreachable_threshold(v_th)
    if high is None:
        return
    ops = NumpyOps("float64")
    quiet_state, quiet_out = h.call_step(model, ops, _with_param(trial, "v_th", high))
    if np.any(np.asarray(quiet_out) != 0):
        # Spikes with the threshold out of reach: this model's spikes do not come from v alone.
        return
    v1 = np.asarray(quiet_state["v"], dtype=np.float64)
    for b in range(v1.shape[0]):
        at = v1[b].copy()
        above = at + 1e-6 * np.maximum(1.0, np.abs(at))
        out_at = np.asarray(h.call_step(model, ops, _with_param(trial, "v_th", at))[1])
        out_above = np.asarray(h.call_step(model, ops, _with_param(trial, "v_th", above))[1])
        flips = (out_at[b] != 0) & (out_above[b] == 0)
        if flips.any():
            n = int(np.flatnonzero(flips)[0])
            raise AssertionError(
                f"{what} spikes when v equals v_th exactly ({trial.label}; batch entry {b}, "
                f"neuron {n}: v = v_th = {at[n]!r}, and no spike with v_th 1e-6 higher). The "
                "threshold is strict, a spike only where v > v_th: "
                "s = ops.spike(v - v_th, ctx.surrogate)"
            )


def check_spikes_use_ops_spike(component: str | Definition, *, kind: str | None = None) -> None:
    """A spiking neuron model emits ``ops.spike``'s result, with its strict threshold.

    Under :class:`~neuropil_testkit.TracingOps`, once per option choice, the output must be a
    result of ``ops.spike(x, ctx.surrogate)`` or be made from such results only by masking
    (``ops.where(cond, s, 0)``, ``ops.where(cond, 0, s)``, ``ops.where(cond, s1, s2)``,
    ``s * mask``, ``ops.maximum`` / ``ops.minimum`` of spikes, ``ops.asarray``, ``ops.clip``):
    only then does every backend apply the population's surrogate gradient and the same strict
    ``x > 0``. A threshold written with comparisons (``ops.where(v >= v_th, 1, 0)``),
    ``1 - ops.spike(...)`` or ``ops.stop_gradient`` fails. Its values must be 0 or 1 (checked
    with the input current scaled up by powers of 10 until some neuron fires).

    For a model with a state ``v`` and a per-neuron parameter ``v_th`` (neuropil's naming), the
    threshold must be strict: with ``v_th`` set, neuron by neuron, to the ``v`` the step computes
    (read from a run whose threshold no neuron reaches), the output must be no different from
    the one with ``v_th`` 1e-6 higher.
    """
    model, kind, what = _resolve(component, kind)
    if not isinstance(model, NeuronModel) or not model.spiking:
        raise AssertionError(
            f"{what}: check_spikes_use_ops_spike applies to spiking neuron models (output "
            "'spikes') only"
        )
    ops = TracingOps("float64")
    for trial in h.trials(model):
        _, out = _traced_call(what, model, ops, trial)
        if not (isinstance(out, TracedArray) and out.is_spike):
            got = (
                "an array computed from other values"
                if isinstance(out, TracedArray)
                else f"a {type(out).__name__}"
            )
            raise AssertionError(
                f"{what} does not emit the result of ops.spike ({trial.label}): its output is "
                f"{got}. Return s = ops.spike(v - v_th, ctx.surrogate), masked at most with "
                "ops.where(cond, s, 0) or s * mask: a threshold written with comparisons "
                "(ops.where(v >= v_th, 1, 0)), 1 - ops.spike(...) or ops.stop_gradient has no "
                "surrogate gradient and not the strict v > v_th of every backend"
            )
        values = np.asarray(concrete(out))
        gain = 1.0
        while not values.any() and gain < 1e6:
            # No neuron fired at this input's scale: drive harder, so that spikes show.
            gain *= 10.0
            strong = replace(trial, arrays={"current": trial.arrays["current"] * gain})
            values = np.asarray(concrete(_traced_call(what, model, ops, strong)[1]))
        if not np.all((values == 0) | (values == 1)):
            raise AssertionError(
                f"{what} emits values other than 0 and 1 ({trial.label}): spikes are 0.0 or "
                "1.0; scale them in the weights of the projections, not in the neuron"
            )
        _check_strict_threshold(what, model, trial)
