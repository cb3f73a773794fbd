"""The network IR: a declarative, serialisable description of a spiking network.

The IR is what backends compile and targets deploy. It is plain data (dataclasses holding Python
numbers, strings and numpy arrays); it imports no backend.

Conventions
-----------
* Sizes: a population or input has ``size`` neurons and an optional ``shape`` (e.g.
  ``(C, H, W)``, product equal to ``size``) used by convolutional connectivity.
* Weights are stored in the layout of the projection's connectivity:

  ========== =========================================== =============================
  kind       weights shape                               indices
  ========== =========================================== =============================
  dense      ``[N_post, N_pre]``                         --
  sparse     ``[nnz]``                                   ``pre[nnz]``, ``post[nnz]``
  list       ``[nnz]`` (written inline in files)         ``pre[nnz]``, ``post[nnz]``
  one_to_one ``[N]`` (``N_pre == N_post``)               --
  conv2d     ``[C_out, C_in, kh, kw]``                   --
  random     ``[nnz]`` once resolved (or an initialiser)  drawn from ``p`` and ``seed``
  ========== =========================================== =============================

* Delays are integers in time steps: a scalar, or one per synapse in the weights' layout (not
  for ``conv2d``). A spike emitted by the pre-synaptic population at step ``k`` through delay
  ``d`` is delivered to the post-synaptic synapse at step ``k + d``; ``d = 0`` delivers within
  the same step and is allowed only on paths without a cycle. See ``docs/concepts/time.md``.
* ``sign``: ``"excitatory"`` (weights >= 0), ``"inhibitory"`` (weights <= 0) or ``None``;
  training and plasticity keep weights on their side (Dale's law).
* ``mask``: a boolean array in the weights' layout; masked-out synapses carry no weight
  (pruning, structural plasticity). Effective weights are ``weights * mask``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from neuropil.errors import NetworkValidationError

if TYPE_CHECKING:
    from neuropil._registry import Registry

__all__ = [
    "Connectivity",
    "Input",
    "Network",
    "Plasticity",
    "Population",
    "Probe",
    "Projection",
    "WeightInit",
    "unique_projection_name",
]

ParamValue = float | npt.NDArray[np.floating[Any]]
ConnectivityKind = Literal["dense", "sparse", "list", "one_to_one", "conv2d", "random"]
CONNECTIVITY_KINDS: tuple[str, ...] = (
    "dense",
    "sparse",
    "list",
    "one_to_one",
    "conv2d",
    "random",
)
WEIGHT_INITS: tuple[str, ...] = (
    "constant",
    "uniform",
    "normal",
    "kaiming_uniform",
    "kaiming_normal",
)


@dataclass
class Input:
    """An external source of spikes or graded values, fed ``[T, B, *shape]`` at run time.

    Attributes:
        name: Unique among inputs and populations.
        size: Number of channels.
        shape: Optional shape, product equal to ``size``.
        metadata: Free-form JSON-able data.
    """

    name: str
    size: int
    shape: tuple[int, ...] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Population:
    """A group of neurons sharing one neuron model.

    Attributes:
        name: Unique among inputs and populations.
        size: Number of neurons.
        model: Registry name of the neuron model (``"lif"``).
        params: Parameter values; each a scalar or a per-neuron ``[size]`` array. Parameters
            not given take the model's defaults.
        options: The model's discrete choices (``{"reset": "subtract"}``).
        initial_state: Initial values of state variables, scalar or ``[size]``; others start
            at the model's ``init``.
        trainable: Overrides of the model's default trainable flag, by parameter name.
        surrogate: Registry name of the surrogate gradient of the spike.
        surrogate_params: The surrogate's parameters (``{"slope": 25.0}``).
        shape: Optional shape, product equal to ``size``.
        metadata: Free-form JSON-able data (neuron names and classes of a connectome, roles).
    """

    name: str
    size: int
    model: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    options: dict[str, str | bool | int] = field(default_factory=dict)
    initial_state: dict[str, ParamValue] = field(default_factory=dict)
    trainable: dict[str, bool] = field(default_factory=dict)
    surrogate: str = "fast_sigmoid"
    surrogate_params: dict[str, float] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Connectivity:
    """Which pre-synaptic neurons connect to which post-synaptic ones.

    Attributes:
        kind: One of ``dense``, ``sparse``, ``list``, ``one_to_one``, ``conv2d``.
        pre: Pre-synaptic indices ``[nnz]`` (``sparse``/``list``).
        post: Post-synaptic indices ``[nnz]`` (``sparse``/``list``).
        kernel_size: ``(kh, kw)`` (``conv2d``).
        stride: ``(sh, sw)`` (``conv2d``).
        padding: ``(ph, pw)`` zero padding (``conv2d``).
        p: Connection probability of each pair (``random``, PyNN's FixedProbabilityConnector).
        seed: Seed of the pair draw (``random``), numpy ``PCG64``.
        allow_autapses: Whether ``random`` may connect a neuron to itself when
            ``pre == post``.
    """

    kind: ConnectivityKind = "dense"
    pre: npt.NDArray[np.int64] | None = None
    post: npt.NDArray[np.int64] | None = None
    kernel_size: tuple[int, int] | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    p: float | None = None
    seed: int = 0
    allow_autapses: bool = False

    @classmethod
    def dense(cls) -> Connectivity:
        """All-to-all."""
        return cls("dense")

    @classmethod
    def one_to_one(cls) -> Connectivity:
        """Neuron ``i`` to neuron ``i``."""
        return cls("one_to_one")

    @classmethod
    def sparse(cls, pre: npt.ArrayLike, post: npt.ArrayLike) -> Connectivity:
        """Synapses ``pre[k] -> post[k]`` (COO), stored in binary sidecar arrays."""
        return cls("sparse", np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64))

    @classmethod
    def from_list(cls, pairs: Sequence[tuple[int, int]]) -> Connectivity:
        """Synapses from an explicit ``[(pre, post), ...]`` list, written inline in files."""
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return cls("list", arr[:, 0].copy(), arr[:, 1].copy())

    @classmethod
    def conv2d(
        cls,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
    ) -> Connectivity:
        """2-D convolution from ``(C_in, H, W)`` to ``(C_out, H_out, W_out)``."""

        def pair(v: int | tuple[int, int]) -> tuple[int, int]:
            return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

        return cls(
            "conv2d", kernel_size=pair(kernel_size), stride=pair(stride), padding=pair(padding)
        )

    @classmethod
    def random(cls, p: float, seed: int = 0, *, allow_autapses: bool = False) -> Connectivity:
        """Each pair connected independently with probability ``p`` (resolved to ``sparse``)."""
        return cls("random", p=float(p), seed=int(seed), allow_autapses=allow_autapses)


@dataclass
class WeightInit:
    """Weights drawn at compile time from a seeded initialiser.

    Attributes:
        kind: ``constant`` (``value``), ``uniform`` (``low``, ``high``), ``normal`` (``mean``,
            ``std``), ``kaiming_uniform`` / ``kaiming_normal`` (``gain``; fan-in from the
            connectivity).
        params: The initialiser's parameters.
        seed: Seed of the generator (numpy ``PCG64``), so every backend gets the same weights.
    """

    kind: str = "normal"
    params: dict[str, float] = field(default_factory=dict)
    seed: int = 0


@dataclass
class Plasticity:
    """A local learning rule on a projection.

    Attributes:
        rule: Registry name of the learning rule (``"stdp"``).
        params: The rule's parameter values.
        options: The rule's discrete choices.
    """

    rule: str
    params: dict[str, float] = field(default_factory=dict)
    options: dict[str, str | bool | int] = field(default_factory=dict)


@dataclass
class Projection:
    """Synapses from one input or population to a population.

    Attributes:
        name: Unique among projections; defaults to ``"pre->post"``.
        pre: Name of the source input or population.
        post: Name of the target population.
        synapse: Registry name of the synapse model (``"delta"``, ``"exponential"``).
        synapse_params: The synapse model's parameter values.
        synapse_options: The synapse model's discrete choices.
        connectivity: See :class:`Connectivity`.
        weights: Array in the connectivity's layout, or a :class:`WeightInit`.
        delay: Steps; ``int`` or an integer array in the weights' layout.
        plasticity: Optional local learning rule.
        sign: ``"excitatory"``, ``"inhibitory"`` or ``None``.
        mask: Optional boolean array in the weights' layout.
        trainable_weights: Whether training updates the weights.
        trainable_delays: Whether training may update the delays (backends that cannot say so).
        metadata: Free-form JSON-able data.
    """

    name: str
    pre: str
    post: str
    synapse: str = "delta"
    synapse_params: dict[str, ParamValue] = field(default_factory=dict)
    synapse_options: dict[str, str | bool | int] = field(default_factory=dict)
    connectivity: Connectivity = field(default_factory=Connectivity)
    weights: npt.NDArray[np.floating[Any]] | WeightInit = field(default_factory=WeightInit)
    delay: int | npt.NDArray[np.int64] = 1
    plasticity: Plasticity | None = None
    sign: Literal["excitatory", "inhibitory"] | None = None
    mask: npt.NDArray[np.bool_] | None = None
    trainable_weights: bool = True
    trainable_delays: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Probe:
    """What to record during a simulation.

    Attributes:
        target: Name of a population, input or projection.
        variable: ``"spikes"`` (a population's output, an input's values), a state variable of
            the neuron model (``"v"``), of the synapse (``"syn.i"`` on a projection target), or
            ``"weights"`` (a projection).
        index: Optional indices of the neurons (or synapses) to record; all when ``None``.
    """

    target: str
    variable: str = "spikes"
    index: npt.NDArray[np.int64] | None = None

    @property
    def key(self) -> str:
        """The recording's key: ``"target.variable"``."""
        return f"{self.target}.{self.variable}"


@dataclass
class Network:
    """A spiking network: inputs, populations, projections, probes and the time step.

    Build one with the methods below, check it with :meth:`validate`, save it with
    :meth:`save` and hand it to a backend::

        net = Network(dt=1e-3)
        inp = net.input("in", 700)
        hid = net.population("hidden", 256, "lif", tau_mem=20e-3)
        out = net.population("out", 20, "li", tau_mem=10e-3)
        net.connect(inp, hid, "exponential", weights=WeightInit("normal", {"std": 0.1}),
                    tau_syn=5e-3)
        net.connect(hid, out, weights=w_out)
        net.probe(out, "v")

    Attributes:
        dt: The time step in seconds.
        inputs: External sources.
        populations: Neuron groups.
        projections: Synapse groups.
        probes: What a simulation records.
        name: A name for the network.
        metadata: Free-form JSON-able data.
    """

    dt: float = 1e-3
    inputs: list[Input] = field(default_factory=list)
    populations: list[Population] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    name: str = "network"
    metadata: dict[str, Any] = field(default_factory=dict)

    # -- lookup ---------------------------------------------------------------------------

    def node(self, name: str) -> Input | Population:
        """The input or population called ``name``."""
        nodes: list[Input | Population] = [*self.inputs, *self.populations]
        for node in nodes:
            if node.name == name:
                return node
        names = sorted(n.name for n in nodes)
        raise KeyError(f"no input or population named {name!r}; the network has: {names}")

    def population_by_name(self, name: str) -> Population:
        """The population called ``name``."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        names = sorted(p.name for p in self.populations)
        raise KeyError(f"no population named {name!r}; the network has: {names}")

    def projection_by_name(self, name: str) -> Projection:
        """The projection called ``name``."""
        for proj in self.projections:
            if proj.name == name:
                return proj
        names = sorted(p.name for p in self.projections)
        raise KeyError(f"no projection named {name!r}; the network has: {names}")

    # -- checking and files ---------------------------------------------------------------

    def validate(self, registry: Registry | None = None) -> None:
        """Check the network against the registered models' schemas.

        Raises:
            NetworkValidationError: listing every problem with its exact place
                (``projections[2].synapse: unknown synapse model 'expo'; did you mean
                'exponential'?``).
        """
        from neuropil._validate import validate_network

        validate_network(self, registry)

    def to_dict(self, arrays: dict[str, npt.NDArray[Any]] | None = None) -> dict[str, Any]:
        """A JSON/TOML-able dict. Arrays larger than a few elements go into ``arrays`` (keyed
        by their place) when it is given, else they are written inline."""
        from neuropil._serialize import network_to_dict

        return network_to_dict(self, arrays)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]] | None = None
    ) -> Network:
        """The inverse of :meth:`to_dict`."""
        from neuropil._serialize import network_from_dict

        return network_from_dict(data, arrays)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network to ``path`` (``.json`` or ``.toml``), atomically; large arrays go
        to a sidecar ``<path>.npz`` (numpy format, no pickle)."""
        from neuropil._serialize import save_network

        save_network(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Network:
        """Read a network written by :meth:`save` (or by hand)."""
        from neuropil._serialize import load_network

        return load_network(path)

    # -- builder --------------------------------------------------------------------------

    def input(
        self,
        name: str,
        size: int,
        *,
        shape: Sequence[int] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Input:
        """Add an external input of ``size`` channels (optionally shaped) and return it."""
        node = Input(
            name, int(size), tuple(int(s) for s in shape) if shape else None, dict(metadata or {})
        )
        self.inputs.append(node)
        return node

    def population(
        self,
        name: str,
        size: int,
        model: str,
        *,
        shape: Sequence[int] | None = None,
        options: Mapping[str, str | bool | int] | None = None,
        initial_state: Mapping[str, ParamValue] | None = None,
        trainable: Mapping[str, bool] | Sequence[str] | None = None,
        surrogate: str = "fast_sigmoid",
        surrogate_params: Mapping[str, float] | None = None,
        metadata: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Population:
        """Add a population of ``size`` neurons of neuron model ``model`` and return it.

        Keyword arguments that are not listed are the model's parameters (``tau_mem=20e-3``,
        scalars or per-neuron arrays) or options (``reset="subtract"``); which is which is read
        from the model's schema at validation time, so both may be passed the same way.
        ``trainable`` is a parameter name or a list of them to train, or a ``{name: bool}``
        override.

        Raises:
            NetworkValidationError: a parameter that is not a number or an array of numbers
                (``None``, strings), at its place (``populations[0].params.tau_mem``).
        """
        path = f"populations[{len(self.populations)}]"
        pop_params: dict[str, ParamValue] = {}
        pop_options: dict[str, str | bool | int] = dict(options or {})
        for key, value in params.items():
            if isinstance(value, str | bool):
                pop_options[key] = value
            else:
                pop_params[key] = _as_param(value, f"{path}.params.{key}", key)
        if trainable is None:
            train: dict[str, bool] = {}
        elif isinstance(trainable, str):
            train = {trainable: True}
        elif isinstance(trainable, Mapping):
            train = {str(k): bool(v) for k, v in trainable.items()}
        else:
            train = {str(k): True for k in trainable}
        pop = Population(
            name=name,
            size=int(size),
            model=model,
            params=pop_params,
            options=pop_options,
            initial_state={
                k: _as_param(v, f"{path}.initial_state.{k}", k)
                for k, v in (initial_state or {}).items()
            },
            trainable=train,
            surrogate=surrogate,
            surrogate_params={k: float(v) for k, v in (surrogate_params or {}).items()},
            shape=tuple(int(s) for s in shape) if shape else None,
            metadata=dict(metadata or {}),
        )
        self.populations.append(pop)
        return pop

    def connect(
        self,
        pre: str | Input | Population,
        post: str | Population,
        synapse: str = "delta",
        *,
        weights: npt.ArrayLike | WeightInit | float | None = None,
        connectivity: Connectivity | ConnectivityKind = "dense",
        delay: int | npt.ArrayLike = 1,
        plasticity: Plasticity | str | None = None,
        sign: Literal["excitatory", "inhibitory"] | None = None,
        mask: npt.ArrayLike | None = None,
        trainable: bool = True,
        trainable_delays: bool = False,
        name: str | None = None,
        synapse_options: Mapping[str, str | bool | int] | None = None,
        metadata: Mapping[str, Any] | None = None,
        **synapse_params: Any,
    ) -> Projection:
        """Connect ``pre`` to ``post`` through synapse model ``synapse`` and return the projection.

        ``weights`` is an array in the connectivity's layout (see the module docs), a
        :class:`WeightInit`, a number (every synapse gets it) or ``None`` (``kaiming_uniform``
        with a seed derived from the projection's position). ``delay`` is in steps. Extra
        keyword arguments are the synapse model's parameters (``tau_syn=5e-3``).

        Raises:
            NetworkValidationError: weights or parameters that are not numbers, a delay that is
                not a whole number, a mask that is not boolean (or 0 / 1), at its place
                (``projections[1].mask``).
        """
        pre_name = pre if isinstance(pre, str) else pre.name
        post_name = post if isinstance(post, str) else post.name
        conn = Connectivity(connectivity) if isinstance(connectivity, str) else connectivity
        path = f"projections[{len(self.projections)}]"
        if name is None:
            name = unique_projection_name(pre_name, post_name, {p.name for p in self.projections})
        w: npt.NDArray[np.floating[Any]] | WeightInit
        if weights is None:
            w = WeightInit("kaiming_uniform", {"gain": 1.0}, seed=len(self.projections))
        elif isinstance(weights, WeightInit):
            w = weights
        else:
            raw_w = _numbers(weights, f"{path}.weights", "weights")
            if raw_w.ndim == 0:
                w = WeightInit("constant", {"value": float(raw_w)}, seed=0)
            else:
                w = raw_w.astype(np.float64)
        raw_delay = np.asarray(delay)
        if raw_delay.dtype.kind not in "iu" and not (
            raw_delay.dtype.kind == "f"
            and bool(np.all(np.isfinite(raw_delay) & (raw_delay == np.round(raw_delay))))
        ):
            # Converting would silently truncate (1.5 -> 1): refuse here, where it was written.
            raise NetworkValidationError(
                [
                    (
                        f"projections[{len(self.projections)}].delay",
                        f"delay is a whole number of steps, got {delay!r}",
                    )
                ]
            )
        d: int | npt.NDArray[np.int64] = (
            int(raw_delay) if raw_delay.ndim == 0 else raw_delay.astype(np.int64)
        )
        plast = Plasticity(plasticity) if isinstance(plasticity, str) else plasticity
        proj = Projection(
            name=name,
            pre=pre_name,
            post=post_name,
            synapse=synapse,
            synapse_params={
                k: _as_param(v, f"{path}.synapse_params.{k}", k) for k, v in synapse_params.items()
            },
            synapse_options=dict(synapse_options or {}),
            connectivity=conn,
            weights=w,
            delay=d,
            plasticity=plast,
            sign=sign,
            mask=None if mask is None else _mask(mask, f"{path}.mask"),
            trainable_weights=trainable,
            trainable_delays=trainable_delays,
            metadata=dict(metadata or {}),
        )
        self.projections.append(proj)
        return proj

    def probe(
        self,
        target: str | Input | Population | Projection,
        variable: str = "spikes",
        *,
        index: npt.ArrayLike | None = None,
    ) -> Probe:
        """Record ``variable`` of ``target`` (optionally only the neurons in ``index``).

        Raises:
            NetworkValidationError: ``index`` holds something other than whole numbers
                (``probes[0].index``).
        """
        tname = target if isinstance(target, str) else target.name
        idx = None if index is None else _indices(index, f"probes[{len(self.probes)}].index")
        probe = Probe(tname, variable, idx)
        self.probes.append(probe)
        return probe


def unique_projection_name(pre: str, post: str, taken: set[str]) -> str:
    """The default name of a projection: ``"pre->post"``, or ``"pre->post#2"``, ``#3``... when
    taken (the builder and the file reader name unnamed projections alike)."""
    base = name = f"{pre}->{post}"
    k = 2
    while name in taken:
        name = f"{base}#{k}"
        k += 1
    return name


def _refuse(place: str, message: str) -> NetworkValidationError:
    return NetworkValidationError([(place, message)])


def _numbers(value: Any, place: str, what: str) -> npt.NDArray[Any]:
    """``value`` as an array of real numbers, refusing ``None``, strings and other objects
    where they are written (numpy would convert some of them silently, or fail obscurely)."""
    if value is None:
        raise _refuse(place, f"{what} is None; give a number, or leave it out for the default")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise _refuse(place, f"{what} must be a number or an array of numbers: {exc}") from exc
    if arr.dtype.kind not in "iuf":
        raise _refuse(
            place,
            f"{what} must be a number or an array of numbers, got {value!r} (dtype {arr.dtype})",
        )
    return arr


def _as_param(value: Any, place: str, name: str) -> ParamValue:
    arr = _numbers(value, place, name)
    if arr.ndim == 0:
        return float(arr)
    return arr.astype(np.float64)


def _mask(value: Any, place: str) -> npt.NDArray[np.bool_]:
    arr = np.asarray(value)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind not in "iuf" or not bool(np.all((arr == 0) | (arr == 1))):
        raise _refuse(
            place,
            "mask must be boolean (or 0 / 1), got values other than 0 and 1 "
            f"(dtype {arr.dtype}); use mask=np.asarray(m) > 0.5 or a boolean array",
        )
    return arr.astype(bool)


def _indices(value: Any, place: str) -> npt.NDArray[np.int64]:
    arr = np.asarray(value)
    if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and arr.size == 0):
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr) & (arr == np.round(arr)))):
        return arr.astype(np.int64)
    raise _refuse(
        place,
        f"index holds neuron indices (whole numbers), got {value!r}; give e.g. index=[0, 3]",
    )
