"""The backend, target, dataset and encoder checks catch deliberately broken components.

Each broken backend wraps the reference engine and breaks one aspect of it (the IR it compiles,
its update order, its recordings or its gradients); each must fail its check with the message
that names the case and the recording where the difference shows.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import Network, get_registry
from neuropil.protocols import DatasetInfo, HardwareIssue, SimulationResult
from neuropil.reference import NumpyBackend
from neuropil.reference._engine import NumpySimulator
from neuropil_testkit import (
    GradientSimulator,
    LossFn,
    check_dataset_info,
    check_deterministic_with_seed,
    check_emulation_deterministic,
    check_emulation_matches_reference,
    check_encoder_shape_and_determinism,
    check_export_writes_files,
    check_gradients_finite_nonzero,
    check_gradients_match_reference,
    check_matches_reference,
    check_parameters_round_trip,
    check_samples_match_info,
    check_split_deterministic,
    check_target_reports_issues,
)

# -- backends ---------------------------------------------------------------------------------


class Wrapped:
    """A simulator that delegates to the reference engine; subclasses break one thing.

    ``prepare`` changes (a copy of) the network the reference engine compiles, ``adjust`` the
    compiled simulator, ``tamper`` the results.
    """

    def __init__(self, network: Network, seed: int) -> None:
        self.network = network
        self.inner = NumpyBackend().compile(
            self.prepare(copy.deepcopy(network)), dtype="float64", seed=seed
        )
        self.adjust(self.inner)

    def prepare(self, network: Network) -> Network:
        return network

    def adjust(self, sim: NumpySimulator) -> None:
        """Break the compiled simulator (the wrappers below override this)."""

    def run(
        self, inputs: Mapping[str, npt.ArrayLike], *, steps: int | None = None
    ) -> SimulationResult:
        return self.tamper(self.inner.run(inputs, steps=steps))

    def tamper(self, result: SimulationResult) -> SimulationResult:
        return result

    def get_parameters(self) -> dict[str, npt.NDArray[Any]]:
        return self.inner.get_parameters()

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        self.inner.set_parameters(values)


class FakeBackend:
    name = "fake"
    simulator: type[Wrapped] = Wrapped

    def compile(
        self, network: Network, *, dtype: str = "float64", device: str | None = None, seed: int = 0
    ) -> Wrapped:
        return self.simulator(network, seed)


def backend(simulator: type[Wrapped]) -> FakeBackend:
    b = FakeBackend()
    b.simulator = simulator
    return b


class DropsOneSpike(Wrapped):
    def tamper(self, result: SimulationResult) -> SimulationResult:
        for key, value in result.recordings.items():
            if key.endswith(".spikes") and not key.startswith("in.") and value.any():
                value[tuple(np.argwhere(value)[0])] = 0.0
                break
        return result


class OffByOneDelay(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            proj.delay = np.asarray(proj.delay) + 1 if np.ndim(proj.delay) else proj.delay + 1
        return network


class ZeroDelayAsOne(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            if np.ndim(proj.delay) == 0 and int(proj.delay) == 0:
                proj.delay = 1
        return network


class PerSynapseDelayOffByOne(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            if np.ndim(proj.delay):
                proj.delay = np.asarray(proj.delay) + 1
        return network


class IgnoresMask(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            proj.mask = None
        return network


class IgnoresSign(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            proj.sign = None
        return network


class DropsProbeIndex(Wrapped):
    def prepare(self, network: Network) -> Network:
        for probe in network.probes:
            probe.index = None
        return network


class DeclarationOrder(Wrapped):
    def adjust(self, sim: NumpySimulator) -> None:
        object.__setattr__(sim.resolved, "order", [p.name for p in sim.resolved.populations])


class IgnoresNeuronParams(Wrapped):
    """Uses the schema's defaults, as a fused kernel with constants baked in would."""

    def prepare(self, network: Network) -> Network:
        for pop in network.populations:
            pop.params = {}
        return network


class FirstValueOfPerNeuronParams(Wrapped):
    def prepare(self, network: Network) -> Network:
        for pop in network.populations:
            pop.params = {
                k: float(np.ravel(v)[0]) if np.ndim(v) else v for k, v in pop.params.items()
            }
        return network


class IgnoresNeuronOptions(Wrapped):
    def prepare(self, network: Network) -> Network:
        for pop in network.populations:
            pop.options = {}
        return network


class IgnoresInitialState(Wrapped):
    def prepare(self, network: Network) -> Network:
        for pop in network.populations:
            pop.initial_state = {}
        return network


class IgnoresSynapseParams(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            proj.synapse_params = {}
        return network


class IgnoresRuleParams(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            if proj.plasticity is not None:
                proj.plasticity = dataclasses.replace(proj.plasticity, params={})
        return network


class IgnoresRuleOptions(Wrapped):
    def prepare(self, network: Network) -> Network:
        for proj in network.projections:
            if proj.plasticity is not None:
                proj.plasticity = dataclasses.replace(proj.plasticity, options={})
        return network


class StaleFinalState(Wrapped):
    """Returns the initial state as the final one."""

    def tamper(self, result: SimulationResult) -> SimulationResult:
        return dataclasses.replace(
            result, final_state={k: np.zeros_like(v) for k, v in result.final_state.items()}
        )


class NoFinalState(Wrapped):
    def tamper(self, result: SimulationResult) -> SimulationResult:
        return dataclasses.replace(result, final_state={})


def test_a_faithful_wrapper_passes_the_backend_checks() -> None:
    check_matches_reference(backend(Wrapped))
    check_parameters_round_trip(backend(Wrapped))
    check_deterministic_with_seed(backend(Wrapped))


def _disagrees(case: str, key: str) -> str:
    return (
        rf"backend 'fake' on case '{case}' disagrees with the reference engine at "
        rf"{key} \((spikes equal exactly|within rtol 1e-09, atol 1e-12) required\): first "
        r"difference at "
    )


@pytest.mark.parametrize(
    ("mutant", "case", "key"),
    [
        (OffByOneDelay, "delay-1", r"'a\.s'"),
        (ZeroDelayAsOne, "delay-0", r"'a\.s'"),
        (PerSynapseDelayOffByOne, "delay-per_synapse", r"'a\.s'"),
        (IgnoresMask, "sign-excitatory-dense", r"'in->pop\.weights'"),
        (IgnoresSign, "sign-excitatory-dense", r"'in->pop\.weights'"),
        (IgnoresSign, "sign-inhibitory-sparse", r"'in->pop\.weights'"),
        (DeclarationOrder, "order-diamond", r"'b\.s'"),
        (IgnoresNeuronParams, "params-lif", r"'pop\.ref'"),
        (IgnoresNeuronParams, "params-izhikevich", r"'pop\.spikes'"),
        (FirstValueOfPerNeuronParams, "params-lif", r"'pop\.ref'"),
        (FirstValueOfPerNeuronParams, "params-alif", r"'pop\.b'"),
        (IgnoresNeuronOptions, "options-lif", r"'integration-add_after_decay\.s'"),
        (IgnoresNeuronOptions, "options-if", r"'reset-none\.s'"),
        (IgnoresInitialState, "state-lif", r"'pop\.s'"),
        (IgnoresInitialState, "state-li", r"'pop\.v'"),
        (IgnoresSynapseParams, "synapse-exponential", r"'in->params\.syn\.i'"),
        (IgnoresRuleParams, "stdp-variants", r"'in->params\.weights'"),
        (IgnoresRuleParams, "oja-variants", r"'in->params\.weights'"),
        (IgnoresRuleOptions, "stdp-variants", r"'in->weight_dependence-multiplicative\.weights'"),
        (StaleFinalState, "lif-exponential", r"final state 'a->a\.syn\.i'"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_a_broken_backend_fails_its_case(mutant: type[Wrapped], case: str, key: str) -> None:
    with pytest.raises(AssertionError, match=_disagrees(case, key)):
        check_matches_reference(backend(mutant), case=case)


def test_a_dropped_spike_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' on case 'lif-delta' disagrees with the reference engine at "
        r"'a\.spikes' \(spikes equal exactly required\): first difference at step \d+, batch \d+, "
        r"neuron \d+: reference 1\.0, backend 0\.0; 1 of \d+ values differ",
    ):
        check_matches_reference(backend(DropsOneSpike), case="lif-delta")


def test_a_dropped_probe_index_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' on case 'probe-index' records 'pop\.spikes' with shape "
        r"\(50, 2, 8\), the reference with \(50, 2, 3\)",
    ):
        check_matches_reference(backend(DropsProbeIndex), case="probe-index")


def test_a_missing_final_state_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' on case 'lif-delta': final_state keys differ from the reference "
        r"engine's: missing \['a\.ref', 'a\.s', 'a\.v', 'b\.ref', 'b\.s', 'b\.v'\], "
        r"unexpected \[\]",
    ):
        check_matches_reference(backend(NoFinalState), case="lif-delta")


def test_an_unknown_case_is_named() -> None:
    with pytest.raises(AssertionError, match=r"no reference case 'nope'; cases: .*conn-conv2d"):
        check_matches_reference("numpy", case="nope")


class IgnoresParameters(Wrapped):
    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        """Ignore every parameter (the mistake under test)."""


class FirstValueOfSetParameters(Wrapped):
    """Reports the per-neuron values it is given but simulates with the first one only."""

    given: dict[str, npt.NDArray[Any]]

    def get_parameters(self) -> dict[str, npt.NDArray[Any]]:
        return {**self.inner.get_parameters(), **getattr(self, "given", {})}

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        self.given = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        self.inner.set_parameters(
            {
                k: np.full_like(np.asarray(v), np.ravel(v)[0])
                if k.count(".") == 1 and not k.endswith(".weights") and np.ndim(v)
                else v
                for k, v in values.items()
            }
        )


class KeepsScalarParameters(Wrapped):
    """Refuses nothing, but drops per-neuron population parameters."""

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        self.inner.set_parameters({k: v for k, v in values.items() if k != "a.v_th"})

    def get_parameters(self) -> dict[str, npt.NDArray[Any]]:
        params = self.inner.get_parameters()
        params["a.v_th"] = np.linspace(0.7, 1.3, 16)
        return params


def test_ignored_set_parameters_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"set_parameters\(\{'in->a.weights': w\}\) then "
        r"get_parameters\(\) did not return w",
    ):
        check_parameters_round_trip(backend(IgnoresParameters))


def test_a_per_neuron_parameter_reduced_to_one_value_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' after set_parameters\(\{'a\.v_th': one value per neuron\}\) "
        r"disagrees with the reference engine at 'a\.",
    ):
        check_parameters_round_trip(backend(FirstValueOfSetParameters))


def test_a_per_neuron_parameter_without_effect_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"setting 'a\.v_th' to one value per neuron \(0\.7 to 1\.3\) left the spikes "
        "unchanged",
    ):
        check_parameters_round_trip(backend(KeepsScalarParameters))


class Noisy(Wrapped):
    """Adds noise that differs from run to run (deterministically: a counter seeds it)."""

    runs = 0

    def tamper(self, result: SimulationResult) -> SimulationResult:
        Noisy.runs += 1
        noise = np.random.default_rng(Noisy.runs)
        for key, value in result.recordings.items():
            if key.endswith(".v"):
                value += noise.normal(0.0, 1e-6, value.shape)
        return result


def test_nondeterminism_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' running one simulator twice disagrees with the "
        r"reference engine at 'a\.v'",
    ):
        check_deterministic_with_seed(backend(Noisy))


# -- gradients ----------------------------------------------------------------------------------


class ZeroGradients(Wrapped):
    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        return 0.5, {
            k: np.zeros_like(v) for k, v in self.get_parameters().items() if k.endswith(".weights")
        }


class OnesGradients(Wrapped):
    """The right loss, and a gradient of ones for every projection's weights."""

    def loss(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, steps: int | None
    ) -> float:
        return float(loss_fn(self.inner.ops, self.inner.run(inputs, steps=steps).recordings))

    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        return self.loss(inputs, loss_fn, steps), {
            k: np.ones_like(v) for k, v in self.get_parameters().items() if k.endswith(".weights")
        }


class ReferenceGradients(OnesGradients):
    """Right where the kit can know the gradient without a surrogate-gradient engine.

    Weights into a non-spiking population: central finite differences (exact: the loss is
    quadratic in them). Weights into one spiking neuron run for one step: the chain rule
    through the population's surrogate, bound with its parameters. Elsewhere ones. Weights
    with ``trainable=False`` are left out.
    """

    surrogate_params = True
    frozen_too = False

    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        reg = get_registry()
        grads: dict[str, npt.NDArray[Any]] = {}
        for proj in self.network.projections:
            if not proj.trainable_weights and not self.frozen_too:
                continue
            key = f"{proj.name}.weights"
            post = self.network.population_by_name(proj.post)
            if not reg.neuron(post.model).spiking:
                grads[key] = self.finite_differences(key, inputs, loss_fn, steps)
            elif post.size == 1 and steps == 1:
                v = float(self.inner.run(inputs, steps=1)[f"{post.name}.v"].ravel()[0])
                w = float(self.get_parameters()[key].ravel()[0])
                values = post.surrogate_params if self.surrogate_params else {}
                surrogate = reg.surrogate(post.surrogate).bind(**values)
                v_th = float(reg.neuron(post.model).params["v_th"].default)
                slope = float(surrogate.derivative(self.inner.ops, np.asarray(v - v_th)))
                grads[key] = np.array([[slope * v / w]])
            else:
                grads[key] = np.ones_like(self.get_parameters()[key])
        return self.loss(inputs, loss_fn, steps), grads

    def finite_differences(
        self, key: str, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, steps: int | None
    ) -> npt.NDArray[Any]:
        w0 = self.get_parameters()[key]
        out = np.zeros_like(w0)
        for idx in np.ndindex(w0.shape):
            w = w0.copy()
            w[idx] += 1e-4
            self.set_parameters({key: w})
            up = self.loss(inputs, loss_fn, steps)
            w[idx] -= 2e-4
            self.set_parameters({key: w})
            out[idx] = (up - self.loss(inputs, loss_fn, steps)) / 2e-4
        self.set_parameters({key: w0})
        return out


class DefaultSurrogateParams(ReferenceGradients):
    surrogate_params = False


class FrozenWeightsTrained(ReferenceGradients):
    frozen_too = True


class ScaledReadoutGradients(ReferenceGradients):
    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: LossFn, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        loss, grads = super().loss_and_grad(inputs, loss_fn, steps=steps)
        if "hidden->out.weights" in grads:
            grads["hidden->out.weights"] = grads["hidden->out.weights"] * (1 + 1e-4)
        return loss, grads


def test_the_gradient_checks_skip_backends_without_gradients() -> None:
    for check in (check_gradients_finite_nonzero, check_gradients_match_reference):
        with pytest.raises(pytest.skip.Exception, match="'numpy' does not implement gradients"):
            check("numpy")


def test_zero_gradients_are_caught() -> None:
    assert isinstance(backend(ZeroGradients).compile(Network()), GradientSimulator)
    with pytest.raises(AssertionError, match=r"the gradient of 'in->hidden\.weights' is all zero"):
        check_gradients_finite_nonzero(backend(ZeroGradients))


def test_right_gradients_pass_both_gradient_checks() -> None:
    check_gradients_finite_nonzero(backend(ReferenceGradients))
    check_gradients_match_reference(backend(ReferenceGradients))


def test_finite_nonzero_but_wrong_gradients_are_caught() -> None:
    check_gradients_finite_nonzero(backend(OnesGradients))
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake': the gradient of 'hidden->out\.weights' \(into the non-spiking "
        r"readout 'out'\) disagrees with central finite differences on the reference engine "
        r"\(rtol 1e-05 required\): first difference at axis 0 0, axis 1 0: reference "
        r"-?\d\S*, backend 1\.0; 24 of 24 values differ",
    ):
        check_gradients_match_reference(backend(OnesGradients))


def test_slightly_wrong_readout_gradients_are_caught() -> None:
    with pytest.raises(AssertionError, match=r"'hidden->out\.weights' .* disagrees with central"):
        check_gradients_match_reference(backend(ScaledReadoutGradients))


def test_a_surrogate_without_its_parameters_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"with surrogate 'arctan' \(slope=3\), one lif neuron brought to v = 0\.8 in one "
        r"step gives d spike / d w = .*, expected \[.*\] = arctan'\(-0\.2\)",
    ):
        check_gradients_match_reference(backend(DefaultSurrogateParams))


def test_a_gradient_for_frozen_weights_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"'in->out\.weights' has trainable=False but got a non-zero gradient",
    ):
        check_gradients_match_reference(backend(FrozenWeightsTrained))


def test_a_wrong_loss_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"loss_and_grad on 'readout' returned loss 0\.5, the reference engine's run gives",
    ):
        check_gradients_match_reference(backend(ZeroGradients))


# -- targets ----------------------------------------------------------------------------------


class Deployment:
    def __init__(self, network: Network, chip: FakeChip) -> None:
        self.sim = NumpyBackend().compile(network, dtype="float64")
        self.chip = chip

    def emulate(
        self, inputs: Mapping[str, npt.ArrayLike], *, steps: int | None = None
    ) -> SimulationResult:
        result = self.sim.run(inputs, steps=steps)
        self.chip.emulations += 1
        if self.chip.jitter:
            # Every call flips a different spike: two emulations never agree.
            spikes = result.recordings["hidden.spikes"]
            t = self.chip.emulations % spikes.shape[0]
            spikes[t, 0, 0] = 1.0 - spikes[t, 0, 0]
        if self.chip.silent:
            for value in result.recordings.values():
                value[...] = 0.0
        if self.chip.extra_spikes:
            result.recordings["out.spikes"][::5, :, 1] = 1.0
        return result

    def resources(self) -> dict[str, Any]:
        return {"cores": 1}

    def export(self, path: str) -> list[str]:
        if self.chip.export == "nothing":
            return []
        target = os.path.join(path, "network.py")
        if self.chip.export != "missing":
            with open(target, "w", encoding="utf-8") as f:
                f.write("# the deployed network\n")
        return [target if self.chip.export != "relative" else "network.py"]


class FakeChip:
    name = "chip"

    def __init__(
        self,
        limit: int | None = 1000,
        *,
        jitter: bool = False,
        silent: bool = False,
        extra_spikes: bool = False,
        export: str = "absolute",
    ) -> None:
        self.limit = limit
        self.jitter = jitter
        self.silent = silent
        self.extra_spikes = extra_spikes
        self.export = export
        self.emulations = 0

    def check(self, network: Network) -> list[HardwareIssue]:
        n = sum(p.size for p in network.populations)
        if self.limit is not None and n > self.limit:
            return [HardwareIssue("populations", f"{n} neurons exceed the chip's {self.limit}")]
        return []

    def deploy(self, network: Network, parameters: Any = None) -> Deployment:
        return Deployment(network, self)


def test_a_correct_target_passes() -> None:
    check_target_reports_issues(FakeChip())
    check_emulation_deterministic(FakeChip())
    check_emulation_matches_reference(FakeChip())
    check_export_writes_files(FakeChip())
    check_export_writes_files(FakeChip(export="relative"))


def test_a_target_without_limits_is_caught() -> None:
    with pytest.raises(
        AssertionError, match="target 'chip' reported no error for network 'oversized'"
    ):
        check_target_reports_issues(FakeChip(limit=None))


def test_a_target_refusing_everything_is_caught() -> None:
    with pytest.raises(AssertionError, match="target 'chip' refuses the small standard network"):
        check_target_reports_issues(FakeChip(limit=10))


def test_a_nondeterministic_emulator_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"target 'chip' emulating the same deployment twice disagrees with the reference "
        r"engine at 'hidden\.spikes'",
    ):
        check_emulation_deterministic(FakeChip(jitter=True))


def test_a_silent_emulator_is_caught() -> None:
    check_emulation_deterministic(FakeChip(silent=True))
    with pytest.raises(
        AssertionError,
        match=r"target 'chip': the emulation of 'deployable' has no spike in 'hidden\.spikes' "
        r"\(the reference engine has \d+\)",
    ):
        check_emulation_matches_reference(FakeChip(silent=True))


def test_an_emulator_gaining_spikes_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"target 'chip': the emulation of 'deployable' disagrees with the float reference "
        r"at 'out\.spikes': neuron 1 of batch entry 0 spikes \d+ times, the reference \d+ "
        r"\(\+/-1 allowed\); 2 of 8 counts are off",
    ):
        check_emulation_matches_reference(FakeChip(extra_spikes=True))


def test_an_export_writing_nothing_is_caught() -> None:
    with pytest.raises(
        AssertionError, match=r"target 'chip': export\(\) returned \[\]; return the list"
    ):
        check_export_writes_files(FakeChip(export="nothing"))


def test_an_export_listing_a_missing_file_is_caught() -> None:
    with pytest.raises(
        AssertionError, match=r"export\(\) returned '.*network\.py', which is not a written"
    ):
        check_export_writes_files(FakeChip(export="missing"))


# -- datasets and encoders ---------------------------------------------------------------------


class FakeDataset:
    name = "toy"

    def __init__(self, **changes: Any) -> None:
        info: dict[str, Any] = {
            "name": "toy",
            "shape": (4,),
            "classes": ("a", "b"),
            "dt": 1e-3,
            "steps": 10,
            "size": {"train": 6, "test": 3},
            "licence": "CC0",
            "citation": "nobody",
        }
        info.update(changes)
        self.info = DatasetInfo(**info)
        self.label_offset = 0
        self.shuffle = False

    def split(self, name: str) -> Sequence[tuple[npt.NDArray[Any], int]]:
        seed = None if self.shuffle else {"train": 0, "test": 1}[name]
        rng = np.random.default_rng(seed)
        return [
            ((rng.random((10, 4)) < 0.2).astype(np.float64), k % 2 + self.label_offset)
            for k in range(self.info.size[name])
        ]


def test_a_correct_dataset_passes() -> None:
    for check in (check_dataset_info, check_samples_match_info, check_split_deterministic):
        check(FakeDataset())


def test_incomplete_dataset_info_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"dataset 'toy' has incomplete info: licence is "
        r"empty.*; citation is empty",
    ):
        check_dataset_info(FakeDataset(licence="", citation=" "))


def test_labels_out_of_range_are_caught() -> None:
    ds = FakeDataset()
    ds.label_offset = 1
    with pytest.raises(AssertionError, match=r"sample 1: label 2 is not an int in 0\.\.1"):
        check_samples_match_info(ds)


def test_a_wrong_sample_shape_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"sample 0: x has shape \(10, 4\), expected \[T, 5\]"):
        check_samples_match_info(FakeDataset(shape=(5,)))


def test_an_unseeded_shuffle_is_caught() -> None:
    ds = FakeDataset()
    ds.shuffle = True
    with pytest.raises(AssertionError, match="sample 0 of split 'train' differs in a second read"):
        check_split_deterministic(ds)


class FakeEncoder:
    name = "rate"

    def __init__(self, seeded: bool = True, time_last: bool = False) -> None:
        self.seeded = seeded
        self.time_last = time_last

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        arr = np.asarray(x, dtype=np.float64)
        source = rng if self.seeded else np.random.default_rng()
        out = (source.random((steps, *arr.shape)) < arr * 0.5).astype(np.float64)
        return np.moveaxis(out, 0, -1) if self.time_last else out


def test_a_correct_encoder_passes() -> None:
    check_encoder_shape_and_determinism(FakeEncoder())


def test_an_encoder_ignoring_rng_is_caught() -> None:
    with pytest.raises(AssertionError, match="encoder 'rate' is not deterministic"):
        check_encoder_shape_and_determinism(FakeEncoder(seeded=False))


def test_an_encoder_putting_time_last_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"gave shape \(2, 5, 20\), expected \(20, 2, 5\)"):
        check_encoder_shape_and_determinism(FakeEncoder(time_last=True))
