"""Standard networks of the conformance checks (and for plugin authors' own tests).

Every builder returns a fresh :class:`~neuropil.Network` with fixed seeds, small enough to
simulate in milliseconds on the reference engine, and probes on everything worth comparing:
spikes of spiking populations, every neuron state variable, every synapse state variable and,
for plastic projections, the weights.

Input weights are calibrated on the reference engine (:func:`drive_scale`) so that every spiking
population of a standard case fires at a few to a few tens of percent of steps
(:data:`ACTIVITY_BAND`): a silent population, or one that fires at every step, would let a
backend that gets its dynamics wrong pass. :func:`reference_cases` lists the cases that
``check_matches_reference`` runs on a backend.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import neuropil
from neuropil import (
    Connectivity,
    Input,
    Network,
    NeuronModel,
    Param,
    Plasticity,
    Population,
    WeightInit,
    get_registry,
)
from neuropil.protocols import SimulationResult
from neuropil_testkit import stimuli

__all__ = [
    "ACTIVITY_BAND",
    "CONNECTIVITY_KINDS",
    "DELAY_KINDS",
    "MAX_DRIVE",
    "PLASTIC_WEIGHTS",
    "TARGET_RATE",
    "Case",
    "connectivity",
    "constrained",
    "deployable",
    "diamond",
    "drive_scale",
    "feedforward_recurrent",
    "gradient",
    "heterogeneous",
    "initial_state",
    "neuron_options",
    "one_step",
    "oversized",
    "plastic",
    "probe_index",
    "readout",
    "reference_cases",
    "rule_variants",
    "simulate_reference",
    "single_population",
    "synapse_variants",
    "with_delay",
]

#: The largest input weight :func:`drive_scale` tries before deciding a model never spikes.
MAX_DRIVE = 1e6
#: The fraction of steps at which :func:`drive_scale` makes a neuron fire.
TARGET_RATE = 0.1
#: ``(low, high)``: every spiking population of a standard case fires at a fraction of steps in
#: this band on the reference engine (the testkit's own tests assert it).
ACTIVITY_BAND: tuple[float, float] = (0.02, 0.30)
#: The recording key of the plastic projection's weights in :func:`plastic`.
PLASTIC_WEIGHTS = "in->pop.weights"
CONNECTIVITY_KINDS: tuple[str, ...] = ("dense", "sparse", "one_to_one", "conv2d", "list", "random")
DELAY_KINDS: tuple[str, ...] = ("0", "1", "3", "per_synapse")
_DT = 1e-3
_INPUT_RATE_HZ = 200.0
# Rate of a population calibrated to TARGET_RATE, seen as the input of the next one.
_HIDDEN_RATE_HZ = TARGET_RATE / _DT
# The weight scales drive_scale tries: 8 per decade, so that the rate at the chosen one is
# within a factor of about 1.3 in drive of the target.
_LADDER = 10.0 ** np.arange(-5.0, np.log10(MAX_DRIVE) + 1e-9, 0.125)
_PER_LEVEL = 8


@dataclass(frozen=True)
class Case:
    """One standard simulation: a network, its stimulus and how long to run it.

    Attributes:
        name: Short id (``"lif-exponential"``, ``"conv2d"``, ``"delay-3"``, ``"stdp-sparse"``).
        build: Builds the network (fresh each call).
        steps: ``T``.
        batch: ``B``.
        seed: Seed of the Poisson stimulus (and of the compiled simulator).
        rate_hz: Rate of every Poisson input channel.
    """

    name: str
    build: Callable[[], Network]
    steps: int = 50
    batch: int = 2
    seed: int = 0
    rate_hz: float = _INPUT_RATE_HZ

    def inputs(self, network: Network) -> dict[str, npt.NDArray[Any]]:
        """The case's Poisson input for ``network``: input name to ``[T, B, *shape]``."""
        return stimuli.network_inputs(
            network, steps=self.steps, batch=self.batch, rate_hz=self.rate_hz, seed=self.seed
        )


def simulate_reference(
    network: Network,
    *,
    steps: int = 50,
    batch: int = 2,
    seed: int = 0,
    rate_hz: float = _INPUT_RATE_HZ,
) -> SimulationResult:
    """Simulate ``network`` on the reference engine in float64 under Poisson input."""
    from neuropil.reference import NumpyBackend

    sim = NumpyBackend().compile(network, dtype="float64", seed=seed)
    inputs = stimuli.network_inputs(network, steps=steps, batch=batch, rate_hz=rate_hz, seed=seed)
    return sim.run(inputs, steps=steps)


def _probe_all(net: Network, pop: Population) -> None:
    model = get_registry().neuron(pop.model)
    if model.spiking:
        net.probe(pop, "spikes")
    for var in model.state:
        net.probe(pop, var)


def _probe_synapses(net: Network) -> None:
    reg = get_registry()
    for proj in net.projections:
        for var in reg.synapse(proj.synapse).state:
            net.probe(proj.name, f"syn.{var}")


def _uniform(shape: tuple[int, ...], scale: float, seed: int) -> npt.NDArray[np.float64]:
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape) * scale


# -- calibration ------------------------------------------------------------------------------

Values = Mapping[str, Any]

# The calibration's arguments and the ids of the definitions -> (the definitions, scale).
# Holding the definitions keeps their ids from being reused by other objects while cached.
_CALIBRATED: dict[tuple[Any, ...], tuple[Any, Any, float | None]] = {}


def _freeze(values: Values | None) -> tuple[Any, ...]:
    return tuple(
        (k, tuple(np.ravel(v).tolist()) if isinstance(v, np.ndarray) else v)
        for k, v in sorted((values or {}).items())
    )


def _scale(
    neuron: str,
    synapse: str = "delta",
    *,
    n_in: int = 10,
    rate_hz: float = _INPUT_RATE_HZ,
    params: Values | None = None,
    options: Values | None = None,
    synapse_params: Values | None = None,
    synapse_options: Values | None = None,
) -> float | None:
    reg = get_registry()
    model, syn = reg.neuron(neuron), reg.synapse(synapse)
    key = (
        neuron,
        synapse,
        id(model),
        id(syn),
        n_in,
        rate_hz,
        _freeze(params),
        _freeze(options),
        _freeze(synapse_params),
        _freeze(synapse_options),
    )
    if key not in _CALIBRATED:
        scale = (
            _search_scale(
                neuron,
                synapse,
                n_in=n_in,
                rate_hz=rate_hz,
                params=dict(params or {}),
                options=dict(options or {}),
                synapse_params=dict(synapse_params or {}),
                synapse_options=dict(synapse_options or {}),
            )
            if model.spiking
            else 1.0
        )
        _CALIBRATED[key] = (model, syn, scale)
    return _CALIBRATED[key][2]


def _tile(values: dict[str, Any], levels: int) -> dict[str, Any]:
    return {k: np.tile(v, levels) if isinstance(v, np.ndarray) else v for k, v in values.items()}


def _search_scale(
    neuron: str,
    synapse: str,
    *,
    n_in: int,
    rate_hz: float,
    params: dict[str, Any],
    options: dict[str, Any],
    synapse_params: dict[str, Any],
    synapse_options: dict[str, Any],
) -> float | None:
    # One simulation calibrates every scale at once: the population holds _PER_LEVEL neurons
    # (or one copy of the per-neuron parameters) per scale of the ladder, driven independently.
    arrays = [v for v in (*params.values(), *synapse_params.values()) if isinstance(v, np.ndarray)]
    per = len(arrays[0]) if arrays else _PER_LEVEL
    levels = len(_LADDER)
    net = Network(dt=_DT, name=f"calibrate-{neuron}-{synapse}")
    inp = net.input("in", n_in)
    pop = net.population("pop", levels * per, neuron, options=options)
    pop.params = _tile(params, levels)
    weights = np.repeat(_LADDER, per)[:, None] * _uniform((levels * per, n_in), 1.0, seed=1)
    proj = net.connect(inp, pop, synapse, weights=weights, synapse_options=synapse_options)
    proj.synapse_params = _tile(synapse_params, levels)
    net.probe(pop, "spikes")
    steps, batch = 50, 4
    with np.errstate(all="ignore"):
        spikes = simulate_reference(net, steps=steps, batch=batch, seed=11, rate_hz=rate_hz)
    rates = np.nan_to_num(spikes["pop.spikes"]).reshape(steps * batch, levels, per).mean((0, 2))
    for target in (TARGET_RATE, ACTIVITY_BAND[0]):
        reached = np.nonzero(rates >= target)[0]
        if reached.size:
            return float(_LADDER[reached[0]])
    return None


def drive_scale(neuron: str, synapse: str = "delta") -> float | None:
    """The input weight at which ``neuron`` fires at about :data:`TARGET_RATE` (10 %) of steps.

    Ten Poisson channels at 200 Hz drive neurons for 50 steps (as long as most cases) through
    ``synapse`` with dense weights ``scale * U(0.5, 1.5)``; ``scale`` steps through ``1e-5,
    10**-4.875, ..., MAX_DRIVE`` (all in one reference simulation, cached) and the first scale
    at which the neurons fire at >= 10 % of steps is taken (>= 2 % when none reaches 10 %).
    Non-spiking models give ``1.0``.

    Returns:
        The scale, or ``None`` when the model never fires at 2 % of steps.
    """
    return _scale(neuron, synapse)


def _single(neuron: str, synapse: str, scale: float, *, n_in: int, n: int) -> Network:
    net = Network(dt=_DT, name=f"single-{neuron}-{synapse}")
    inp = net.input("in", n_in)
    pop = net.population("pop", n, neuron)
    net.connect(inp, pop, synapse, weights=_uniform((n, n_in), scale, seed=1))
    return net


def single_population(
    neuron: str,
    synapse: str = "delta",
    *,
    scale: float | None = None,
    n_in: int = 10,
    n: int = 20,
) -> Network:
    """Input ``in`` (``n_in``) -> population ``pop`` (``n``, model ``neuron``), dense, delay 1.

    Args:
        scale: Input weight scale; :func:`drive_scale` (or 1) when ``None``.
    """
    if scale is None:
        scale = drive_scale(neuron, synapse) or 1.0
    net = _single(neuron, synapse, scale, n_in=n_in, n=n)
    _probe_all(net, net.populations[0])
    _probe_synapses(net)
    return net


# -- structure: connectivity, delays, order ------------------------------------------------


def feedforward_recurrent(neuron: str, synapse: str) -> Network:
    """``in`` (10) -> ``a`` (16) -> ``a`` (recurrent) and ``a`` -> ``b`` (8).

    ``in -> a`` dense, delay 1; ``a -> a`` random (p 0.3), mixed-sign weights, delay 2;
    ``a -> b`` dense, delay 0 (same step). Every population has model ``neuron``, every
    projection synapse ``synapse``; both layers' weights are calibrated (:func:`drive_scale`).
    """
    scale = _scale(neuron, synapse) or 1.0
    spiking = get_registry().neuron(neuron).spiking
    rec_gain = 0.5 if spiking else 0.05
    ff_scale = (_scale(neuron, synapse, n_in=16, rate_hz=_HIDDEN_RATE_HZ) or 1.0) if spiking else 1
    net = Network(dt=_DT, name=f"ffrec-{neuron}-{synapse}")
    inp = net.input("in", 10)
    a = net.population("a", 16, neuron)
    b = net.population("b", 8, neuron)
    net.connect(inp, a, synapse, weights=_uniform((16, 10), scale, seed=2), delay=1)
    net.connect(
        a,
        a,
        synapse,
        connectivity=Connectivity.random(0.3, seed=5),
        weights=WeightInit("normal", {"mean": 0.0, "std": rec_gain * scale}, seed=6),
        delay=2,
    )
    net.connect(a, b, synapse, weights=_uniform((8, 16), ff_scale, seed=3), delay=0)
    _probe_all(net, a)
    _probe_all(net, b)
    _probe_synapses(net)
    return net


def connectivity(kind: str, neuron: str = "lif", synapse: str = "delta") -> Network:
    """One projection ``in -> pop`` of connectivity ``kind`` (see :data:`CONNECTIVITY_KINDS`).

    ``conv2d`` maps a ``(1, 6, 6)`` input to a ``(2, 4, 4)`` population with 3x3 kernels; the
    others map 36 channels to 16 neurons (36 for ``one_to_one``). Weights are calibrated for
    each kind's fan-in.
    """
    if kind not in CONNECTIVITY_KINDS:
        raise ValueError(f"unknown connectivity case {kind!r}; choose one of {CONNECTIVITY_KINDS}")
    net = Network(dt=_DT, name=f"conn-{kind}")
    rng = np.random.default_rng(4)
    if kind == "conv2d":
        scale = _scale(neuron, synapse, n_in=9) or 1.0
        inp = net.input("in", 36, shape=(1, 6, 6))
        pop = net.population("pop", 32, neuron, shape=(2, 4, 4))
        net.connect(
            inp,
            pop,
            synapse,
            connectivity=Connectivity.conv2d(3),
            weights=_uniform((2, 1, 3, 3), scale, seed=7),
        )
    elif kind == "one_to_one":
        scale = _scale(neuron, synapse, n_in=1) or 1.0
        inp = net.input("in", 36)
        pop = net.population("pop", 36, neuron)
        net.connect(
            inp,
            pop,
            synapse,
            connectivity="one_to_one",
            weights=_uniform((36,), scale, seed=7),
        )
    else:
        inp = net.input("in", 36)
        pop = net.population("pop", 16, neuron)
        if kind == "dense":
            scale = _scale(neuron, synapse, n_in=36) or 1.0
            net.connect(inp, pop, synapse, weights=_uniform((16, 36), scale, seed=7))
        elif kind == "random":
            scale = _scale(neuron, synapse, n_in=11) or 1.0
            net.connect(
                inp,
                pop,
                synapse,
                connectivity=Connectivity.random(0.3, seed=8),
                weights=WeightInit("uniform", {"low": 0.5 * scale, "high": 1.5 * scale}, seed=9),
            )
        else:
            scale = _scale(neuron, synapse, n_in=11) or 1.0
            mask = rng.random((16, 36)) < 0.3
            post, pre = np.nonzero(mask)
            conn = (
                Connectivity.sparse(pre, post)
                if kind == "sparse"
                else Connectivity.from_list(list(zip(pre.tolist(), post.tolist(), strict=True)))
            )
            net.connect(
                inp, pop, synapse, connectivity=conn, weights=_uniform((len(pre),), scale, seed=7)
            )
    _probe_all(net, pop)
    _probe_synapses(net)
    return net


def with_delay(kind: str, neuron: str = "lif", synapse: str = "delta") -> Network:
    """``in -> a -> b`` where both projections have delay ``kind`` (see :data:`DELAY_KINDS`).

    ``per_synapse`` gives each synapse of a sparse projection its own delay in ``0..4``.
    """
    if kind not in DELAY_KINDS:
        raise ValueError(f"unknown delay case {kind!r}; choose one of {DELAY_KINDS}")
    net = Network(dt=_DT, name=f"delay-{kind}")
    inp = net.input("in", 12)
    a = net.population("a", 10, neuron)
    b = net.population("b", 6, neuron)
    if kind == "per_synapse":
        rng = np.random.default_rng(12)
        layers: list[tuple[Input | Population, Population, int, int, float]] = [
            (inp, a, 12, 10, _INPUT_RATE_HZ),
            (a, b, 10, 6, _HIDDEN_RATE_HZ),
        ]
        for k, (pre, post, n_pre, n_post, rate) in enumerate(layers):
            pairs = np.array([(i, j) for i in range(n_pre) for j in range(n_post)])
            keep = pairs[rng.random(len(pairs)) < 0.5]
            scale = _scale(neuron, synapse, n_in=n_pre // 2, rate_hz=rate) or 1.0
            net.connect(
                pre,
                post,
                synapse,
                connectivity=Connectivity.sparse(keep[:, 0], keep[:, 1]),
                weights=_uniform((len(keep),), scale, seed=13 + k),
                delay=rng.integers(0, 5, len(keep)),
            )
    else:
        d = int(kind)
        scale_a = _scale(neuron, synapse, n_in=12) or 1.0
        scale_b = _scale(neuron, synapse, n_in=10, rate_hz=_HIDDEN_RATE_HZ) or 1.0
        net.connect(inp, a, synapse, weights=_uniform((10, 12), scale_a, seed=14), delay=d)
        net.connect(a, b, synapse, weights=_uniform((6, 10), scale_b, seed=15), delay=d)
    _probe_all(net, a)
    _probe_all(net, b)
    _probe_synapses(net)
    return net


def diamond(neuron: str = "lif", synapse: str = "delta") -> Network:
    """A diamond of same-step projections whose populations are declared against their order.

    Populations are declared ``c``, ``b``, ``a``; ``in -> a`` and ``in -> b`` have delay 1,
    ``a -> b``, ``a -> c`` and ``b -> c`` delay 0, so within one step ``a`` must be updated
    before ``b`` and both before ``c`` (the order of ``ResolvedNetwork.order``): a backend that
    updates populations in declaration order reads outputs that do not exist yet.
    """
    net = Network(dt=_DT, name="order-diamond")
    inp = net.input("in", 10)
    c = net.population("c", 6, neuron)
    b = net.population("b", 8, neuron)
    a = net.population("a", 8, neuron)
    scale_in = _scale(neuron, synapse) or 1.0
    scale_hidden = _scale(neuron, synapse, n_in=8, rate_hz=_HIDDEN_RATE_HZ) or 1.0
    net.connect(inp, a, synapse, weights=_uniform((8, 10), scale_in, seed=30))
    net.connect(inp, b, synapse, weights=_uniform((8, 10), 0.5 * scale_in, seed=31))
    net.connect(a, b, synapse, weights=_uniform((8, 8), 0.5 * scale_hidden, seed=32), delay=0)
    net.connect(a, c, synapse, weights=_uniform((6, 8), 0.5 * scale_hidden, seed=33), delay=0)
    net.connect(b, c, synapse, weights=_uniform((6, 8), 0.5 * scale_hidden, seed=34), delay=0)
    for pop in (a, b, c):
        _probe_all(net, pop)
    _probe_synapses(net)
    return net


def probe_index(neuron: str = "lif") -> Network:
    """``in`` (10) -> ``pop`` (8) with probes on a subset of neurons, in no sorted order.

    ``pop.spikes`` records neurons ``[3, 0, 5]`` and ``pop.v`` neurons ``[6, 1, 3, 2]``, in
    those orders: a recording ``[T, B, 3]`` whose last axis follows the probe's ``index``.
    """
    net = Network(dt=_DT, name="probe-index")
    inp = net.input("in", 10)
    pop = net.population("pop", 8, neuron)
    net.connect(inp, pop, weights=_uniform((8, 10), _scale(neuron) or 1.0, seed=35))
    model = get_registry().neuron(neuron)
    if model.spiking:
        net.probe(pop, "spikes", index=[3, 0, 5])
    first = next(iter(model.state), None)
    if first is not None:
        net.probe(pop, first, index=[6, 1, 3, 2])
    return net


# -- parameters, state and options ------------------------------------------------------------


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]", "_", text)


def _magnitude(params: Mapping[str, Param], unit: str, scale: float, *extra: float) -> float:
    """A typical size of a quantity in ``unit``: the largest default of that unit, else the
    calibrated input weight for currents, 20 steps for times, else 1."""
    sizes = [abs(float(p.default)) for p in params.values() if p.unit == unit]
    sizes += [abs(x) for x in extra]
    largest = max(sizes, default=0.0)
    if largest > 0:
        return largest
    return {"A": scale, "s": 20 * _DT}.get(unit, 1.0)


def _inside(param: Param, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``values`` moved just inside ``param``'s bounds."""
    low = param.low
    high = param.high
    if low is not None:
        values = np.maximum(values, low if param.low_inclusive else np.nextafter(low, np.inf))
    if high is not None:
        values = np.minimum(values, high if param.high_inclusive else np.nextafter(high, -np.inf))
    return values


def _nondefault(
    params: Mapping[str, Param], n: int | None, scale: float, seed: int
) -> dict[str, Any]:
    """A value other than the default for every parameter, inside its bounds.

    Per-neuron parameters (when ``n`` is given) get ``n`` values spread around the default:
    ``default * U(0.8, 1.2)``, or, for a default of 0, ``U(-0.1, 0.1)`` times the typical size
    of the unit (``U(0, 0.1)`` when negative values are out of bounds). Scalars are scaled by
    1.25 (or moved by 0.1 times the typical size).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for name, p in params.items():
        d = float(p.default)
        size = _magnitude(params, p.unit, scale)
        nonneg = p.low is not None and p.low >= 0
        if n is not None and p.per_neuron:
            if d != 0:
                values = d * rng.uniform(0.8, 1.2, n)
            else:
                values = size * rng.uniform(0.0 if nonneg else -0.1, 0.1, n)
            out[name] = _inside(p, values)
        else:
            moved = (d - 0.1 * size, d + 0.1 * size)
            candidates = (d * 1.25, *moved) if d else moved
            out[name] = next((c for c in candidates if c != d and p.contains(c)), d)
    return out


def heterogeneous(neuron: str, synapse: str = "delta") -> Network:
    """``in`` (10) -> ``pop`` (20): every per-neuron parameter of ``neuron`` given one value
    per neuron, away from its default (see the module's ``_nondefault``); scalar-only
    parameters at a non-default value. The input weights are calibrated for those values."""
    model = get_registry().neuron(neuron)
    n = 20
    params = _nondefault(model.params, n, _scale(neuron, synapse) or 1.0, seed=40)
    scale = _scale(neuron, synapse, params=params) or 1.0
    net = Network(dt=_DT, name=f"params-{neuron}")
    inp = net.input("in", 10)
    pop = net.population("pop", n, neuron)
    pop.params = params
    net.connect(inp, pop, synapse, weights=_uniform((n, 10), scale, seed=41))
    _probe_all(net, pop)
    return net


def _initial_values(
    model: NeuronModel, n: int, scale: float, seed: int
) -> dict[str, npt.NDArray[np.float64]]:
    """Per-neuron initial values other than each state variable's ``init``.

    Dimensionless state (refractory counters, last spikes, adaptation) gets 0 or 1; other state
    a value between 10 % and 60 % of the way from the lowest to the highest of its ``init`` and
    the defaults of the parameters of its unit (for ``lif``'s ``v``: between ``v_rest`` and
    ``v_th``).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, npt.NDArray[np.float64]] = {}
    inits = neuropil.initial_state(model.state, {k: p.default for k, p in model.params.items()})
    for name, sv in model.state.items():
        init = float(inits[name])
        if sv.unit == "1":
            out[name] = (np.arange(n) % 2).astype(np.float64)
            continue
        values = [init] + [float(p.default) for p in model.params.values() if p.unit == sv.unit]
        lo, hi = min(values), max(values)
        if hi == lo:
            hi = lo + _magnitude(model.params, sv.unit, scale, init)
        out[name] = lo + rng.uniform(0.1, 0.6, n) * (hi - lo)
    return out


def initial_state(neuron: str, synapse: str = "delta") -> Network:
    """``in`` (10) -> ``pop`` (20) whose state variables start at per-neuron values other than
    their ``init`` (see the module's ``_initial_values``)."""
    model = get_registry().neuron(neuron)
    scale = _scale(neuron, synapse) or 1.0
    net = Network(dt=_DT, name=f"state-{neuron}")
    inp = net.input("in", 10)
    pop = net.population(
        "pop", 20, neuron, initial_state=_initial_values(model, 20, scale, seed=42)
    )
    net.connect(inp, pop, synapse, weights=_uniform((20, 10), scale, seed=43))
    _probe_all(net, pop)
    return net


def _variants(options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, opt in options.items():
        for choice in opt.choices:
            if choice != opt.default:
                out.append((_name(f"{name}-{choice}"), {name: choice}))
    return out


def neuron_options(neuron: str, synapse: str = "delta") -> Network:
    """``in`` (10) -> one population (12) per choice of each option of ``neuron`` other than
    its default (the other options at their defaults), named ``<option>-<choice>``
    (``reset-subtract``), each with input weights calibrated for its options."""
    model = get_registry().neuron(neuron)
    net = Network(dt=_DT, name=f"options-{neuron}")
    inp = net.input("in", 10)
    for k, (name, options) in enumerate(_variants(model.options)):
        pop = net.population(name, 12, neuron, options=options)
        scale = _scale(neuron, synapse, options=options) or 1.0
        net.connect(inp, pop, synapse, weights=_uniform((12, 10), scale, seed=50 + k))
        _probe_all(net, pop)
    return net


def synapse_variants(synapse: str, neuron: str = "lif") -> Network:
    """``in`` (10) -> ``params`` (12) through ``synapse`` with every synapse parameter away from
    its default (per-neuron parameters one value per post-synaptic neuron), and -> one
    population per choice of each synapse option other than its default."""
    model = get_registry().synapse(synapse)
    net = Network(dt=_DT, name=f"synapse-{synapse}")
    inp = net.input("in", 10)
    base = _scale(neuron, synapse) or 1.0
    variants: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if model.params:
        variants.append(("params", _nondefault(model.params, 12, base, seed=60), {}))
    variants += [(name, {}, options) for name, options in _variants(model.options)]
    for k, (name, params, options) in enumerate(variants):
        pop = net.population(name, 12, neuron)
        scale = _scale(neuron, synapse, synapse_params=params, synapse_options=options) or 1.0
        proj = net.connect(
            inp,
            pop,
            synapse,
            weights=_uniform((12, 10), scale, seed=61 + k),
            synapse_options=options,
        )
        proj.synapse_params = params
        _probe_all(net, pop)
    _probe_synapses(net)
    return net


# -- plasticity -------------------------------------------------------------------------------


def plastic(rule: str, layout: str = "dense", neuron: str = "lif") -> Network:
    """``in`` (60) -> ``pop`` (12) through delta synapses with learning rule ``rule``.

    ``layout`` is ``"dense"`` or ``"sparse"`` (half the pairs); delay 1; the weights are
    probed (:data:`PLASTIC_WEIGHTS`). Sixty inputs keep the calibrated weights (below 0.8 for
    ``lif``) inside ``stdp``'s default ``[w_min, w_max] = [0, 1]`` from the start.
    """
    net = Network(dt=_DT, name=f"plastic-{rule}-{layout}")
    inp = net.input("in", 60)
    pop = net.population("pop", 12, neuron)
    if layout == "dense":
        scale = _scale(neuron, "delta", n_in=60) or 1.0
        net.connect(
            inp,
            pop,
            "delta",
            weights=_uniform((12, 60), scale, seed=16),
            plasticity=rule,
            name="in->pop",
        )
    elif layout == "sparse":
        scale = _scale(neuron, "delta", n_in=30) or 1.0
        rng = np.random.default_rng(17)
        pairs = np.array([(i, j) for i in range(60) for j in range(12)])
        keep = pairs[rng.random(len(pairs)) < 0.5]
        net.connect(
            inp,
            pop,
            "delta",
            connectivity=Connectivity.sparse(keep[:, 0], keep[:, 1]),
            weights=_uniform((len(keep),), scale, seed=18),
            plasticity=rule,
            name="in->pop",
        )
    else:
        raise ValueError(f"unknown layout {layout!r}; choose 'dense' or 'sparse'")
    _probe_all(net, pop)
    net.probe("in->pop", "weights")
    return net


def rule_variants(rule: str, neuron: str = "lif") -> Network:
    """``in`` (60) -> one population (12) per variant of ``rule``, each through a dense plastic
    projection: ``params`` with every rule parameter away from its default (``w_min``
    lowered, ``w_max`` raised, rates and time constants x 1.25), and ``<option>-<choice>`` for
    each choice of each option other than its default. Every projection's weights are probed."""
    model = get_registry().rule(rule)
    scale = _scale(neuron, "delta", n_in=60) or 1.0
    net = Network(dt=_DT, name=f"{rule}-variants")
    inp = net.input("in", 60)
    variants: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if model.params:
        variants.append(("params", _nondefault(model.params, None, scale, seed=70), {}))
    variants += [(name, {}, options) for name, options in _variants(model.options)]
    for k, (name, params, options) in enumerate(variants):
        pop = net.population(name, 12, neuron)
        proj = net.connect(
            inp,
            pop,
            "delta",
            weights=_uniform((12, 60), scale, seed=71 + k),
            plasticity=Plasticity(rule, params=params, options=options),
        )
        _probe_all(net, pop)
        net.probe(proj, "weights")
    return net


def constrained(sign: str, layout: str) -> Network:
    """``oja`` pushing a sign-constrained projection's weights across zero.

    ``in`` (20) -> ``pop`` (12, ``lif``) through a fixed dense projection ``drive`` (which
    keeps ``pop`` firing) and a plastic projection ``in->pop`` with ``sign`` and initial
    weights of that sign (magnitudes in ``[0.05, 0.3]``). The rule is ``oja`` with ``eta`` 1.5
    and ``tau`` 0.1 ms (its rate estimates are then this step's spikes): at a step where a
    neuron fires without input on a synapse, ``w' = w - eta * w / B`` (``B`` = 2) flips the
    sign of ``w``, and only the sign constraint (``oja`` has no bounds of its own) puts it
    back at zero. ``layout`` ``"dense"`` adds a mask (about 70 % of the synapses kept);
    ``"sparse"`` takes half the pairs. The plastic weights are probed (:data:`PLASTIC_WEIGHTS`).
    """
    if sign not in ("excitatory", "inhibitory") or layout not in ("dense", "sparse"):
        raise ValueError(
            f"unknown constrained case {sign!r}, {layout!r}; choose sign 'excitatory' or "
            "'inhibitory' and layout 'dense' or 'sparse'"
        )
    net = Network(dt=_DT, name=f"sign-{sign}-{layout}")
    inp = net.input("in", 20)
    pop = net.population("pop", 12, "lif")
    scale = _scale("lif", "delta", n_in=20) or 1.0
    net.connect(inp, pop, weights=_uniform((12, 20), scale, seed=80), name="drive")
    rng = np.random.default_rng(81)
    side = 1.0 if sign == "excitatory" else -1.0
    rule = Plasticity("oja", params={"eta": 1.5, "tau": 1e-4})
    if layout == "dense":
        net.connect(
            inp,
            pop,
            weights=side * rng.uniform(0.05, 0.3, (12, 20)),
            mask=rng.random((12, 20)) < 0.7,
            sign=sign,  # type: ignore[arg-type]
            plasticity=rule,
            name="in->pop",
        )
    else:
        pairs = np.array([(i, j) for i in range(20) for j in range(12)])
        keep = pairs[rng.random(len(pairs)) < 0.5]
        net.connect(
            inp,
            pop,
            connectivity=Connectivity.sparse(keep[:, 0], keep[:, 1]),
            weights=side * rng.uniform(0.05, 0.3, len(keep)),
            sign=sign,  # type: ignore[arg-type]
            plasticity=rule,
            name="in->pop",
        )
    _probe_all(net, pop)
    net.probe("in->pop", "weights")
    return net


# -- gradients --------------------------------------------------------------------------------


def gradient() -> Network:
    """``in`` (10) -> ``hidden`` (16, ``lif``) -> ``out`` (4, ``li``), dense; ``out.v`` probed.

    The network of ``check_gradients_finite_nonzero``: its loss is the mean of ``out.v``
    squared, whose gradient reaches both projections' weights when ``hidden`` spikes.
    """
    scale = drive_scale("lif", "delta") or 1.0
    net = Network(dt=_DT, name="gradient")
    inp = net.input("in", 10)
    hid = net.population("hidden", 16, "lif")
    out = net.population("out", 4, "li")
    net.connect(inp, hid, "delta", weights=_uniform((16, 10), scale, seed=19))
    net.connect(hid, out, "delta", weights=_uniform((4, 16), 0.5, seed=20))
    net.probe(hid, "spikes")
    net.probe(out, "v")
    return net


def readout() -> Network:
    """``in`` (6) -> ``hidden`` (8, ``lif``) -> ``out`` (3, ``li``), plus ``in -> out`` with
    ``trainable=False``; all dense, delay 1; ``hidden.spikes`` and ``out.v`` probed.

    ``out.v`` is linear in the weights of ``hidden->out`` (the spikes of ``hidden`` do not
    depend on them), so the gradient of a loss on ``out.v`` with respect to those weights
    involves no surrogate and central finite differences on the reference engine give it.
    """
    net = Network(dt=_DT, name="readout")
    inp = net.input("in", 6)
    hid = net.population("hidden", 8, "lif")
    out = net.population("out", 3, "li")
    net.connect(inp, hid, weights=_uniform((8, 6), _scale("lif", n_in=6) or 1.0, seed=90))
    net.connect(hid, out, weights=np.random.default_rng(91).normal(0.0, 1.0, (3, 8)))
    net.connect(inp, out, weights=_uniform((3, 6), 0.3, seed=92), trainable=False)
    net.probe(hid, "spikes")
    net.probe(out, "v")
    return net


def one_step(
    surrogate: str = "fast_sigmoid",
    surrogate_params: Mapping[str, float] | None = None,
    *,
    v_end: float = 0.8,
) -> Network:
    """One input channel -> one ``lif`` neuron ``n`` (defaults), delay 0, for one step.

    The weight is ``v_end / (1 - exp(-dt / tau_mem))``, so that an input of 1 at step 0 brings
    ``v`` from 0 to ``v_end`` in that step (``integration="exact"``): with ``v_end < v_th``
    the neuron does not spike and ``d spike / d w = surrogate'(v_end - v_th) * (1 - exp(-dt /
    tau_mem))``. ``n.spikes`` and ``n.v`` are probed.
    """
    net = Network(dt=_DT, name=f"one-step-{surrogate}")
    inp = net.input("in", 1)
    n = net.population("n", 1, "lif", surrogate=surrogate, surrogate_params=surrogate_params)
    gain = 1.0 - float(np.exp(-_DT / float(get_registry().neuron("lif").params["tau_mem"].default)))
    net.connect(inp, n, weights=np.array([[v_end / gain]]), delay=0)
    net.probe(n, "spikes")
    net.probe(n, "v")
    return net


# -- hardware -----------------------------------------------------------------------------------


def oversized(neurons: int = 2**21) -> Network:
    """A network beyond any single neuromorphic chip or board: ``neurons`` LIF neurons (2 Mi
    by default; a Loihi 2 chip holds about 1 Mi, a 48-chip SpiNNaker board about 200 Ki), each
    driven one-to-one by an input channel. Weights are an initialiser and there is no
    quadratic connectivity, so resolving it allocates only a few ``[neurons]`` arrays."""
    net = Network(dt=_DT, name="oversized")
    inp = net.input("in", neurons)
    pop = net.population("huge", neurons, "lif")
    net.connect(
        inp,
        pop,
        "delta",
        connectivity="one_to_one",
        weights=WeightInit("constant", {"value": 0.5}),
    )
    net.probe(pop, "spikes")
    return net


def deployable() -> Network:
    """A network every chip can hold: 8 inputs -> 16 ``lif`` neurons -> 4 ``lif`` neurons,
    delta synapses, positive weights on a grid of 0.1, delay 1, spikes probed.

    Under 300 Hz Poisson input (the target checks' stimulus) both layers fire at several
    percent of steps on the reference engine."""
    net = Network(dt=_DT, name="deployable")
    inp = net.input("in", 8)
    hid = net.population("hidden", 16, "lif")
    out = net.population("out", 4, "lif")
    rng = np.random.default_rng(21)
    net.connect(inp, hid, "delta", weights=np.round(rng.uniform(0.6, 1.6, (16, 8)), 1))
    net.connect(hid, out, "delta", weights=np.round(rng.uniform(1.2, 2.4, (4, 16)), 1))
    net.probe(hid, "spikes")
    net.probe(out, "spikes")
    return net


# -- the cases ------------------------------------------------------------------------------


def reference_cases(
    neurons: Sequence[str] | None = None,
    synapses: Sequence[str] | None = None,
    rules: Sequence[str] | None = None,
) -> dict[str, Case]:
    """The standard cases of ``check_matches_reference``, by name.

    * ``<neuron>-<synapse>``: :func:`feedforward_recurrent` for each pair;
    * ``conn-<kind>``: :func:`connectivity` for each kind;
    * ``delay-<kind>``: :func:`with_delay` for each kind;
    * ``order-diamond``: :func:`diamond` (same-step projections declared out of order);
    * ``probe-index``: :func:`probe_index` (probes on unsorted subsets of neurons);
    * ``params-<neuron>``: :func:`heterogeneous` (per-neuron parameters) for each neuron model;
    * ``state-<neuron>``: :func:`initial_state` for each neuron model;
    * ``options-<neuron>``: :func:`neuron_options` for each neuron model with options;
    * ``synapse-<synapse>``: :func:`synapse_variants` for each synapse model with parameters
      or options;
    * ``<rule>-<layout>``: :func:`plastic` for each rule, dense and sparse;
    * ``<rule>-variants``: :func:`rule_variants` for each rule with parameters or options;
    * ``sign-excitatory-dense``, ``sign-inhibitory-sparse``: :func:`constrained` (when
      ``oja`` is among the rules).

    Args:
        neurons / synapses / rules: Registry names; every installed one when ``None``.
    """
    reg = get_registry()
    neurons = reg.names("neuron") if neurons is None else list(neurons)
    synapses = reg.names("synapse") if synapses is None else list(synapses)
    rules = reg.names("rule") if rules is None else list(rules)
    cases: dict[str, Case] = {}

    def add(name: str, build: Callable[[], Network], steps: int = 50) -> None:
        cases[name] = Case(name, build, steps=steps)

    for n in neurons:
        for s in synapses:
            add(f"{n}-{s}", functools.partial(feedforward_recurrent, n, s))
    for kind in CONNECTIVITY_KINDS:
        add(f"conn-{kind}", functools.partial(connectivity, kind))
    for kind in DELAY_KINDS:
        add(f"delay-{kind}", functools.partial(with_delay, kind))
    add("order-diamond", diamond)
    add("probe-index", probe_index)
    for n in neurons:
        model = reg.neuron(n)
        if model.params:
            add(f"params-{n}", functools.partial(heterogeneous, n))
        if model.state:
            add(f"state-{n}", functools.partial(initial_state, n))
        if model.options:
            add(f"options-{n}", functools.partial(neuron_options, n))
    for s in synapses:
        syn = reg.synapse(s)
        if syn.params or syn.options:
            add(f"synapse-{s}", functools.partial(synapse_variants, s))
    for r in rules:
        for layout in ("dense", "sparse"):
            add(f"{r}-{layout}", functools.partial(plastic, r, layout), steps=80)
        rule = reg.rule(r)
        if rule.params or rule.options:
            add(f"{r}-variants", functools.partial(rule_variants, r), steps=80)
    if "oja" in rules:
        add("sign-excitatory-dense", functools.partial(constrained, "excitatory", "dense"), 80)
        add("sign-inhibitory-sparse", functools.partial(constrained, "inhibitory", "sparse"), 80)
    return cases
