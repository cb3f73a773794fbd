"""Backend ``torch``: compile, simulate, differentiate, exchange parameters, train."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

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
        projections = {p.name: p for p in self.resolved.projections}
        checked: list[tuple[str, _Arr]] = []
        for key, value in values.items():
            if key not in current:
                close = difflib.get_close_matches(key, list(current), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise EngineError(f"no parameter named {key!r}{hint}")
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise EngineError(f"parameter {key!r} must be numbers: {exc}") from exc
            if not np.all(np.isfinite(arr)):
                raise EngineError(f"parameter {key!r} contains NaN or infinite values")
            target, _, name = key.rpartition(".")
            proj = projections.get(target)
            if proj is not None and name == "delay":
                raise EngineError(
                    f"delays are fixed at compile time ({key!r}); change them in the "
                    "network and compile again"
                )
            if proj is not None and name == "weights":
                _check_weights(key, arr, current[key].shape, proj.sign)
                if proj.mask is not None:
                    arr = np.where(proj.mask, arr, 0.0)
            else:
                if proj is not None:
                    size, schema = proj.post_size, proj.synapse.params
                else:
                    pop = self.resolved.population(target)
                    size, schema = pop.size, pop.model.params
                if arr.shape not in ((), (size,)):
                    raise EngineError(
                        f"parameter {key!r} takes a scalar or {size} values (one per neuron), "
                        f"got shape {arr.shape}"
                    )
                spec = schema[name]
                bad = [float(v) for v in arr.reshape(-1) if not spec.contains(float(v))]
                if bad:
                    raise EngineError(
                        f"parameter {key!r} must lie in {spec.bounds_text()}, got {bad[0]:g}"
                    )
            checked.append((key, arr))
        with torch.no_grad():
            for key, arr in checked:
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
        known = {i.name: i for i in self.resolved.inputs}
        arrays: dict[str, torch.Tensor] = {}
        batch: int | None = None
        length: int | None = None
        for name, value in inputs.items():
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise EngineError(
                    f"no input named {name!r}{hint} (inputs: {', '.join(sorted(known)) or 'none'})"
                )
            t = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
            if t.dtype == torch.bool:
                t = t.to(torch.uint8)
            if not (t.is_floating_point() or t.dtype in _INT_DTYPES):
                raise EngineError(
                    f"input {name!r} must hold numbers (bool, int or float), got dtype {t.dtype}"
                )
            spec = known[name]
            if t.dim() < 2 or int(np.prod(tuple(t.shape[2:]), dtype=np.int64)) != spec.size:
                raise EngineError(
                    f"input {name!r} must be [T, B, {', '.join(map(str, spec.shape))}] "
                    f"(time, batch, then {spec.size} channels), got shape {tuple(t.shape)}"
                )
            # one reduction first: a sum is finite when every value is (bar overflow)
            if (
                t.is_floating_point()
                and not bool(torch.isfinite(t.sum()))
                and not bool(torch.isfinite(t).all())
            ):
                raise EngineError(f"input {name!r} contains NaN or infinite values")
            if batch is not None and t.shape[1] != batch:
                raise EngineError(
                    f"inputs disagree on the batch size: {name!r} has {t.shape[1]}, "
                    f"others have {batch}"
                )
            if length is not None and t.shape[0] != length:
                first = next(iter(arrays))
                raise EngineError(
                    f"inputs disagree on the number of steps: {name!r} has {t.shape[0]}, "
                    f"{first!r} has {length}; give every input the same T"
                )
            batch, length = int(t.shape[1]), int(t.shape[0])
            arrays[name] = t.reshape(length, batch, spec.size).to(
                device=self.module.device, dtype=self.module.dtype
            )
        if steps is None:
            if length is None:
                raise EngineError(
                    "no input given, so the number of steps is unknown: pass the network's "
                    "inputs, or give steps=T to run with every input at zero"
                )
            steps = length
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
            raise EngineError(f"steps must be a whole number >= 0, got {steps!r}")
        for name, arr in arrays.items():
            if arr.shape[0] < steps:
                raise EngineError(
                    f"input {name!r} has {arr.shape[0]} steps but the run asks for {steps}"
                )
        return arrays, int(steps), int(batch if batch is not None else 1)

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


def _check_weights(key: str, w: _Arr, shape: tuple[int, ...], sign: str | None) -> None:
    if w.shape != shape:
        raise EngineError(f"parameter {key!r} has shape {shape}, got {w.shape}")
    wrong = (
        int(np.count_nonzero(w < 0))
        if sign == "excitatory"
        else (int(np.count_nonzero(w > 0)) if sign == "inhibitory" else 0)
    )
    if wrong:
        side = ">= 0" if sign == "excitatory" else "<= 0"
        raise EngineError(
            f"parameter {key!r}: the projection is {sign}, so its weights must be {side}; "
            f"{wrong} are not (clip them, or drop the projection's sign constraint)"
        )
