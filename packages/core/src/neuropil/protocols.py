"""The protocols of the engines a plugin provides: backends, hardware targets, datasets,
encoders and analyses.

Portable components (neuron models, synapse models, learning rules, surrogates) are data, see
:class:`~neuropil.NeuronModel` and friends. The engines here are classes a plugin implements;
the registry loads them lazily by name. All arrays crossing these interfaces are numpy arrays
(so that targets, datasets and analyses never need a backend).

Shapes: time-major ``[T, B, ...]`` (steps, batch, then the population's shape).
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from neuropil._network import Network
    from neuropil._training import TrainingConfig

__all__ = [
    "Analysis",
    "AnalysisResult",
    "Backend",
    "Dataset",
    "DatasetInfo",
    "Deployment",
    "Encoder",
    "HardwareIssue",
    "HardwareTarget",
    "SimulationResult",
    "Simulator",
    "TrainableBackend",
    "encoded_shape",
]


@dataclass
class SimulationResult:
    """What a simulation recorded.

    Attributes:
        recordings: Probe key (``"hidden.spikes"``, ``"hidden.v"``) to array ``[T, B, n]``
            (``n`` the probed neurons); a ``weights`` probe (``"in->hidden.weights"``) is
            ``[T, n_synapses]``, weights being shared by the batch. The result reads like a
            mapping of these: ``result["hidden.v"]``, ``list(result)``, ``result.items()``.
        dt: The time step in seconds.
        steps: The number of steps simulated, ``T``.
        final_state: State at the end, by ``"population.variable"``, each ``[B, N]``.
    """

    recordings: dict[str, npt.NDArray[Any]]
    dt: float
    steps: int
    final_state: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> npt.NDArray[Any]:
        try:
            return self.recordings[key]
        except KeyError:
            raise KeyError(
                f"nothing recorded as {key!r}; recorded: {', '.join(sorted(self.recordings))}"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self.recordings

    def __iter__(self) -> Iterator[str]:
        return iter(self.recordings)

    def __len__(self) -> int:
        return len(self.recordings)

    def keys(self) -> KeysView[str]:
        """The probe keys, in the network's probe order."""
        return self.recordings.keys()

    def items(self) -> ItemsView[str, npt.NDArray[Any]]:
        """``(probe key, recording)`` pairs."""
        return self.recordings.items()


@runtime_checkable
class Simulator(Protocol):
    """A network compiled by a backend, ready to simulate."""

    network: Network

    def run(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        *,
        steps: int | None = None,
    ) -> SimulationResult:
        """Simulate from the initial state.

        Args:
            inputs: Input name to values ``[T, B, *shape]`` delivered through the input's
                projections (spikes, or graded values). Inputs not given are zero.
            steps: Number of steps; defaults to ``T`` of the inputs.

        Returns:
            The probes' recordings as numpy arrays.
        """
        ...

    def get_parameters(self) -> dict[str, npt.NDArray[Any]]:
        """Every parameter as a numpy array keyed by IR name (``"hidden.tau_mem"``,
        ``"in->hidden.weights"``), including ones changed by training or plasticity."""
        ...

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        """Replace parameters by IR name; shapes must match :meth:`get_parameters`."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Compiles a network IR into something that simulates it."""

    name: str

    def compile(
        self,
        network: Network,
        *,
        dtype: str = "float32",
        device: str | None = None,
        seed: int = 0,
    ) -> Simulator:
        """Compile ``network`` (validated first) for ``dtype`` (``"float32"``/``"float64"``)."""
        ...


@runtime_checkable
class TrainableBackend(Backend, Protocol):
    """A backend that can also train a network (gradient descent through surrogates)."""

    def train(
        self,
        network: Network,
        dataset: Dataset,
        config: TrainingConfig,
        *,
        run_dir: str | None = None,
    ) -> dict[str, Any]:
        """Train ``network`` on ``dataset`` as ``config`` says (see :class:`~neuropil.
        TrainingConfig` for the exact losses, metrics, regularisers and checkpoint format).

        Returns:
            Metrics (JSON-able: ``loss``, ``accuracy``, per-epoch lists...), and under
            ``"parameters"`` the trained parameters by IR name as numpy arrays.
        """
        ...


@dataclass(frozen=True)
class HardwareIssue:
    """One way a network does not fit a chip.

    Attributes:
        path: Where in the network (``"projections[1].weights"``).
        message: What limit is exceeded and how to fix it.
        severity: ``"error"`` (cannot deploy) or ``"warning"`` (deploys with a loss).
    """

    path: str
    message: str
    severity: str = "error"


@runtime_checkable
class Deployment(Protocol):
    """A network mapped onto a chip: quantised, placed, ready to emulate or export."""

    def emulate(
        self, inputs: Mapping[str, npt.ArrayLike], *, steps: int | None = None
    ) -> SimulationResult:
        """Run the chip's integer arithmetic bit-exactly."""
        ...

    def resources(self) -> dict[str, Any]:
        """Cores, memory, routing entries, energy and latency estimates."""
        ...

    def export(self, path: str) -> list[str]:
        """Write the vendor-toolchain files under ``path``; return the files written."""
        ...


@runtime_checkable
class HardwareTarget(Protocol):
    """A neuromorphic chip: its limits, number formats and arithmetic."""

    name: str

    def check(self, network: Network) -> list[HardwareIssue]:
        """Every way ``network`` violates the chip's limits (empty when it fits)."""
        ...

    def deploy(
        self, network: Network, parameters: Mapping[str, npt.ArrayLike] | None = None
    ) -> Deployment:
        """Quantise and place ``network`` (with trained ``parameters`` if given)."""
        ...


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of a dataset.

    Attributes:
        name: Registry name.
        shape: Shape of one sample's frame (without the time axis), e.g. ``(700,)``.
        classes: Class names, index = label.
        dt: Seconds per time bin of a sample.
        steps: Time bins per sample (the longest one when samples vary).
        size: Number of samples per split.
        licence: The data's licence.
        citation: How to cite it.
        url: Where it comes from.
    """

    name: str
    shape: tuple[int, ...]
    classes: tuple[str, ...]
    dt: float
    steps: int
    size: Mapping[str, int]
    licence: str
    citation: str
    url: str = ""


@runtime_checkable
class Dataset(Protocol):
    """A labelled dataset of spike (or current) samples, time-major.

    ``split(name)`` gives a sequence of ``(x, label)`` where ``x`` is ``[T, *info.shape]``.
    """

    info: DatasetInfo

    def split(self, name: str) -> Sequence[tuple[npt.NDArray[Any], int]]:
        """The samples of split ``name`` (``"train"``, ``"test"``)."""
        ...


@runtime_checkable
class Encoder(Protocol):
    """Turns ordinary data into spikes (or currents).

    An encoder whose output has another shape than its input (a population code gives each
    value ``n`` neurons) also defines ``output_shape(shape) -> tuple[int, ...]``: the shape of
    one step of ``encode``'s output for an ``x`` of shape ``shape``. Without it the shape is
    unchanged; :func:`encoded_shape` asks either way.
    """

    name: str

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Encode ``x`` (``[*shape]`` or ``[B, *shape]``) as ``[steps, *x.shape]``."""
        ...


def encoded_shape(encoder: Encoder, shape: Sequence[int]) -> tuple[int, ...]:
    """The shape of one step of ``encoder.encode(x)`` for ``x`` of shape ``shape``: the
    encoder's ``output_shape(shape)`` when it defines one, else ``shape`` itself."""
    method = getattr(encoder, "output_shape", None)
    if callable(method):
        return tuple(int(s) for s in method(tuple(shape)))
    return tuple(int(s) for s in shape)


@dataclass
class AnalysisResult:
    """What an analysis found.

    Attributes:
        metrics: Named numbers (JSON-able).
        arrays: Named arrays (saved to the run folder as ``.npz``).
        html: An HTML fragment for the report, or ``""``.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    html: str = ""


@runtime_checkable
class Analysis(Protocol):
    """An analysis of a network and what it did."""

    name: str

    def run(
        self,
        network: Network,
        result: SimulationResult,
        config: Mapping[str, Any],
    ) -> AnalysisResult:
        """Analyse ``result`` of simulating ``network``; ``config`` is its experiment table."""
        ...
