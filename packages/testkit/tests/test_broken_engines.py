"""The backend, target, dataset and encoder checks catch deliberately broken components."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import Network
from neuropil.protocols import DatasetInfo, HardwareIssue, SimulationResult
from neuropil.reference import NumpyBackend
from neuropil_testkit import (
    GradientSimulator,
    check_dataset_info,
    check_deterministic_with_seed,
    check_emulation_deterministic,
    check_encoder_shape_and_determinism,
    check_gradients_finite_nonzero,
    check_matches_reference,
    check_parameters_round_trip,
    check_samples_match_info,
    check_split_deterministic,
    check_target_reports_issues,
)

# -- backends ---------------------------------------------------------------------------------


class Wrapped:
    """A simulator that delegates to the reference and lets a subclass tamper with results."""

    def __init__(self, network: Network, seed: int) -> None:
        self.inner = NumpyBackend().compile(network, dtype="float64", seed=seed)
        self.network = network

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


class DropsOneSpike(Wrapped):
    def tamper(self, result: SimulationResult) -> SimulationResult:
        for key, value in result.recordings.items():
            if key.endswith(".spikes") and not key.startswith("in.") and value.any():
                value[tuple(np.argwhere(value)[0])] = 0.0
                break
        return result


class OffByOneDelay(Wrapped):
    def __init__(self, network: Network, seed: int) -> None:
        shifted = copy.deepcopy(network)
        for proj in shifted.projections:
            proj.delay = np.asarray(proj.delay) + 1 if np.ndim(proj.delay) else proj.delay + 1
        super().__init__(shifted, seed)
        self.network = network


class IgnoresParameters(Wrapped):
    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        pass


class Noisy(Wrapped):
    def tamper(self, result: SimulationResult) -> SimulationResult:
        noise = np.random.default_rng()
        for key, value in result.recordings.items():
            if key.endswith(".v"):
                value += noise.normal(0.0, 1e-6, value.shape)
        return result


class ZeroGradients(Wrapped):
    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: Any, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        return 0.5, {
            k: np.zeros_like(v) for k, v in self.get_parameters().items() if k.endswith(".weights")
        }


class FakeGradients(ZeroGradients):
    def loss_and_grad(
        self, inputs: Mapping[str, npt.ArrayLike], loss_fn: Any, *, steps: int | None = None
    ) -> tuple[float, dict[str, npt.NDArray[Any]]]:
        result = self.inner.run(inputs, steps=steps)
        loss = float(loss_fn(self.inner.ops, result.recordings))
        return loss, {
            k: np.ones_like(v) for k, v in self.get_parameters().items() if k.endswith(".weights")
        }


def backend(simulator: type[Wrapped]) -> FakeBackend:
    b = FakeBackend()
    b.simulator = simulator
    return b


def test_a_faithful_wrapper_passes_the_backend_checks() -> None:
    check_matches_reference(backend(Wrapped))
    check_parameters_round_trip(backend(Wrapped))
    check_deterministic_with_seed(backend(Wrapped))


def test_a_dropped_spike_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' on case 'lif-delta' disagrees with the reference engine at "
        r"'a\.spikes' \(spikes equal exactly required\): first difference at step \d+, batch \d+, "
        r"neuron \d+: reference 1\.0, backend 0\.0; 1 of \d+ values differ",
    ):
        check_matches_reference(backend(DropsOneSpike), case="lif-delta")


def test_an_off_by_one_delay_is_caught() -> None:
    with pytest.raises(
        AssertionError, match="backend 'fake' on case 'delay-1' disagrees with the reference"
    ):
        check_matches_reference(backend(OffByOneDelay), case="delay-1")


def test_an_unknown_case_is_named() -> None:
    with pytest.raises(AssertionError, match=r"no reference case 'nope'; cases: .*conn-conv2d"):
        check_matches_reference("numpy", case="nope")


def test_ignored_set_parameters_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"set_parameters\(\{'in->a.weights': w\}\) then "
        r"get_parameters\(\) did not return w",
    ):
        check_parameters_round_trip(backend(IgnoresParameters))


def test_nondeterminism_is_caught() -> None:
    with pytest.raises(
        AssertionError,
        match=r"backend 'fake' running one simulator twice disagrees with the "
        r"reference engine at 'a\.v'",
    ):
        check_deterministic_with_seed(backend(Noisy))


def test_the_gradient_check_skips_backends_without_gradients() -> None:
    with pytest.raises(pytest.skip.Exception, match="'numpy' does not implement gradients"):
        check_gradients_finite_nonzero("numpy")


def test_zero_gradients_are_caught() -> None:
    assert isinstance(backend(ZeroGradients).compile(Network()), GradientSimulator)
    with pytest.raises(AssertionError, match=r"the gradient of 'in->hidden\.weights' is all zero"):
        check_gradients_finite_nonzero(backend(ZeroGradients))


def test_finite_nonzero_gradients_pass() -> None:
    check_gradients_finite_nonzero(backend(FakeGradients))


# -- targets ----------------------------------------------------------------------------------


class Deployment:
    def __init__(self, network: Network, jitter: bool) -> None:
        self.sim = NumpyBackend().compile(network, dtype="float64")
        self.jitter = jitter

    def emulate(
        self, inputs: Mapping[str, npt.ArrayLike], *, steps: int | None = None
    ) -> SimulationResult:
        result = self.sim.run(inputs, steps=steps)
        if self.jitter:
            spikes = result.recordings["hidden.spikes"]
            spikes[np.random.default_rng().integers(0, spikes.shape[0])] = 1.0
        return result

    def resources(self) -> dict[str, Any]:
        return {"cores": 1}

    def export(self, path: str) -> list[str]:
        return []


class FakeChip:
    name = "chip"

    def __init__(self, limit: int | None = 1000, jitter: bool = False) -> None:
        self.limit = limit
        self.jitter = jitter

    def check(self, network: Network) -> list[HardwareIssue]:
        n = sum(p.size for p in network.populations)
        if self.limit is not None and n > self.limit:
            return [HardwareIssue("populations", f"{n} neurons exceed the chip's {self.limit}")]
        return []

    def deploy(self, network: Network, parameters: Any = None) -> Deployment:
        return Deployment(network, self.jitter)


def test_a_correct_target_passes() -> None:
    check_target_reports_issues(FakeChip())
    check_emulation_deterministic(FakeChip())


def test_a_target_without_limits_is_caught() -> None:
    with pytest.raises(
        AssertionError, match="target 'chip' reported no error for network 'oversized'"
    ):
        check_target_reports_issues(FakeChip(limit=None))


def test_a_target_refusing_everything_is_caught() -> None:
    with pytest.raises(AssertionError, match="target 'chip' refuses the small standard network"):
        check_target_reports_issues(FakeChip(limit=10))


def test_a_nondeterministic_emulator_is_caught() -> None:
    with pytest.raises(AssertionError, match="target 'chip' emulating the same deployment twice"):
        check_emulation_deterministic(FakeChip(jitter=True))


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
