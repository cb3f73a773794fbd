"""Checks of backends: agreement with the reference engine, parameters, seeds, gradients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import Network, Ops, get_registry
from neuropil._ops import Array
from neuropil.protocols import SimulationResult, Simulator
from neuropil.reference import NumpyBackend
from neuropil_testkit import networks
from neuropil_testkit._components import component_name, create_engine

__all__ = [
    "GradientSimulator",
    "LossFn",
    "check_deterministic_with_seed",
    "check_gradients_finite_nonzero",
    "check_gradients_match_reference",
    "check_matches_reference",
    "check_parameters_round_trip",
]

#: ``loss_fn(ops, recordings) -> scalar``: a loss written with the backend's ``ops`` on the
#: backend's own arrays ``[T, B, n]``, keyed like :attr:`SimulationResult.recordings`.
LossFn = Callable[[Ops, Mapping[str, Array]], Array]

SPIKES_EXACT = "spikes equal exactly"
RTOL = 1e-9
ATOL = 1e-12


@runtime_checkable
class GradientSimulator(Protocol):
    """What a simulator offers to be checked by ``check_gradients_finite_nonzero`` and
    ``check_gradients_match_reference``.

    A backend that trains by gradient descent returns simulators with this method in addition
    to :class:`~neuropil.protocols.Simulator`. Backends without it are skipped by those checks.
    """

    def loss_and_grad(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        loss_fn: LossFn,
        *,
        steps: int | None = None,
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        """Simulate from the initial state, apply ``loss_fn`` and differentiate it.

        Args:
            inputs: As for :meth:`Simulator.run`: input name to ``[T, B, *shape]``.
            loss_fn: ``loss_fn(ops, recordings)`` returning a scalar array; ``ops`` is the
                backend's :class:`~neuropil.Ops` and ``recordings`` the probes' values as the
                backend's differentiable arrays ``[T, B, n]``.
            steps: Steps to simulate (default: ``T`` of the inputs).

        Returns:
            ``(loss, gradients)``: the loss as a Python float, and the gradient of the loss with
            respect to every trainable parameter as a float64 numpy array keyed and shaped as in
            :meth:`Simulator.get_parameters` (through the surrogate gradients of the spikes).
            Parameters that are not trained (``trainable=False`` weights) are left out, or
            given a zero gradient.
        """
        ...


def _compile(backend: Any, network: Network, seed: int) -> Simulator:
    engine = create_engine("backend", backend)
    return engine.compile(network, dtype="float64", seed=seed)  # type: ignore[no-any-return]


def _first_difference(ref: npt.NDArray[Any], got: npt.NDArray[Any], bad: npt.NDArray[Any]) -> str:
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    axes = (
        ("step", "batch", "neuron")
        if len(where) == 3
        else tuple(f"axis {i}" for i in range(len(where)))
    )
    place = ", ".join(f"{a} {i}" for a, i in zip(axes, where, strict=True))
    return (
        f"first difference at {place}: reference {float(ref[where])!r}, backend "
        f"{float(got[where])!r}; "
        f"{int(bad.sum())} of {bad.size} values differ"
    )


def _compare_arrays(
    key: str, r: npt.NDArray[Any], g: npt.NDArray[Any], exact: bool, what: str, place: str
) -> None:
    if r.shape != g.shape:
        raise AssertionError(
            f"{what} {place} {key!r} with shape {g.shape}, the reference with {r.shape}"
        )
    if exact:
        bad = r != g
        rule = SPIKES_EXACT
    else:
        bad = ~np.isclose(g, r, rtol=RTOL, atol=ATOL, equal_nan=True)
        rule = f"within rtol {RTOL:g}, atol {ATOL:g}"
    if bad.any():
        where = repr(key) if place == "records" else f"final state {key!r}"
        raise AssertionError(
            f"{what} disagrees with the reference engine at {where} ({rule} required): "
            + _first_difference(r, g, bad)
        )


def compare_results(
    ref: SimulationResult,
    got: SimulationResult,
    *,
    exact: Callable[[str], bool],
    what: str,
) -> None:
    """Raise AssertionError unless ``got`` records what ``ref`` records, to the kit's tolerance.

    Recordings are compared key by key (every key of ``ref`` must be in ``got``), then
    ``final_state``, which must have exactly the keys of ``ref``'s (state ``[B, N]`` by
    ``"population.variable"`` and ``"projection.syn.variable"``), within the same tolerance.

    Args:
        exact: Whether a recording key must match exactly (spikes).
        what: Names the comparison in the message (``"backend 'torch' on case 'conv2d'"``).
    """
    missing = sorted(set(ref.recordings) - set(got.recordings))
    if missing:
        raise AssertionError(f"{what}: recordings {missing} are missing from the result")
    for key in sorted(ref.recordings):
        r = np.asarray(ref.recordings[key], dtype=np.float64)
        g = np.asarray(got.recordings[key], dtype=np.float64)
        _compare_arrays(key, r, g, exact(key), what, "records")
    absent = sorted(set(ref.final_state) - set(got.final_state))
    extra = sorted(set(got.final_state) - set(ref.final_state))
    if absent or extra:
        raise AssertionError(
            f"{what}: final_state keys differ from the reference engine's: missing {absent}, "
            f"unexpected {extra}; final_state holds every neuron state variable as "
            "'population.variable' and every synapse state variable as "
            "'projection.syn.variable', each [B, N]"
        )
    for key in sorted(ref.final_state):
        r = np.asarray(ref.final_state[key], dtype=np.float64)
        g = np.asarray(got.final_state[key], dtype=np.float64)
        _compare_arrays(key, r, g, False, what, "has final state")


def _exact_keys(network: Network) -> Callable[[str], bool]:
    reg = get_registry()
    spiking = {p.name for p in network.populations if reg.neuron(p.model).spiking}
    spiking |= {i.name for i in network.inputs}

    def exact(key: str) -> bool:
        target, _, variable = key.rpartition(".")
        return variable == "spikes" and target in spiking

    return exact


def check_matches_reference(backend: Any, *, case: str | None = None) -> None:
    """The backend reproduces the reference engine on the standard cases in float64.

    For each case of :func:`neuropil_testkit.networks.reference_cases` (every installed neuron
    model x synapse model in a feed-forward + recurrent network with delays; each connectivity
    kind; delays 0 / 1 / 3 / per synapse; same-step projections declared against their update
    order; probes on unsorted neuron subsets; per-neuron parameters, initial state and every
    option choice of each neuron model; parameters and options of each synapse model and
    learning rule; each rule on dense and sparse projections; sign-constrained and masked
    plastic projections), both engines compile the network with ``dtype="float64",
    seed=case.seed`` and run it on the case's Poisson input. Spikes must be equal exactly;
    state, synaptic currents, plastic weights and ``final_state`` within rtol 1e-9,
    atol 1e-12.

    Args:
        backend: Registry name or backend object.
        case: One case name; every case when ``None``.
    """
    cases = networks.reference_cases()
    if case is not None:
        if case not in cases:
            raise AssertionError(f"no reference case {case!r}; cases: {', '.join(cases)}")
        cases = {case: cases[case]}
    name = component_name(backend)
    for c in cases.values():
        net = c.build()
        inputs = c.inputs(net)
        ref = NumpyBackend().compile(net, dtype="float64", seed=c.seed).run(inputs, steps=c.steps)
        got = _compile(backend, c.build(), c.seed).run(inputs, steps=c.steps)
        compare_results(
            ref, got, exact=_exact_keys(net), what=f"backend {name!r} on case {c.name!r}"
        )


def check_parameters_round_trip(backend: Any) -> None:
    """``get_parameters`` / ``set_parameters`` round-trip and take effect.

    Parameters come back as numpy arrays including the weights of every projection; setting
    them back unchanged leaves a run identical; changed values are returned as set; zeroing the
    input weights silences the network; a wrongly shaped value is refused; and a population
    parameter set to one value per neuron (``a.v_th``, ``[16]``) is returned as set, changes
    the run, and gives what the reference engine gives for a network compiled with that value.
    """
    name = component_name(backend)
    net = networks.feedforward_recurrent("lif", "delta")
    case = networks.Case("round-trip", lambda: net)
    inputs = case.inputs(net)
    sim = _compile(backend, net, 0)
    params = sim.get_parameters()
    for proj in net.projections:
        if f"{proj.name}.weights" not in params:
            raise AssertionError(
                f"backend {name!r}: get_parameters() has no {proj.name + '.weights'!r}; keys: "
                f"{sorted(params)}"
            )
    for key, value in params.items():
        if not isinstance(value, np.ndarray):
            raise AssertionError(
                f"backend {name!r}: get_parameters()[{key!r}] is a {type(value).__name__}, "
                "not a numpy array"
            )
    before = sim.run(inputs, steps=case.steps)
    sim.set_parameters({k: v for k, v in params.items() if not k.endswith(".delay")})
    again = sim.run(inputs, steps=case.steps)
    compare_results(
        before,
        again,
        exact=lambda key: True,
        what=f"backend {name!r} after set_parameters(get_parameters())",
    )
    key = "in->a.weights"
    halved = params[key] * 0.5
    sim.set_parameters({key: halved})
    back = sim.get_parameters()[key]
    if back.shape != halved.shape or not np.allclose(back, halved, rtol=RTOL, atol=ATOL):
        raise AssertionError(
            f"backend {name!r}: set_parameters({{{key!r}: w}}) then get_parameters() did not "
            "return w"
        )
    sim.set_parameters({key: np.zeros_like(params[key])})
    silent = sim.run(inputs, steps=case.steps)
    if np.any(np.asarray(silent["a.spikes"]) != 0):
        raise AssertionError(
            f"backend {name!r}: with the input weights set to zero the network still spikes; "
            "set_parameters must take effect on the next run"
        )
    bad = np.zeros((params[key].size + 1,))
    try:
        sim.set_parameters({key: bad})
    except Exception as exc:
        if key not in str(exc):
            raise AssertionError(
                f"backend {name!r}: set_parameters with a wrongly shaped {key!r} raised "
                f"{type(exc).__name__} without naming the parameter: {exc}"
            ) from exc
    else:
        raise AssertionError(
            f"backend {name!r}: set_parameters accepted {key!r} with shape {bad.shape}, "
            f"expected {params[key].shape}; refuse wrong shapes with an error naming the key"
        )
    _check_per_neuron_parameter(backend, before)


def _check_per_neuron_parameter(backend: Any, before: SimulationResult) -> None:
    name = component_name(backend)
    key, pop, param = "a.v_th", "a", "v_th"
    net = networks.feedforward_recurrent("lif", "delta")
    case = networks.Case("round-trip", lambda: net)
    inputs = case.inputs(net)
    values = np.linspace(0.7, 1.3, net.population_by_name(pop).size)
    sim = _compile(backend, net, 0)
    if key not in sim.get_parameters():
        raise AssertionError(
            f"backend {name!r}: get_parameters() has no {key!r}; every neuron parameter is a "
            "parameter, keyed 'population.param'"
        )
    sim.set_parameters({key: values})
    back = np.asarray(sim.get_parameters()[key])
    if back.shape != values.shape or not np.allclose(back, values, rtol=RTOL, atol=ATOL):
        raise AssertionError(
            f"backend {name!r}: set_parameters({{{key!r}: one value per neuron}}) then "
            f"get_parameters() gave {back!r}, not the {values.size} values set"
        )
    got = sim.run(inputs, steps=case.steps)
    if np.array_equal(got[f"{pop}.spikes"], before[f"{pop}.spikes"]):
        raise AssertionError(
            f"backend {name!r}: setting {key!r} to one value per neuron (0.7 to 1.3) left the "
            "spikes unchanged; per-neuron parameters set by set_parameters must take effect"
        )
    ref_net = networks.feedforward_recurrent("lif", "delta")
    ref_net.population_by_name(pop).params[param] = values
    ref = NumpyBackend().compile(ref_net, dtype="float64", seed=0).run(inputs, steps=case.steps)
    compare_results(
        ref,
        got,
        exact=_exact_keys(net),
        what=f"backend {name!r} after set_parameters({{{key!r}: one value per neuron}})",
    )


def check_deterministic_with_seed(backend: Any) -> None:
    """The same network, seed and input give the same recordings, run after run.

    Two compilations with one seed agree exactly, and so do two runs of one simulator (each run
    starts from the initial state), on a network with drawn weights and random connectivity.
    """
    name = component_name(backend)
    net = networks.feedforward_recurrent("lif", "exponential")
    case = networks.Case("seeded", lambda: net, seed=5)
    inputs = case.inputs(net)
    first_sim = _compile(backend, net, 5)
    first = first_sim.run(inputs, steps=case.steps)
    again = first_sim.run(inputs, steps=case.steps)
    compare_results(
        first, again, exact=lambda key: True, what=f"backend {name!r} running one simulator twice"
    )
    other = _compile(backend, networks.feedforward_recurrent("lif", "exponential"), 5).run(
        inputs, steps=case.steps
    )
    compare_results(
        first, other, exact=lambda key: True, what=f"backend {name!r} compiling twice with seed 5"
    )


def _loss(ops: Ops, recordings: Mapping[str, Array]) -> Array:
    v = recordings["out.v"]
    return ops.mean(v * v)


def _spike_loss(ops: Ops, recordings: Mapping[str, Array]) -> Array:
    return ops.mean(recordings["n.spikes"])


def _gradient_simulator(backend: Any, net: Network) -> Any:
    """The compiled simulator, which implements both Simulator and GradientSimulator."""
    sim = _compile(backend, net, 0)
    if not isinstance(sim, GradientSimulator):
        pytest.skip(
            f"backend {component_name(backend)!r} does not implement gradients (its simulator "
            "has no loss_and_grad, see neuropil_testkit.GradientSimulator)"
        )
    return sim


def _finite_loss(name: str, loss: Any) -> float:
    if not isinstance(loss, float) or not np.isfinite(loss):
        raise AssertionError(
            f"backend {name!r}: loss_and_grad returned loss {loss!r}, expected "
            "a finite Python float"
        )
    return loss


def check_gradients_finite_nonzero(backend: Any) -> None:
    """Gradients through the surrogate are finite and reach every projection's weights.

    Applies to backends whose simulators implement :class:`GradientSimulator`; others are
    skipped. On :func:`neuropil_testkit.networks.gradient` with loss ``mean(out.v ** 2)``: the
    loss is a finite float, every gradient is finite and shaped like its parameter, and the
    weights of both projections get a non-zero gradient.
    """
    name = component_name(backend)
    net = networks.gradient()
    sim = _gradient_simulator(backend, net)
    case = networks.Case("gradient", lambda: net)
    loss, grads = sim.loss_and_grad(case.inputs(net), _loss, steps=case.steps)
    _finite_loss(name, loss)
    params = sim.get_parameters()
    for key, g in sorted(grads.items()):
        if key not in params:
            raise AssertionError(
                f"backend {name!r}: gradient for {key!r}, which get_parameters() does not have"
            )
        g = np.asarray(g)
        if g.shape != np.shape(params[key]):
            raise AssertionError(
                f"backend {name!r}: gradient of {key!r} has shape {g.shape}, the parameter "
                f"{np.shape(params[key])}"
            )
        if not np.all(np.isfinite(g)):
            raise AssertionError(f"backend {name!r}: gradient of {key!r} is not finite")
    for key in ("in->hidden.weights", "hidden->out.weights"):
        if key not in grads:
            raise AssertionError(
                f"backend {name!r}: no gradient for trainable {key!r}; got {sorted(grads)}"
            )
        if not np.any(np.asarray(grads[key]) != 0):
            raise AssertionError(
                f"backend {name!r}: the gradient of {key!r} is all zero; check the surrogate "
                "gradient of the spikes"
            )


#: Tolerance of gradients against central finite differences on the reference engine.
GRAD_RTOL = 1e-5
#: Relative step of the finite differences (the loss is quadratic in the readout weights, so
#: central differences are exact up to rounding and the step can be large).
_FD_STEP = 1e-3
#: The surrogates of the one-step check, their parameters and their derivatives, written out by
#: hand (not read from the registry) so that the check is independent of the definitions.
_HAND_SURROGATES: tuple[tuple[str, dict[str, float], Callable[[float], float]], ...] = (
    ("fast_sigmoid", {}, lambda x: 1.0 / (1.0 + 25.0 * abs(x)) ** 2),
    ("arctan", {"slope": 3.0}, lambda x: 1.5 / (1.0 + (np.pi / 2 * 3.0 * x) ** 2)),
)


def _reference_loss(sim: Any, inputs: Mapping[str, Any], steps: int) -> float:
    return float(_loss(sim.ops, sim.run(inputs, steps=steps).recordings))


def _finite_differences(net: Network, key: str, inputs: Mapping[str, Any], steps: int) -> Any:
    """Central differences of ``mean(out.v ** 2)`` w.r.t. every entry of ``key``, float64."""
    sim = NumpyBackend().compile(net, dtype="float64", seed=0)
    w0 = sim.get_parameters()[key]
    out = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        h = _FD_STEP * max(1.0, abs(float(w0[idx])))
        values = []
        for sign in (1.0, -1.0):
            w = w0.copy()
            w[idx] += sign * h
            sim.set_parameters({key: w})
            values.append(_reference_loss(sim, inputs, steps))
        out[idx] = (values[0] - values[1]) / (2 * h)
    return out


def check_gradients_match_reference(backend: Any) -> None:
    """Gradients are the right numbers, not only finite and non-zero.

    Applies to backends whose simulators implement :class:`GradientSimulator`; others are
    skipped. Three properties, each in float64:

    * Readout: on :func:`neuropil_testkit.networks.readout` with loss ``mean(out.v ** 2)``,
      the loss equals the reference engine's (rtol 1e-9) and the gradient with respect to
      ``hidden->out.weights`` (into the non-spiking ``li`` readout, so no surrogate is
      involved) equals central finite differences computed on the reference engine within
      rtol :data:`GRAD_RTOL` (1e-5, plus an absolute 1e-5 of the largest entry).
    * Surrogate: on :func:`neuropil_testkit.networks.one_step` (one ``lif`` neuron, one step,
      input 1 through weight ``w`` bringing ``v`` to 0.8) with loss ``mean(n.spikes)``,
      ``d loss / d w = surrogate'(0.8 - v_th) * (1 - exp(-dt / tau_mem))``, with the
      surrogate's derivative written out by hand, for ``fast_sigmoid`` (slope 25) and
      ``arctan`` with ``slope = 3`` (not its default), within rtol 1e-6.
    * Frozen weights: the projection ``in->out`` of the readout network has
      ``trainable=False``; its gradient must be absent from the result or exactly zero (both
      are accepted; leaving it out is preferred, as for any parameter that is not trained).
    """
    name = component_name(backend)
    net = networks.readout()
    sim = _gradient_simulator(backend, net)
    case = networks.Case("readout", networks.readout, steps=30)
    inputs = case.inputs(net)
    loss, grads = sim.loss_and_grad(inputs, _loss, steps=case.steps)
    ref_sim = NumpyBackend().compile(networks.readout(), dtype="float64", seed=0)
    ref_loss = _reference_loss(ref_sim, inputs, case.steps)
    if not np.isclose(_finite_loss(name, loss), ref_loss, rtol=RTOL, atol=ATOL):
        raise AssertionError(
            f"backend {name!r}: loss_and_grad on 'readout' returned loss {loss!r}, the "
            f"reference engine's run gives {ref_loss!r}"
        )
    key = "hidden->out.weights"
    if key not in grads:
        raise AssertionError(
            f"backend {name!r}: no gradient for trainable {key!r}; got {sorted(grads)}"
        )
    got = np.asarray(grads[key], dtype=np.float64)
    want = _finite_differences(networks.readout(), key, inputs, case.steps)
    if got.shape != want.shape:
        raise AssertionError(
            f"backend {name!r}: gradient of {key!r} has shape {got.shape}, the weights {want.shape}"
        )
    bad = ~np.isclose(got, want, rtol=GRAD_RTOL, atol=GRAD_RTOL * float(np.abs(want).max()))
    if bad.any():
        raise AssertionError(
            f"backend {name!r}: the gradient of {key!r} (into the non-spiking readout 'out') "
            f"disagrees with central finite differences on the reference engine (rtol "
            f"{GRAD_RTOL:g} required): " + _first_difference(want, got, bad)
        )
    frozen = "in->out.weights"
    if frozen in grads and np.any(np.asarray(grads[frozen]) != 0):
        raise AssertionError(
            f"backend {name!r}: {frozen!r} has trainable=False but got a non-zero gradient; "
            "leave frozen parameters out of the gradients (or give zeros)"
        )
    _check_one_step_surrogates(backend, name)


def _check_one_step_surrogates(backend: Any, name: str) -> None:
    lif = get_registry().neuron("lif")
    v_th = float(lif.params["v_th"].default)
    gain = 1.0 - float(np.exp(-1e-3 / float(lif.params["tau_mem"].default)))
    v_end = 0.8
    inputs = {"in": np.ones((1, 1, 1))}
    for surrogate, params, derivative in _HAND_SURROGATES:
        sim = _gradient_simulator(backend, networks.one_step(surrogate, params, v_end=v_end))
        loss, grads = sim.loss_and_grad(inputs, _spike_loss, steps=1)
        _finite_loss(name, loss)
        want = derivative(v_end - v_th) * gain
        key = "in->n.weights"
        got = np.asarray(grads.get(key, np.zeros(0)), dtype=np.float64)
        if got.shape != (1, 1) or not np.isclose(got[0, 0], want, rtol=1e-6, atol=0.0):
            label = ", ".join(f"{k}={v:g}" for k, v in params.items()) or "default parameters"
            raise AssertionError(
                f"backend {name!r}: with surrogate {surrogate!r} ({label}), one lif neuron "
                f"brought to v = {v_end} in one step gives d spike / d w = {got.ravel()!r}, "
                f"expected [{want!r}] = {surrogate}'({v_end - v_th:g}) * (1 - exp(-dt / "
                "tau_mem)); use the population's surrogate and its parameters in the backward "
                "pass of the spike"
            )
