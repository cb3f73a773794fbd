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
    """What a simulator offers to be checked by ``check_gradients_finite_nonzero``.

    A backend that trains by gradient descent returns simulators with this method in addition
    to :class:`~neuropil.protocols.Simulator`. Backends without it are skipped by the check.
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


def compare_results(
    ref: SimulationResult,
    got: SimulationResult,
    *,
    exact: Callable[[str], bool],
    what: str,
) -> None:
    """Raise AssertionError unless ``got`` records what ``ref`` records, to the kit's tolerance.

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
        if r.shape != g.shape:
            raise AssertionError(
                f"{what} records {key!r} with shape {g.shape}, the reference with {r.shape}"
            )
        if exact(key):
            bad = r != g
            rule = SPIKES_EXACT
        else:
            bad = ~np.isclose(g, r, rtol=RTOL, atol=ATOL, equal_nan=True)
            rule = f"within rtol {RTOL:g}, atol {ATOL:g}"
        if bad.any():
            raise AssertionError(
                f"{what} disagrees with the reference engine at {key!r} ({rule} required): "
                + _first_difference(r, g, bad)
            )


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
    model x synapse model in a feed-forward + recurrent network with delays, each connectivity
    kind, delays 0 / 1 / 3 / per synapse, each learning rule on dense and sparse projections),
    both engines compile the network with ``dtype="float64", seed=case.seed`` and run it on the
    case's Poisson input. Spikes must be equal exactly; state and weights within rtol 1e-9,
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
    input weights silences the network; a wrongly shaped value is refused.
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


def check_gradients_finite_nonzero(backend: Any) -> None:
    """Gradients through the surrogate are finite and reach every projection's weights.

    Applies to backends whose simulators implement :class:`GradientSimulator`; others are
    skipped. On :func:`neuropil_testkit.networks.gradient` with loss ``mean(out.v ** 2)``: the
    loss is a finite float, every gradient is finite and shaped like its parameter, and the
    weights of both projections get a non-zero gradient.
    """
    name = component_name(backend)
    net = networks.gradient()
    sim = _compile(backend, net, 0)
    if not isinstance(sim, GradientSimulator):
        pytest.skip(
            f"backend {name!r} does not implement gradients (its simulator has no "
            "loss_and_grad, see neuropil_testkit.GradientSimulator)"
        )
    case = networks.Case("gradient", lambda: net)
    loss, grads = sim.loss_and_grad(case.inputs(net), _loss, steps=case.steps)
    if not isinstance(loss, float) or not np.isfinite(loss):
        raise AssertionError(
            f"backend {name!r}: loss_and_grad returned loss {loss!r}, expected "
            "a finite Python float"
        )
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
