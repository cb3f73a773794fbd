"""Surrogate-gradient training (BPTT) of a network, as ``docs/concepts/training.md`` defines it.

Losses, metrics, regularisers, schedules and the checkpoint format are the core's
(:class:`neuropil.TrainingConfig`); this module implements them with torch. When
``torch.distributed`` is initialised (``torchrun``), every global batch is split into
contiguous shards, one per rank, and the gradients are summed across ranks so that each
optimiser step is the one a single process takes on the whole batch.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch.nn import functional

import neuropil
from neuropil._network import Network
from neuropil._training import TrainingConfig
from neuropil.errors import ExperimentError, SerializationError
from neuropil.protocols import Dataset
from neuropil_torch._backend import OptimizerFactory, TorchBackend, TorchSimulator

__all__ = ["train"]

_Tensor = torch.Tensor


def _world() -> tuple[int, int]:
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _optimizer(config: TrainingConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    o = config.optimizer_params
    betas = (o.get("beta1", 0.9), o.get("beta2", 0.999))
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=betas, eps=o.get("eps", 1e-8))
    if config.optimizer == "adamw":
        return torch.optim.AdamW(
            params,
            lr=config.lr,
            betas=betas,
            eps=o.get("eps", 1e-8),
            weight_decay=o.get("decay", 0.01),
        )
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=o.get("momentum", 0.0),
            nesterov=bool(o.get("nesterov", 0.0)),
        )
    return torch.optim.RMSprop(
        params,
        lr=config.lr,
        alpha=o.get("alpha", 0.99),
        eps=o.get("eps", 1e-8),
        momentum=o.get("momentum", 0.0),
    )


class _Task:
    """What the loss reads: the readout's recording key, the rate-regularised populations."""

    def __init__(self, network: Network, config: TrainingConfig) -> None:
        problems = config.check_against([p.name for p in network.populations])
        if problems:
            raise ExperimentError("[training]: " + "; ".join(problems), section="training")
        if not network.populations:
            raise ExperimentError("[training]: the network has no population to read out")
        if not network.inputs:
            raise ExperimentError("[training]: the network has no input to feed the data to")
        self.readout = config.readout or network.populations[-1].name
        self.input = config.input or network.inputs[0].name
        if self.input not in {i.name for i in network.inputs}:
            raise ExperimentError(
                f"[training]: input {self.input!r} is not an input of the network (inputs: "
                f"{', '.join(i.name for i in network.inputs)})",
                section="training",
            )
        model = neuropil.get_registry().neuron(network.population_by_name(self.readout).model)
        if config.loss in ("ce_count", "mse_rate"):
            if not model.spiking:
                raise ExperimentError(
                    f"[training]: loss {config.loss!r} counts the spikes of the readout "
                    f"{self.readout!r}, whose model {model.name!r} does not spike; use "
                    "ce_max_membrane or ce_mean_membrane",
                    section="training",
                )
            self.variable = "spikes"
        else:
            if "v" not in model.state:
                raise ExperimentError(
                    f"[training]: loss {config.loss!r} reads the membrane v of the readout "
                    f"{self.readout!r}, whose model {model.name!r} has none",
                    section="training",
                )
            self.variable = "v"
        self.key = f"{self.readout}.{self.variable}"
        self.network = copy.deepcopy(network)
        wanted = [(self.readout, self.variable)] + [(p, "spikes") for p in config.rate_targets]
        for target, var in wanted:
            if not any(
                p.target == target and p.variable == var and p.index is None
                for p in self.network.probes
            ):
                self.network.probe(target, var)

    def logits(self, config: TrainingConfig, rec: Mapping[str, _Tensor], dt: float) -> _Tensor:
        out = rec[self.key]
        if config.loss == "ce_count":
            return out.sum(0)
        if config.loss == "ce_max_membrane":
            return out.max(0).values
        if config.loss == "ce_mean_membrane":
            return out.mean(0)
        return out.mean(0) / dt

    def loss(self, config: TrainingConfig, logits: _Tensor, labels: _Tensor) -> _Tensor:
        """The data loss, summed over the batch (the caller divides by the global batch)."""
        if config.loss != "mse_rate":
            return functional.cross_entropy(logits, labels, reduction="sum")
        hot = functional.one_hot(labels, logits.shape[1]).to(logits.dtype)
        target = hot * config.rate_on + (1 - hot) * config.rate_off
        per_sample = ((logits - target) ** 2).mean(1) / config.rate_on**2
        return per_sample.sum()


def _to_batch(x: npt.NDArray[Any], size: int, sim: TorchSimulator) -> _Tensor:
    t = torch.as_tensor(x.reshape(x.shape[0], x.shape[1], size))
    return t.to(device=sim.module.device, dtype=sim.module.dtype)


def _atomic_save(
    tensors: dict[str, npt.NDArray[Any]], metadata: dict[str, str], path: Path
) -> None:
    from safetensors.numpy import save

    data = save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, npt.NDArray[Any]]:
    out: dict[str, npt.NDArray[Any]] = {}
    for index, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            arr = torch.as_tensor(value).detach().cpu().numpy()
            out[f"optimizer/{index}/{name}"] = np.ascontiguousarray(arr)
    return out


def _load_optimizer(opt: torch.optim.Optimizer, tensors: Mapping[str, npt.NDArray[Any]]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, _Tensor]] = {}
    for key, arr in tensors.items():
        if not key.startswith("optimizer/"):
            continue
        _, index, name = key.split("/", 2)
        state.setdefault(int(index), {})[name] = torch.as_tensor(np.array(arr))
    sd["state"] = state
    opt.load_state_dict(sd)


def _accuracy(
    sim: TorchSimulator, task: _Task, config: TrainingConfig, samples: Any, size: int
) -> float:
    if len(samples) == 0:
        return float("nan")
    right = 0
    with torch.no_grad():
        for x, labels, _ in neuropil.iterate_batches(samples, config.batch_size, shuffle=False):
            rec, _ = sim.run_tensors({task.input: _to_batch(x, size, sim)})
            logits = task.logits(config, rec, sim.resolved.dt)
            right += int((logits.argmax(1).cpu() == torch.as_tensor(labels)).sum())
    return right / len(samples)


def train(
    network: Network,
    dataset: Dataset,
    config: TrainingConfig,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    dtype: str = "float32",
    device: str | None = None,
    progress: bool | None = None,
    optimizer: OptimizerFactory | None = None,
) -> dict[str, Any]:
    """Train ``network`` on ``dataset`` with surrogate-gradient BPTT, as ``config`` says.

    Args:
        network: The network; what it marks trainable is trained.
        dataset: Samples ``[T, *shape]`` at the network's ``dt``, fed to ``config.input``.
        config: The ``[training]`` table, parsed.
        run_dir: Where checkpoints go (``<run_dir>/checkpoints/epoch-<n>.safetensors``);
            ``None``: none are written.
        dtype / device: As for :meth:`TorchBackend.compile`.
        progress: Show a progress bar; ``None``: only when the console is a terminal (and on
            rank 0).
        optimizer: Any torch optimiser instead of ``config.optimizer``: a callable taking the
            list of trainable parameters and returning a ``torch.optim.Optimizer`` (e.g.
            ``lambda ps: torch.optim.Adagrad(ps, lr=0.05)``). The schedule still sets its
            learning rate each epoch (``config.lr_at``), and its state is checkpointed and
            resumed like the built-in ones.

    Returns:
        JSON-able metrics: ``loss``, ``accuracy`` (on ``eval_split``), ``train_accuracy`` and
        ``lr``, one value per epoch; ``final_loss``, ``final_accuracy``,
        ``final_train_accuracy``, ``epochs``, ``steps``, ``checkpoint`` (the last one written,
        or ``None``); and ``parameters``: every parameter by IR name as numpy arrays.

    Raises:
        ExperimentError: the configuration does not fit the network (readout, loss, input).
        SerializationError: ``config.resume`` is not a neuropil checkpoint.
    """
    rank, world = _world()
    task = _Task(network, config)
    sim = TorchBackend().compile(task.network, dtype=dtype, device=device, seed=config.seed)
    module = sim.module
    module.tbptt = config.tbptt
    size = next(i.size for i in sim.resolved.inputs if i.name == task.input)
    named = [(k, p) for k, p in module.named_ir_parameters() if p.requires_grad]
    params = [p for _, p in named]
    if not params:
        raise ExperimentError(
            "[training]: nothing in the network is trainable; mark weights or neuron "
            "parameters trainable",
            section="training",
        )
    opt = _optimizer(config, params) if optimizer is None else optimizer(params)
    if not isinstance(opt, torch.optim.Optimizer):
        raise ExperimentError(
            f"optimizer= must return a torch.optim.Optimizer, got {type(opt).__name__}; pass "
            "a factory such as lambda params: torch.optim.SGD(params, lr=0.1)",
            section="training",
        )
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "train_accuracy": [], "lr": []}
    start, step = 0, 0
    if config.resume is not None:
        from safetensors.numpy import load_file

        meta = neuropil.read_checkpoint_metadata(config.resume)
        tensors = load_file(str(config.resume))
        # safetensors keeps no 0-d arrays: scalars come back as [1]
        shapes = {k: np.shape(v) for k, v in sim.get_parameters().items()}
        sim.set_parameters(
            {
                k: v.reshape(shapes[k]) if k in shapes and v.size == np.prod(shapes[k]) else v
                for k, v in tensors.items()
                if not k.startswith("optimizer/") and not k.endswith(".delay")
            }
        )
        saved_kind = meta.get("torch_optimizer", type(opt).__name__)
        if saved_kind != type(opt).__name__:
            raise SerializationError(
                f"{config.resume}: a checkpoint of a {saved_kind} run, resumed with "
                f"{type(opt).__name__}; resume with the optimiser it was trained with",
                path=str(config.resume),
            )
        _load_optimizer(opt, tensors)
        start, step = int(meta["epoch"]), int(meta["step"])
        if "history" in meta:
            history = {k: list(v) for k, v in json.loads(meta["history"]).items()}
    train_samples = dataset.split(config.train_split)
    eval_samples = dataset.split(config.eval_split)
    weights = [p for k, p in named if k.endswith(".weights")]
    projections = {p.name: p for p in sim.resolved.projections}
    dt = sim.resolved.dt
    show = progress if progress is not None else Console().is_terminal
    checkpoint: str | None = None
    n_batches = -(-len(train_samples) // config.batch_size)
    with Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} batches  loss {task.fields[loss]}"),
        TimeRemainingColumn(),
        disable=not show or rank != 0,
    ) as bar:
        bar_task = bar.add_task("train", total=n_batches, epoch=start + 1, loss="-")
        for epoch in range(start, config.epochs):
            lr = config.lr_at(epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            bar.reset(bar_task, total=n_batches, epoch=epoch + 1, loss="-")
            total_loss, right, seen = 0.0, 0, 0
            for x, labels_np, _ in neuropil.iterate_batches(
                train_samples, config.batch_size, shuffle=True, seed=config.seed, epoch=epoch
            ):
                global_b = x.shape[1]
                lo, hi = (global_b * rank) // world, (global_b * (rank + 1)) // world
                labels = torch.as_tensor(labels_np[lo:hi], device=module.device)
                opt.zero_grad(set_to_none=False)
                with torch.enable_grad():
                    rec, _ = sim.run_tensors({task.input: _to_batch(x[:, lo:hi], size, sim)})
                    logits = task.logits(config, rec, dt)
                    loss = task.loss(config, logits, labels) / global_b
                    loss = loss + _regularisers(config, rec, weights, dt, world, loss)
                    loss.backward()
                if world > 1:
                    for p in params:
                        if p.grad is not None:
                            torch.distributed.all_reduce(p.grad)
                    summed = torch.tensor(
                        [float(loss.detach()), float((logits.argmax(1) == labels).sum())],
                        dtype=torch.float64,
                    )
                    torch.distributed.all_reduce(summed)
                    batch_loss, batch_right = float(summed[0]), int(summed[1])
                else:
                    batch_loss = float(loss.detach())
                    batch_right = int((logits.argmax(1) == labels).sum())
                if config.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                opt.step()
                _constrain(module, projections)
                step += 1
                total_loss += batch_loss * global_b
                right += batch_right
                seen += global_b
                bar.update(bar_task, advance=1, loss=f"{batch_loss:.4f}")
            history["loss"].append(total_loss / max(seen, 1))
            history["train_accuracy"].append(right / max(seen, 1))
            history["accuracy"].append(_accuracy(sim, task, config, eval_samples, size))
            history["lr"].append(lr)
            done = epoch + 1
            due = config.checkpoint_every and done % config.checkpoint_every == 0
            if run_dir is not None and rank == 0 and (due or done == config.epochs):
                path = neuropil.checkpoint_path(run_dir, done)
                meta = neuropil.checkpoint_metadata(
                    config, epoch=done, step=step, seed=config.seed, backend="torch"
                )
                meta["history"] = json.dumps(history)
                meta["torch_optimizer"] = type(opt).__name__
                tensors = {k: np.ascontiguousarray(v) for k, v in sim.get_parameters().items()}
                tensors.update(_optimizer_tensors(opt))
                _atomic_save(tensors, meta, path)
                # Relative to the run folder: the runner builds it under a temporary name.
                checkpoint = path.relative_to(run_dir).as_posix()
    final = {f"final_{k}": (v[-1] if v else None) for k, v in history.items() if k != "lr"}
    return {
        **history,
        **final,
        "epochs": config.epochs,
        "steps": step,
        "checkpoint": checkpoint,
        "parameters": sim.get_parameters(),
    }


def _regularisers(
    config: TrainingConfig,
    rec: Mapping[str, _Tensor],
    weights: list[torch.nn.Parameter],
    dt: float,
    world: int,
    like: _Tensor,
) -> _Tensor:
    """Rate targets and L2 weight decay; divided by ``world`` because every rank adds them and
    the gradients are summed (the rate itself is summed across ranks, differentiably)."""
    total = torch.zeros_like(like)
    for pop, target in config.rate_targets.items():
        spikes = rec[f"{pop}.spikes"]  # [T, B, N]
        counts = torch.stack(
            (spikes.sum((0, 1)), torch.full_like(spikes[0, 0], spikes.shape[0] * spikes.shape[1]))
        )
        if world > 1:
            from torch.distributed.nn.functional import all_reduce

            counts = all_reduce(counts)  # type: ignore[no-untyped-call]
        rate = counts[0] / counts[1] / dt
        total = (
            total
            + target.weight * ((rate - target.target_hz) ** 2).mean() / target.target_hz**2 / world
        )
    if config.weight_decay:
        squares = sum((w**2).sum() for w in weights)
        total = total + config.weight_decay / 2 * squares / world
    return total


def _constrain(module: Any, projections: Mapping[str, Any]) -> None:
    """Weights back on their side of zero, masked synapses at zero, after an optimiser step."""
    with torch.no_grad():
        for name, proj in projections.items():
            w = module.parameter(f"{name}.weights")
            if proj.sign == "excitatory":
                w.clamp_(min=0)
            elif proj.sign == "inhibitory":
                w.clamp_(max=0)
            if proj.mask is not None:
                w.mul_(torch.as_tensor(proj.mask, device=w.device, dtype=w.dtype))
