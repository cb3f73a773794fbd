"""Backend ``torch``: compile, simulate, differentiate, exchange parameters, train."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

import neuropil
from neuropil._network import Network
from neuropil._ops import Array, Ops
from neuropil._resolve import resolve
from neuropil._training import TrainingConfig
from neuropil.errors import EngineError
from neuropil.protocols import Dataset, SimulationResult
from neuropil_torch._module import TorchNetwork

#: Builds an optimiser from the list of trainable parameters (``train(optimizer=...)``).
OptimizerFactory = Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer]

__all__ = ["TorchBackend", "TorchSimulator"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_Arr = npt.NDArray[Any]
#: ``loss_fn(ops, recordings) -> scalar tensor``.
LossFn = Callable[[Ops, Mapping[str, Array]], Array]


class TorchBackend:
    """Backend ``torch``: compiles a network into a :class:`TorchSimulator`.

    Example::

        sim = TorchBackend().compile(net, dtype="float32", device="cuda")
        result = sim.run({"in": spikes})            # spikes: [T, B, 700]
        result["out.v"]                             # [T, B, 20] numpy
    """

    name = "torch"

    def compile(
        self,
        network: Network,
        *,
        dtype: str = "float32",
        device: str | None = None,
        seed: int = 0,
        fast: bool = True,
    ) -> TorchSimulator:
        """Validate and resolve ``network`` and build its ``nn.Module``.

        Args:
            network: The network IR.
            dtype: ``"float32"`` or ``"float64"``.
            device: A torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``); ``None``: the CPU.
            seed: Seed of the random keys passed to stochastic models.
            fast: Run feed-forward ``lif`` / ``cuba_lif`` / ``alif`` / ``li`` layers fused
                (chosen automatically where it applies); ``False`` forces the portable path.

        Raises:
            NetworkValidationError: the network is invalid.
            EngineError: an unsupported dtype, or a device torch does not have.
        """
        if dtype not in _DTYPES:
            raise EngineError(
                f"the torch backend supports dtype 'float32' or 'float64', got {dtype!r}"
            )
        try:
            dev = torch.device(device or "cpu")
        except (RuntimeError, TypeError) as exc:
            raise EngineError(
                f"the torch backend cannot use device {device!r}: {exc}; pass 'cpu' or 'cuda'"
            ) from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise EngineError(
                f"device {device!r} asked for, but torch sees no CUDA device; pass device='cpu'"
            )
        module = TorchNetwork(resolve(network), _DTYPES[dtype], dev, int(seed), fast=fast)
        return TorchSimulator(module)

    def train(
        self,
        network: Network,
        dataset: Dataset,
        config: TrainingConfig,
        *,
        run_dir: str | None = None,
        dtype: str = "float32",
        device: str | None = None,
        progress: bool | None = None,
        optimizer: OptimizerFactory | None = None,
    ) -> dict[str, Any]:
        """Train ``network`` on ``dataset`` as ``config`` says (docs/concepts/training.md).

        See :func:`neuropil_torch.train` for the arguments and what is returned.
        """
        from neuropil_torch._training import train

        return train(
            network,
            dataset,
            config,
            run_dir=run_dir,
            dtype=dtype,
            device=device,
            progress=progress,
            optimizer=optimizer,
        )


class TorchSimulator:
    """A network compiled for torch.

    Attributes:
        network: The network it was compiled from.
        module: The :class:`~neuropil_torch.TorchNetwork` (an ``nn.Module``) that runs it.
        ops: The :class:`~neuropil_torch.TorchOps` of its dtype and device.
    """

    def __init__(self, module: TorchNetwork) -> None:
        self.module = module
        self.resolved = module.resolved
        self.network = module.resolved.network
        self.ops = module.ops

    @property
    def fast_layers(self) -> list[str]:
        """The populations that run on the fused fast path."""
        return [g.pops[0] for g in self.module.groups if g.fast]

    # -- parameters -----------------------------------------------------------------------

    def get_parameters(self) -> dict[str, _Arr]:
        """Every parameter by IR name as float64 numpy arrays (delays int64).

        Keys: ``"<population>.<param>"``, ``"<projection>.weights"``, ``"<projection>.delay"``,
        ``"<projection>.<synapse param>"``. Weights include what plasticity learned.
        """
        out: dict[str, _Arr] = {}
        for key, p in self.module.named_ir_parameters():
            out[key] = p.detach().cpu().numpy().astype(np.float64)
            if key.endswith(".weights"):
                proj = key.removesuffix(".weights")
                out[f"{proj}.delay"] = self.module.delay(proj).cpu().numpy().copy()
        return out

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        """Replace parameters by IR name (see :meth:`get_parameters`), all or none.

        Weights keep their layout's shape and their projection's sign; a neuron or synapse
        parameter is a scalar or one value per neuron, within its schema's bounds.

        Raises:
            EngineError: an unknown name, a wrong shape, a value out of bounds or on the wrong
                side of zero, or a delay (delays are fixed at compile time).
        """
        current = self.get_parameters()
        checked = neuropil.check_parameter_values(
            self.resolved, {k: v.shape for k, v in current.items()}, values
        )
        projections = {p.name: p for p in self.resolved.projections}
        for key, arr in checked.items():
            proj = projections.get(key.removesuffix(".weights"))
            if key.endswith(".weights") and proj is not None and proj.mask is not None:
                checked[key] = np.where(proj.mask, arr, 0.0)
        with torch.no_grad():
            for key, arr in checked.items():
                p = self.module.parameter(key)
                new = torch.as_tensor(arr, device=p.device).to(p.dtype)
                if new.shape == p.shape:
                    p.copy_(new)
                else:
                    self.module.params[key.replace(".", ":")] = torch.nn.Parameter(
                        new, requires_grad=p.requires_grad
                    )

    # -- simulation -----------------------------------------------------------------------

    def _inputs(
        self, inputs: Mapping[str, npt.ArrayLike | torch.Tensor], steps: int | None
    ) -> tuple[dict[str, torch.Tensor], int, int]:
        tensors: dict[str, torch.Tensor] = {}
        for name, value in inputs.items():
            t = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
            tensors[name] = t.to(torch.uint8) if t.dtype == torch.bool else t
        steps, batch = neuropil.check_input_layout(
            self.resolved,
            {name: (tuple(t.shape), _kind(t)) for name, t in tensors.items()},
            steps,
        )
        sizes = {i.name: i.size for i in self.resolved.inputs}
        arrays: dict[str, torch.Tensor] = {}
        for name, t in tensors.items():
            # one reduction first: a sum is finite when every value is (bar overflow)
            if (
                t.is_floating_point()
                and not bool(torch.isfinite(t.sum()))
                and not bool(torch.isfinite(t).all())
            ):
                raise EngineError(f"input {name!r} contains NaN or infinite values")
            arrays[name] = t.reshape(t.shape[0], t.shape[1], sizes[name]).to(
                device=self.module.device, dtype=self.module.dtype
            )
        return arrays, steps, batch

    def run(
        self,
        inputs: Mapping[str, npt.ArrayLike | torch.Tensor],
        *,
        steps: int | None = None,
    ) -> SimulationResult:
        """Simulate from the initial state (no gradient recorded).

        Args:
            inputs: Input name to ``[T, B, *shape]`` values (numpy arrays or tensors); missing
                inputs are zero.
            steps: Steps to simulate (default: ``T`` of the inputs).

        Returns:
            Recordings ``[T, B, n]`` (``weights`` probes ``[T, n_synapses]``) and the final
            state, as numpy arrays of the simulator's dtype.
        """
        arrays, steps, batch = self._inputs(inputs, steps)
        with torch.no_grad():
            recordings, final = self.module(arrays, steps, batch)
        return SimulationResult(
            recordings={k: v.detach().cpu().numpy() for k, v in recordings.items()},
            dt=self.resolved.dt,
            steps=steps,
            final_state={k: v.detach().cpu().numpy() for k, v in final.items()},
        )

    def run_tensors(
        self,
        inputs: Mapping[str, npt.ArrayLike | torch.Tensor],
        *,
        steps: int | None = None,
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Simulate and return the recordings and final state as tensors, differentiable
        where autograd is enabled (the training loop's entry point)."""
        arrays, steps, batch = self._inputs(inputs, steps)
        result: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] = self.module(
            arrays, steps, batch
        )
        return result

    def loss_and_grad(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        loss_fn: LossFn,
        *,
        steps: int | None = None,
    ) -> tuple[float, dict[str, _Arr]]:
        """Simulate, apply ``loss_fn(ops, recordings)`` and differentiate it by BPTT.

        Returns:
            ``(loss, gradients)``: the gradient of every trainable parameter by IR name,
            float64 numpy arrays shaped like :meth:`get_parameters`' values.
        """
        trainable = [(k, p) for k, p in self.module.named_ir_parameters() if p.requires_grad]
        for _, p in trainable:
            p.grad = None
        with torch.enable_grad():
            recordings, _ = self.run_tensors(inputs, steps=steps)
            loss = self.ops.asarray(loss_fn(self.ops, recordings))
            if loss.requires_grad:
                loss.backward()
        grads = {
            k: (
                p.grad.detach().cpu().numpy().astype(np.float64)
                if p.grad is not None
                else np.zeros(tuple(p.shape))
            )
            for k, p in trainable
        }
        for _, p in trainable:
            p.grad = None
        return float(loss.detach().cpu()), grads


_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _kind(t: torch.Tensor) -> str:
    """numpy's dtype kind of a tensor: ``"f"``, ``"u"``, ``"i"``, or ``"O"`` for anything else
    (complex, quantised), which the input check refuses."""
    if t.is_floating_point():
        return "f"
    if t.dtype == torch.uint8:
        return "u"
    return "i" if t.dtype in _INT_DTYPES else "O"
