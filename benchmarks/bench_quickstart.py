"""The quickstart network on the reference engine against Brian2.

The network of ``examples/quickstart.toml`` (400 excitatory + 100 inhibitory LIF neurons,
random connectivity, exponential current synapses, 400 Poisson channels at 20 Hz) simulated
for its 1 s at dt = 0.5 ms, by neuropil's ``numpy`` reference engine and by Brian2 running the
same network: the connectivity and weights that ``neuropil.resolve`` drew, the same input
spike trains (a ``SpikeGeneratorGroup``), and Brian2's semantics mapped the way
``docs/concepts/time.md`` says (a neuropil delay of d steps is a Brian2 delay of d - 1 steps;
``tau_ref`` is Brian2's ``refractory`` with ``(unless refractory)``; ``exact`` integration).

What still differs, so that spikes are not expected to agree one for one: Brian2 solves the
membrane and the synaptic current jointly over a step (the current decays within the step),
where neuropil's ``exponential`` synapse holds the step's current constant (its value at the
start of the step). Each input spike therefore drives neuropil's membrane about
``dt / (2 tau_syn)`` (5 %) harder, and its rates come out a few percent higher. The table
reports each implementation's population rates, and how well its excitatory population rate
(5 ms bins) follows neuropil's (``exc_corr``, Pearson correlation).

Timed: one simulation of the whole duration from the initial state, on a network already
built (neuropil: ``Simulator.run`` on a compiled simulator; Brian2 runtime targets:
``Network.restore`` + ``Network.run``, which includes Brian2's per-run preparation; Brian2
``cpp_standalone``: running the compiled binary, whose build is not timed).
"""

from __future__ import annotations

import importlib
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.harness import Context, Implementation, Metrics, benchmark

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    import neuropil

__all__ = ["EXPERIMENT", "brian2_network", "quickstart"]

#: The experiment whose network and stimulus are simulated.
EXPERIMENT = Path(__file__).resolve().parents[1] / "examples" / "quickstart.toml"
#: Bin of the population-rate time courses that are correlated (seconds).
RATE_BIN_S = 5e-3
#: Simulated time in a ``--quick`` run (seconds).
QUICK_DURATION_S = 0.1
#: Brian2's runtime code generation targets (a full run times both).
BRIAN2_RUNTIME_TARGETS = ("numpy", "cython")


def _check_supported(resolved: neuropil.ResolvedNetwork) -> None:
    """Refuse what :func:`brian2_network` does not translate (the quickstart has none of it)."""
    problems: list[str] = []
    for pop in resolved.populations:
        if pop.model.name != "lif":
            problems.append(f"population {pop.name!r} uses {pop.model.name!r}, not 'lif'")
        wanted = {"integration": "exact", "reset": "value", "reset_timing": "immediate"}
        for key, value in wanted.items():
            if pop.options.get(key) != value:
                problems.append(f"population {pop.name!r} has {key}={pop.options.get(key)!r}")
        arrays = [k for k, v in pop.params.items() if not isinstance(v, float)]
        if arrays:
            problems.append(f"population {pop.name!r} has per-neuron {', '.join(arrays)}")
    for proj in resolved.projections:
        if proj.synapse.name != "exponential" or proj.kind != "sparse":
            problems.append(f"projection {proj.name!r} is {proj.kind} {proj.synapse.name}")
        if proj.delay.shape != () or int(proj.delay) < 1 or proj.plasticity is not None:
            problems.append(f"projection {proj.name!r} needs one delay >= 1 and no plasticity")
        if not isinstance(proj.synapse_params["tau_syn"], float):
            problems.append(f"projection {proj.name!r} has per-neuron tau_syn")
    if problems:
        raise ValueError(
            f"{EXPERIMENT.name}: the Brian2 translation supports homogeneous 'lif' populations "
            "(exact, value reset, immediate) and sparse 'exponential' projections with one "
            "delay >= 1; " + "; ".join(problems)
        )


def brian2_network(
    b2: Any,
    resolved: neuropil.ResolvedNetwork,
    inputs: Mapping[str, npt.NDArray[np.float64]],
    steps: int,
    prefix: str,
) -> tuple[Any, dict[str, Any]]:
    """The Brian2 ``Network`` equivalent to ``resolved``, and a ``SpikeMonitor`` per population.

    Args:
        b2: The ``brian2`` module.
        resolved: The network (see :func:`_check_supported` for what is translated).
        inputs: Input name to 0/1 spikes ``[T, 1, size]``.
        steps: Steps to simulate (input spikes at later steps are left out).
        prefix: Prepended to every Brian2 object name (names must differ between networks).
    """
    import numpy as np

    second = b2.second
    dt = resolved.dt
    groups: dict[str, Any] = {}
    for inp in resolved.inputs:
        step_idx, neuron_idx = np.nonzero(inputs[inp.name][:steps, 0, :])
        groups[inp.name] = b2.SpikeGeneratorGroup(
            inp.size, neuron_idx, step_idx * dt * second, name=f"{prefix}{inp.name}"
        )
    current_of: dict[str, str] = {}
    for pop in resolved.populations:
        p = pop.params
        # One current per synaptic time constant: currents with one tau add up linearly.
        incoming = resolved.incoming(pop.name)
        taus = sorted({float(q.synapse_params["tau_syn"]) for q in incoming})
        current_of.update(
            {q.name: f"I{taus.index(float(q.synapse_params['tau_syn']))}" for q in incoming}
        )
        currents = [f"I{k}" for k in range(len(taus))]
        eqs = "\n".join(
            [
                f"dv/dt = (v_rest + r * ({' + '.join([*currents, 'bias'])}) - v) / tau_mem"
                " : 1 (unless refractory)",
                *(f"d{c}/dt = -{c} / tau_syn{k} : 1" for k, c in enumerate(currents)),
            ]
        )
        namespace: dict[str, Any] = {k: p[k] for k in ("v_rest", "v_th", "v_reset", "r", "bias")}
        namespace["tau_mem"] = float(p["tau_mem"]) * second
        namespace.update({f"tau_syn{k}": tau * second for k, tau in enumerate(taus)})
        groups[pop.name] = b2.NeuronGroup(
            pop.size,
            eqs,
            threshold="v > v_th",
            reset="v = v_reset",
            refractory=float(p["tau_ref"]) * second,
            method="exact",
            namespace=namespace,
            name=f"{prefix}{pop.name}",
        )
        groups[pop.name].v = pop.initial_state["v"]
    synapses = []
    for k, proj in enumerate(resolved.projections):
        syn = b2.Synapses(
            groups[proj.pre],
            groups[proj.post],
            "w : 1",
            on_pre=f"{current_of[proj.name]}_post += w",
            # Brian2 delivers after the threshold: its delay d - 1 is neuropil's delay d.
            delay=(int(proj.delay) - 1) * dt * second,
            name=f"{prefix}syn{k}",
        )
        syn.connect(i=proj.pre_idx, j=proj.post_idx)
        syn.w = proj.weights
        synapses.append(syn)
    monitors = {
        pop.name: b2.SpikeMonitor(groups[pop.name], name=f"{prefix}mon_{pop.name}")
        for pop in resolved.populations
    }
    network = b2.Network(*groups.values(), *synapses, *monitors.values())
    return network, monitors


def _rate_trace(step_idx: npt.NDArray[np.int64], steps: int, bin_steps: int) -> npt.NDArray[Any]:
    """Spike counts per bin of ``bin_steps`` steps, from the steps of every spike."""
    import numpy as np

    return np.bincount(step_idx // bin_steps, minlength=-(-steps // bin_steps))


def _metrics(
    counts: Mapping[str, int],
    sizes: Mapping[str, int],
    duration_s: float,
    exc_trace: npt.NDArray[Any],
    reference_trace: npt.NDArray[Any],
) -> dict[str, float]:
    import numpy as np

    out = {f"{name}_hz": counts[name] / (sizes[name] * duration_s) for name in counts}
    out["exc_corr"] = float(np.corrcoef(exc_trace, reference_trace)[0, 1])
    return out


@benchmark(
    "quickstart",
    baseline="brian2-numpy",
    subject="neuropil-numpy",
    peers=("brian2", "cython", "sympy"),
    threads=1,
)
def quickstart(ctx: Context) -> dict[str, Implementation]:
    """examples/quickstart.toml (400 exc + 100 inh LIF, p = 0.1, exponential synapses, 1 s at
    dt 0.5 ms): neuropil's numpy reference engine against Brian2 (numpy and cython runtime
    targets, cpp_standalone) on the same connectivity and input spikes."""
    import numpy as np

    import neuropil

    data = tomllib.loads(EXPERIMENT.read_text(encoding="utf-8"))
    network = neuropil.Network.from_dict(data["network"])
    resolved = neuropil.resolve(network)
    _check_supported(resolved)
    stimulus = data["stimulus"]
    dt = resolved.dt
    duration = QUICK_DURATION_S if ctx.quick else float(stimulus["duration"])
    steps = round(duration / dt)
    seed = int(data["experiment"]["seed"])
    # The runner's recipe for a Poisson stimulus: Bernoulli(rate * dt) per channel and step,
    # input k drawing from SeedSequence([seed, k]).
    inputs = {
        inp.name: (
            np.random.default_rng(np.random.SeedSequence([seed, k])).random((steps, 1, inp.size))
            < float(stimulus["rate_hz"]) * dt
        ).astype(np.float64)
        for k, inp in enumerate(resolved.inputs)
    }
    sizes = {pop.name: pop.size for pop in resolved.populations}
    bin_steps = max(1, round(RATE_BIN_S / dt))
    ctx.params.update(
        {
            "experiment": EXPERIMENT.name,
            "neurons": sum(sizes.values()),
            "synapses": int(sum(p.weights.size for p in resolved.projections)),
            "input_spikes": int(sum(a.sum() for a in inputs.values())),
            "dt_s": dt,
            "steps": steps,
            "duration_s": steps * dt,
            "rate_bin_s": bin_steps * dt,
        }
    )

    sim = neuropil.compile(network, "numpy")
    reference = sim.run(inputs, steps=steps)
    reference_trace = _rate_trace(np.nonzero(reference["exc.spikes"][:, 0, :])[0], steps, bin_steps)

    def run_neuropil() -> Metrics:
        result = sim.run(inputs, steps=steps)
        exc_steps = np.nonzero(result["exc.spikes"][:, 0, :])[0]
        counts = {name: int(result[f"{name}.spikes"].sum()) for name in sizes}
        return _metrics(
            counts, sizes, steps * dt, _rate_trace(exc_steps, steps, bin_steps), reference_trace
        )

    implementations: dict[str, Implementation] = {"neuropil-numpy": run_neuropil}
    try:
        b2: Any = importlib.import_module("brian2")
    except ImportError:
        for name in ("brian2-numpy", "brian2-cython", "brian2-cpp_standalone"):
            ctx.skip(name, "brian2 is not installed (uv run nox -s bench installs it)")
        return implementations
    b2.prefs.logging.file_log = False
    b2.defaultclock.dt = dt * b2.second

    def brian2_metrics(monitors: Mapping[str, Any]) -> Metrics:
        exc_steps = np.round(np.asarray(monitors["exc"].t_) / dt).astype(np.int64)
        counts = {name: int(monitors[name].num_spikes) for name in sizes}
        return _metrics(
            counts, sizes, steps * dt, _rate_trace(exc_steps, steps, bin_steps), reference_trace
        )

    # The standalone device is built first: the runtime networks need the runtime device back.
    standalone: Implementation | None = None
    if ctx.quick:
        ctx.skip("brian2-cpp_standalone", "left out of --quick runs (its build takes ~20 s)")
    else:
        try:
            standalone = _standalone(b2, resolved, inputs, steps, brian2_metrics)
        except Exception as exc:  # no compiler, or a Brian2 that cannot build here
            ctx.skip("brian2-cpp_standalone", f"build failed: {type(exc).__name__}: {exc}")
        finally:
            b2.set_device("runtime")
    for target in BRIAN2_RUNTIME_TARGETS:
        if ctx.quick and target != "numpy":
            ctx.skip(f"brian2-{target}", "left out of --quick runs (first compile takes ~40 s)")
            continue
        implementations[f"brian2-{target}"] = _runtime(
            b2, resolved, inputs, steps, target, brian2_metrics
        )
    if standalone is not None:
        implementations["brian2-cpp_standalone"] = standalone
    return implementations


def _runtime(
    b2: Any,
    resolved: neuropil.ResolvedNetwork,
    inputs: Mapping[str, npt.NDArray[np.float64]],
    steps: int,
    target: str,
    metrics: Callable[[Mapping[str, Any]], Metrics],
) -> Implementation:
    """Brian2 in this process with code generation ``target``: restore, then run."""
    network, monitors = brian2_network(b2, resolved, inputs, steps, f"{target}_")
    network.store("initial")
    duration = steps * resolved.dt * b2.second

    def run() -> Metrics:
        b2.prefs.codegen.target = target
        network.restore("initial")
        network.run(duration)
        return metrics(monitors)

    return run


def _standalone(
    b2: Any,
    resolved: neuropil.ResolvedNetwork,
    inputs: Mapping[str, npt.NDArray[np.float64]],
    steps: int,
    metrics: Callable[[Mapping[str, Any]], Metrics],
) -> Implementation:
    """Brian2's ``cpp_standalone`` device: build the binary once (untimed), then run it."""
    folder = tempfile.TemporaryDirectory(prefix="neuropil-bench-brian2-")
    b2.set_device("cpp_standalone", build_on_run=False, directory=folder.name)
    device = b2.get_device()
    network, monitors = brian2_network(b2, resolved, inputs, steps, "standalone_")
    network.run(steps * resolved.dt * b2.second)
    device.build(directory=folder.name, compile=True, run=False)

    def run() -> Metrics:
        # The closure holds ``folder``: the project is deleted once the callable is.
        device.run(directory=folder.name, with_output=False)
        return metrics(monitors)

    return run
