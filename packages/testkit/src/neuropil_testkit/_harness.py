"""Calling one portable ``step`` in isolation: its arguments, its ops, its context.

The checks of neuron models, synapse models and learning rules call a component's ``step`` with
made-up but plausible arguments (state near the model's own thresholds, currents of the same
scale), once per choice of each option, and compare what comes back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from neuropil import (
    LearningRule,
    NeuronModel,
    Ops,
    Param,
    StateVar,
    StepContext,
    SurrogateDefinition,
    SynapseModel,
    initial_state,
)
from neuropil._ops import SurrogateFn

__all__ = [
    "BATCH",
    "N_POST",
    "N_PRE",
    "Trial",
    "alternative_value",
    "call_step",
    "expected_shapes",
    "expected_state",
    "kind_of",
    "option_variants",
    "trials",
]

Definition = NeuronModel | SynapseModel | LearningRule
Arr = npt.NDArray[Any]

BATCH = 3
#: Neurons of a neuron or synapse model's population (post-synaptic neurons of a rule).
N_POST = 7
#: Pre-synaptic neurons of a learning rule.
N_PRE = 5
DT = 1e-3

# The forward pass never calls a surrogate's derivative; this one exists so that ctx is complete.
# (BoundSurrogate.name is a read-only property; SurrogateFn declares a plain attribute.)
_SURROGATE = cast(
    SurrogateFn,
    SurrogateDefinition(
        name="fast_sigmoid",
        params={"slope": Param(25.0, "1", "steepness", low=0.0, low_inclusive=False)},
        derivative=lambda ops, x, p: 1.0 / (1.0 + p["slope"] * ops.abs(x)) ** 2,
        doc="1 / (1 + slope |x|)^2",
    ).bind(),
)


def kind_of(model: Definition) -> str:
    """``"neuron"``, ``"synapse"`` or ``"rule"``."""
    if isinstance(model, NeuronModel):
        return "neuron"
    if isinstance(model, SynapseModel):
        return "synapse"
    return "rule"


@dataclass
class Trial:
    """The arguments of one ``step`` call.

    Attributes:
        options: Every option of the model.
        params: Every parameter: Python floats, or per-neuron ``[N_POST]`` arrays.
        state: State (or traces), each ``[BATCH, n]``.
        arrays: The other array arguments: ``current`` (neuron), ``arriving`` (synapse), or
            ``weights``, ``pre`` and ``post`` (rule).
        layout: ``"dense"`` or ``"sparse"`` (rules only: the weights' layout).
    """

    options: dict[str, Any]
    params: dict[str, float | Arr]
    state: dict[str, Arr]
    arrays: dict[str, Arr]
    layout: str = "dense"
    pre_idx: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    post_idx: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def label(self) -> str:
        """How a message names this call: its options (and layout, for rules)."""
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        text = f"options {{{opts}}}" if opts else "default options"
        return f"{text}, {self.layout} weights" if self.layout != "dense" else text

    def cast(self, dtype: Any) -> Trial:
        """This trial with every array (per-neuron parameters included) cast to ``dtype``."""
        return replace(
            self,
            params={
                k: v.astype(dtype) if isinstance(v, np.ndarray) else v
                for k, v in self.params.items()
            },
            state={k: v.astype(dtype) for k, v in self.state.items()},
            arrays={k: v.astype(dtype) for k, v in self.arrays.items()},
        )

    def copy(self) -> Trial:
        """A deep copy of the arrays."""
        return self.cast(next(iter(self.arrays.values())).dtype)

    def all_arrays(self) -> dict[str, Arr]:
        """Every array argument by a readable name (``state['v']``, ``params['tau_mem']``)."""
        out = {f"state[{k!r}]": v for k, v in self.state.items()}
        out.update(dict(self.arrays.items()))
        out.update(
            {f"params[{k!r}]": v for k, v in self.params.items() if isinstance(v, np.ndarray)}
        )
        return out


class _DenseView:
    def pre(self, x: Any) -> Any:
        return x[:, None, :]

    def post(self, x: Any) -> Any:
        return x[:, :, None]


class _IndexView:
    def __init__(self, pre_idx: npt.NDArray[np.int64], post_idx: npt.NDArray[np.int64]) -> None:
        self._pre = pre_idx
        self._post = post_idx

    def pre(self, x: Any) -> Any:
        return x[:, self._pre]

    def post(self, x: Any) -> Any:
        return x[:, self._post]


def _state_vars(model: Definition) -> dict[str, Any]:
    if isinstance(model, LearningRule):
        return {**model.pre_state, **model.post_state}
    return dict(model.state)


def _typical_range(model: Definition, unit: str, init: float) -> tuple[float, float]:
    """A range of values for a state variable: its init and every parameter of its unit, widened
    by half its span on both sides so that thresholds are crossed both ways."""
    values = [init] + [float(p.default) for p in model.params.values() if p.unit == unit]
    lo, hi = min(values), max(values)
    span = max(hi - lo, abs(lo), abs(hi), 1.0 if unit == "1" else 1e-3)
    return lo - 0.5 * span, hi + 0.5 * span


def _init_values(
    state: Mapping[str, StateVar], params: Mapping[str, float | Arr]
) -> dict[str, float]:
    return {name: float(np.mean(value)) for name, value in initial_state(state, params).items()}


def _base_trial(model: Definition, options: dict[str, Any], seed: int) -> Trial:
    rng = np.random.default_rng(seed)
    params: dict[str, float | Arr] = {k: float(p.default) for k, p in model.params.items()}
    state: dict[str, Arr] = {}
    arrays: dict[str, Arr] = {}
    if isinstance(model, LearningRule):
        inits = _init_values({**model.pre_state, **model.post_state}, params)
        for name, sv in model.pre_state.items():
            lo, hi = _typical_range(model, sv.unit, inits[name])
            state[name] = rng.uniform(max(lo, 0.0), hi, (BATCH, N_PRE))
        for name, sv in model.post_state.items():
            lo, hi = _typical_range(model, sv.unit, inits[name])
            state[name] = rng.uniform(max(lo, 0.0), hi, (BATCH, N_POST))
        arrays["weights"] = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
        arrays["pre"] = (rng.random((BATCH, N_PRE)) < 0.4).astype(np.float64)
        arrays["post"] = (rng.random((BATCH, N_POST)) < 0.4).astype(np.float64)
        return Trial(options, params, state, arrays)
    scale = 1.0
    inits = _init_values(model.state, params)
    for i, (name, sv) in enumerate(model.state.items()):
        lo, hi = _typical_range(model, sv.unit, inits[name])
        state[name] = rng.uniform(lo, hi, (BATCH, N_POST))
        if i == 0:
            scale = (hi - lo) / 2
    drive = "current" if isinstance(model, NeuronModel) else "arriving"
    arrays[drive] = rng.normal(
        0.0, scale if isinstance(model, NeuronModel) else 1.0, (BATCH, N_POST)
    )
    return Trial(options, params, state, arrays)


def option_variants(model: Definition) -> Iterator[dict[str, Any]]:
    """The defaults, then each other choice of each option with the rest at their defaults."""
    defaults = {k: o.default for k, o in model.options.items()}
    yield dict(defaults)
    for name, opt in model.options.items():
        for choice in opt.choices:
            if choice != opt.default:
                yield {**defaults, name: choice}


def trials(model: Definition, seed: int = 0) -> Iterator[Trial]:
    """One trial per option variant (rules: each in a dense and a sparse weight layout)."""
    for k, options in enumerate(option_variants(model)):
        base = _base_trial(model, options, seed + k)
        yield base
        if isinstance(model, LearningRule):
            yield _sparse(base, seed + k)


def _sparse(trial: Trial, seed: int) -> Trial:
    rng = np.random.default_rng(seed + 1000)
    pairs = np.array(list(itertools.product(range(N_PRE), range(N_POST))), dtype=np.int64)
    keep = pairs[rng.random(len(pairs)) < 0.5]
    pre_idx, post_idx = keep[:, 0].copy(), keep[:, 1].copy()
    arrays = dict(trial.arrays)
    arrays["weights"] = rng.uniform(0.0, 1.0, len(keep))
    return replace(trial, arrays=arrays, layout="sparse", pre_idx=pre_idx, post_idx=post_idx)


def call_step(
    model: Definition,
    ops: Ops,
    trial: Trial,
    convert: Callable[[Any], Any] = lambda x: x,
    *,
    frozen: bool = False,
) -> tuple[dict[str, Any], Any]:
    """Call ``model.step`` on ``trial``.

    Args:
        convert: Applied to every array argument (e.g. to make it a traced array).
        frozen: Pass the mappings read-only (``MappingProxyType``).

    Returns:
        ``(new_state, output)``: output is the neuron's output, the synapse's current or the
        rule's new weights.
    """
    params = {k: convert(v) for k, v in trial.params.items()}
    state = {k: convert(v) for k, v in trial.state.items()}
    arrays = {k: convert(v) for k, v in trial.arrays.items()}

    def wrap(d: dict[str, Any]) -> Mapping[str, Any]:
        return MappingProxyType(d) if frozen else d

    options = dict(trial.options)
    if isinstance(model, LearningRule):
        view = (
            _DenseView() if trial.layout == "dense" else _IndexView(trial.pre_idx, trial.post_idx)
        )
        ctx = StepContext(dt=DT, surrogate=None, key=(7, 0))
        new_state, out = model.step(
            ops,
            wrap(params),
            wrap(options),
            wrap(state),
            arrays["weights"],
            arrays["pre"],
            arrays["post"],
            view,
            ctx,
        )
    elif isinstance(model, NeuronModel):
        ctx = StepContext(dt=DT, surrogate=_SURROGATE, key=(7, 0))
        new_state, out = model.step(
            ops, wrap(params), wrap(options), wrap(state), arrays["current"], ctx
        )
    else:
        ctx = StepContext(dt=DT, surrogate=None, key=(7, 0))
        new_state, out = model.step(
            ops, wrap(params), wrap(options), wrap(state), arrays["arriving"], ctx
        )
    return dict(new_state), out


def expected_state(model: Definition) -> list[str]:
    """The state (or trace) names a step must return, sorted."""
    return sorted(_state_vars(model))


def expected_shapes(model: Definition, trial: Trial) -> dict[str, tuple[int, ...]]:
    """The shape of each returned state variable, and of the output under ``"output"``."""
    shapes = {k: v.shape for k, v in trial.state.items()}
    if isinstance(model, LearningRule):
        shapes["output"] = trial.arrays["weights"].shape
    else:
        shapes["output"] = (BATCH, N_POST)
    return shapes


def alternative_value(param: Param) -> float | None:
    """A value of ``param`` other than its default and inside its bounds, or ``None``."""
    d = float(param.default)
    for candidate in (d * 1.25, d * 0.8, d + 0.1, d - 0.1, d + 1.0, d - 1.0):
        if candidate != d and param.contains(candidate):
            return candidate
    return None
