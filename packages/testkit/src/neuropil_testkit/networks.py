"""Standard networks of the conformance checks (and for plugin authors' own tests).

Every builder returns a fresh :class:`~neuropil.Network` with fixed seeds, small enough to
simulate in milliseconds on the reference engine, and probes on everything worth comparing:
spikes of spiking populations, every neuron state variable, every synapse state variable and,
for plastic projections, the weights.

:func:`reference_cases` lists the cases that ``check_matches_reference`` runs on a backend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil import Connectivity, Input, Network, Population, WeightInit, get_registry
from neuropil.protocols import SimulationResult
from neuropil_testkit import stimuli

__all__ = [
    "CONNECTIVITY_KINDS",
    "DELAY_KINDS",
    "MAX_DRIVE",
    "PLASTIC_WEIGHTS",
    "Case",
    "connectivity",
    "deployable",
    "drive_scale",
    "feedforward_recurrent",
    "gradient",
    "oversized",
    "plastic",
    "reference_cases",
    "simulate_reference",
    "single_population",
    "with_delay",
]

#: The largest input weight :func:`drive_scale` tries before deciding a model never spikes.
MAX_DRIVE = 1e6
#: The recording key of the plastic projection's weights in :func:`plastic`.
PLASTIC_WEIGHTS = "in->pop.weights"
CONNECTIVITY_KINDS: tuple[str, ...] = ("dense", "sparse", "one_to_one", "conv2d", "list", "random")
DELAY_KINDS: tuple[str, ...] = ("0", "1", "3", "per_synapse")
_DT = 1e-3
_INPUT_RATE_HZ = 200.0


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


# (neuron, synapse) names and the ids of their definitions -> (the definitions, scale). Holding
# the definitions keeps their ids from being reused by other objects while cached.
_CALIBRATED: dict[tuple[str, str, int, int], tuple[Any, Any, float | None]] = {}


def _calibrate(neuron: str, synapse: str) -> float | None:
    reg = get_registry()
    model, syn = reg.neuron(neuron), reg.synapse(synapse)
    key = (neuron, synapse, id(model), id(syn))
    if key not in _CALIBRATED:
        _CALIBRATED[key] = (model, syn, _search_scale(neuron, synapse, model.spiking))
    return _CALIBRATED[key][2]


def _search_scale(neuron: str, synapse: str, spiking: bool) -> float | None:
    if not spiking:
        return 1.0
    for exponent in np.arange(-5.0, np.log10(MAX_DRIVE) + 0.25, 0.5):
        scale = float(10.0**exponent)
        net = _single(neuron, synapse, scale, n_in=10, n=20)
        net.probe("pop", "spikes")
        spikes = simulate_reference(net, steps=100, batch=1, seed=11)["pop.spikes"]
        if not np.all(np.isfinite(spikes)):
            return None
        if spikes.mean() >= 0.02:
            return scale
    return None


def drive_scale(neuron: str, synapse: str = "delta") -> float | None:
    """The input weight at which ``neuron`` fires at >= 2 % of steps under the standard input.

    Ten Poisson channels at 200 Hz drive 20 neurons through ``synapse`` with dense weights
    ``scale * U(0.5, 1.5)``; ``scale`` steps through ``1e-5, 10**-4.5, ..., MAX_DRIVE`` on the
    reference engine (cached). Non-spiking models give ``1.0``.

    Returns:
        The first such scale, or ``None`` when the model never fires that often.
    """
    return _calibrate(neuron, synapse)


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


def feedforward_recurrent(neuron: str, synapse: str) -> Network:
    """``in`` (10) -> ``a`` (16) -> ``a`` (recurrent) and ``a`` -> ``b`` (8).

    ``in -> a`` dense, delay 1; ``a -> a`` random (p 0.3), mixed-sign weights, delay 2;
    ``a -> b`` dense, delay 0 (same step). Every population has model ``neuron``, every
    projection synapse ``synapse``, and input weights come from :func:`drive_scale`.
    """
    scale = drive_scale(neuron, synapse) or 1.0
    spiking = get_registry().neuron(neuron).spiking
    rec_gain = 0.5 if spiking else 0.05
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
    # a fires at a few % of steps, well below the input's 20 %: b needs stronger weights.
    ff_gain = 2.0 if spiking else 1.0
    net.connect(a, b, synapse, weights=_uniform((8, 16), ff_gain * scale, seed=3), delay=0)
    _probe_all(net, a)
    _probe_all(net, b)
    _probe_synapses(net)
    return net


def connectivity(kind: str, neuron: str = "lif", synapse: str = "delta") -> Network:
    """One projection ``in -> pop`` of connectivity ``kind`` (see :data:`CONNECTIVITY_KINDS`).

    ``conv2d`` maps a ``(1, 6, 6)`` input to a ``(2, 4, 4)`` population with 3x3 kernels; the
    others map 36 channels to 16 neurons (36 for ``one_to_one``).
    """
    if kind not in CONNECTIVITY_KINDS:
        raise ValueError(f"unknown connectivity case {kind!r}; choose one of {CONNECTIVITY_KINDS}")
    scale = drive_scale(neuron, synapse) or 1.0
    net = Network(dt=_DT, name=f"conn-{kind}")
    rng = np.random.default_rng(4)
    if kind == "conv2d":
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
        inp = net.input("in", 36)
        pop = net.population("pop", 36, neuron)
        net.connect(
            inp,
            pop,
            synapse,
            connectivity="one_to_one",
            weights=_uniform((36,), 5.0 * scale, seed=7),
        )
    else:
        inp = net.input("in", 36)
        pop = net.population("pop", 16, neuron)
        if kind == "dense":
            net.connect(inp, pop, synapse, weights=_uniform((16, 36), 0.3 * scale, seed=7))
        elif kind == "random":
            net.connect(
                inp,
                pop,
                synapse,
                connectivity=Connectivity.random(0.3, seed=8),
                weights=WeightInit("uniform", {"low": 0.0, "high": scale}, seed=9),
            )
        else:
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
    scale = drive_scale(neuron, synapse) or 1.0
    net = Network(dt=_DT, name=f"delay-{kind}")
    inp = net.input("in", 12)
    a = net.population("a", 10, neuron)
    b = net.population("b", 6, neuron)
    if kind == "per_synapse":
        rng = np.random.default_rng(12)
        layers: list[tuple[Input | Population, Population, int, int]] = [
            (inp, a, 12, 10),
            (a, b, 10, 6),
        ]
        for k, (pre, post, n_pre, n_post) in enumerate(layers):
            pairs = np.array([(i, j) for i in range(n_pre) for j in range(n_post)])
            keep = pairs[rng.random(len(pairs)) < 0.5]
            gain = 1.0 if k == 0 else 12 / 10
            net.connect(
                pre,
                post,
                synapse,
                connectivity=Connectivity.sparse(keep[:, 0], keep[:, 1]),
                weights=_uniform((len(keep),), 2 * gain * scale, seed=13 + k),
                delay=rng.integers(0, 5, len(keep)),
            )
    else:
        d = int(kind)
        net.connect(inp, a, synapse, weights=_uniform((10, 12), scale, seed=14), delay=d)
        net.connect(a, b, synapse, weights=_uniform((6, 10), 1.2 * scale, seed=15), delay=d)
    _probe_all(net, a)
    _probe_all(net, b)
    _probe_synapses(net)
    return net


def plastic(rule: str, layout: str = "dense", neuron: str = "lif") -> Network:
    """``in`` (10) -> ``pop`` (12) through delta synapses with learning rule ``rule``.

    ``layout`` is ``"dense"`` or ``"sparse"``; delay 1; the weights are probed
    (:data:`PLASTIC_WEIGHTS`).
    """
    scale = drive_scale(neuron, "delta") or 1.0
    net = Network(dt=_DT, name=f"plastic-{rule}-{layout}")
    inp = net.input("in", 10)
    pop = net.population("pop", 12, neuron)
    if layout == "dense":
        net.connect(
            inp,
            pop,
            "delta",
            weights=_uniform((12, 10), scale, seed=16),
            plasticity=rule,
            name="in->pop",
        )
    elif layout == "sparse":
        rng = np.random.default_rng(17)
        pairs = np.array([(i, j) for i in range(10) for j in range(12)])
        keep = pairs[rng.random(len(pairs)) < 0.5]
        net.connect(
            inp,
            pop,
            "delta",
            connectivity=Connectivity.sparse(keep[:, 0], keep[:, 1]),
            weights=_uniform((len(keep),), 2 * scale, seed=18),
            plasticity=rule,
            name="in->pop",
        )
    else:
        raise ValueError(f"unknown layout {layout!r}; choose 'dense' or 'sparse'")
    _probe_all(net, pop)
    net.probe("in->pop", "weights")
    return net


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
    delta synapses, positive weights on a coarse grid, delay 1, spikes probed."""
    net = Network(dt=_DT, name="deployable")
    inp = net.input("in", 8)
    hid = net.population("hidden", 16, "lif")
    out = net.population("out", 4, "lif")
    rng = np.random.default_rng(21)
    net.connect(inp, hid, "delta", weights=np.round(rng.uniform(0.2, 0.8, (16, 8)), 1))
    net.connect(hid, out, "delta", weights=np.round(rng.uniform(0.2, 0.8, (4, 16)), 1))
    net.probe(hid, "spikes")
    net.probe(out, "spikes")
    return net


def reference_cases(
    neurons: Sequence[str] | None = None,
    synapses: Sequence[str] | None = None,
    rules: Sequence[str] | None = None,
) -> dict[str, Case]:
    """The standard cases of ``check_matches_reference``, by name.

    * ``<neuron>-<synapse>``: :func:`feedforward_recurrent` for each pair;
    * ``conn-<kind>``: :func:`connectivity` for each kind;
    * ``delay-<kind>``: :func:`with_delay` for each kind;
    * ``<rule>-<layout>``: :func:`plastic` for each rule, dense and sparse.

    Args:
        neurons / synapses / rules: Registry names; every installed one when ``None``.
    """
    reg = get_registry()
    neurons = reg.names("neuron") if neurons is None else list(neurons)
    synapses = reg.names("synapse") if synapses is None else list(synapses)
    rules = reg.names("rule") if rules is None else list(rules)
    cases: dict[str, Case] = {}
    for n in neurons:
        for s in synapses:
            cases[f"{n}-{s}"] = Case(f"{n}-{s}", functools.partial(feedforward_recurrent, n, s))
    for kind in CONNECTIVITY_KINDS:
        cases[f"conn-{kind}"] = Case(f"conn-{kind}", functools.partial(connectivity, kind))
    for kind in DELAY_KINDS:
        cases[f"delay-{kind}"] = Case(f"delay-{kind}", functools.partial(with_delay, kind))
    for r in rules:
        for layout in ("dense", "sparse"):
            cases[f"{r}-{layout}"] = Case(
                f"{r}-{layout}", functools.partial(plastic, r, layout), steps=80
            )
    return cases
