"""Surrogate-gradient training with optax, as :class:`neuropil.TrainingConfig` defines it.

One optimiser step per batch: the whole batch is simulated inside one jit-compiled function
(forward ``lax.scan``, backward through the surrogate gradients), the loss of
``docs/concepts/training.md`` is differentiated with respect to the trainable parameters, optax
updates them, and each projection's sign and mask are re-applied. The learning rate is set from
:meth:`~neuropil.TrainingConfig.lr_at` at the start of every epoch (``optax.inject_hyperparams``
keeps it in the optimiser state, so a checkpoint carries it).

``tbptt = k`` cuts the gradient through the carried network state every ``k`` steps (steps
``0, k, 2k, ...`` start a window); the loss still reads every step and the optimiser still steps
once per batch.

Data parallel: with several devices (:func:`jax.devices`) and a batch that divides evenly, the
batch axis is sharded over a one-axis :class:`jax.sharding.Mesh` (``NamedSharding``, parameters
replicated); XLA partitions the step and all-reduces the gradients, which gives the unsharded
result up to the order of floating-point sums.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
import optax  # type: ignore[import-untyped]
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

import neuropil
from neuropil._network import Network
from neuropil._training import TrainingConfig
from neuropil.errors import EngineError, ExperimentError, SerializationError
from neuropil_jax._engine import JaxBackend, JaxSimulator, Params, Record, constrain, simulate

__all__ = ["build_optimizer", "load_checkpoint", "save_checkpoint", "train"]

_OPT_PREFIX = "optimizer/"
# How arrays lie on the mesh: inputs [T, B, ...] and labels [B] split along the batch,
# parameters and optimiser state whole on every device.
_TIME_BATCH = PartitionSpec(None, "batch")  # type: ignore[no-untyped-call]
_BATCH = PartitionSpec("batch")  # type: ignore[no-untyped-call]
_REPLICATED = PartitionSpec()  # type: ignore[no-untyped-call]
_Arr = npt.NDArray[Any]


def build_optimizer(config: TrainingConfig) -> optax.GradientTransformation:
    """The optax optimiser of ``config``: its optimiser and settings, ``grad_clip`` first, the
    learning rate a hyperparameter (``state.hyperparams["learning_rate"]``).

    Settings and defaults (those of ``torch.optim``): adam/adamw ``beta1`` 0.9, ``beta2`` 0.999,
    ``eps`` 1e-8, adamw ``decay`` 0.01; sgd ``momentum`` 0, ``nesterov`` 0; rmsprop ``alpha``
    0.99, ``eps`` 1e-8, ``momentum`` 0.
    """
    p = config.optimizer_params
    clip = config.grad_clip

    def factory(learning_rate: float) -> optax.GradientTransformation:
        if config.optimizer in ("adam", "adamw"):
            b1, b2, eps = p.get("beta1", 0.9), p.get("beta2", 0.999), p.get("eps", 1e-8)
            if config.optimizer == "adam":
                base = optax.adam(learning_rate, b1=b1, b2=b2, eps=eps)
            else:
                base = optax.adamw(
                    learning_rate, b1=b1, b2=b2, eps=eps, weight_decay=p.get("decay", 0.01)
                )
        elif config.optimizer == "sgd":
            momentum = p.get("momentum", 0.0)
            base = optax.sgd(
                learning_rate,
                momentum=momentum or None,
                nesterov=bool(p.get("nesterov", 0.0)),
            )
        else:
            momentum = p.get("momentum", 0.0)
            base = optax.rmsprop(
                learning_rate,
                decay=p.get("alpha", 0.99),
                eps=p.get("eps", 1e-8),
                momentum=momentum or None,
            )
        if clip is None:
            return base
        return optax.chain(optax.clip_by_global_norm(clip), base)

    return optax.inject_hyperparams(factory)(learning_rate=config.lr)


# -- losses ----------------------------------------------------------------------------------


def _logits(config: TrainingConfig, rec: jax.Array, dt: float) -> jax.Array:
    """``[B, C]`` logits from the readout's recording ``[T, B, C]``."""
    if config.loss == "ce_count":
        return jnp.sum(rec, axis=0)
    if config.loss == "ce_max_membrane":
        return jnp.max(rec, axis=0)
    if config.loss == "ce_mean_membrane":
        return jnp.mean(rec, axis=0)
    return jnp.mean(rec, axis=0) / dt


def _loss_value(
    config: TrainingConfig,
    recordings: Mapping[str, jax.Array],
    train_params: Params,
    readout_key: str,
    labels: jax.Array,
    dt: float,
) -> tuple[jax.Array, jax.Array]:
    logits = _logits(config, recordings[readout_key], dt)
    if config.loss == "mse_rate":
        onehot = jax.nn.one_hot(labels, logits.shape[1], dtype=logits.dtype)
        target = jnp.where(onehot > 0, config.rate_on, config.rate_off)
        loss = jnp.mean((logits - target) ** 2) / config.rate_on**2
    else:
        loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
    for pop, reg in config.rate_targets.items():
        rate = jnp.mean(recordings[f"{pop}.spikes"], axis=(0, 1)) / dt
        loss = loss + reg.weight * jnp.mean((rate - reg.target_hz) ** 2) / reg.target_hz**2
    if config.weight_decay:
        l2 = sum(jnp.sum(w**2) for k, w in train_params.items() if k.endswith(".weights"))
        loss = loss + config.weight_decay / 2 * l2
    return loss, logits


# -- the trainer -----------------------------------------------------------------------------


class _Trainer:
    """The jit-compiled pieces of one training run."""

    def __init__(self, sim: JaxSimulator, config: TrainingConfig, mesh: Mesh | None) -> None:
        self.sim = sim
        self.config = config
        self.mesh = mesh
        net = sim.resolved
        pops = [p.name for p in net.populations]
        problems = config.check_against(pops)
        if problems:
            raise ExperimentError("[training]: " + "; ".join(problems), section="training")
        readout = net.population(config.readout or pops[-1])
        membrane = config.loss in ("ce_max_membrane", "ce_mean_membrane")
        if membrane and "v" not in readout.model.state:
            raise ExperimentError(
                f"[training]: loss {config.loss!r} reads the membrane 'v' of the readout "
                f"{readout.name!r}, whose model {readout.model.name!r} has no 'v'; use a 'li' "
                "readout or loss = 'ce_count'",
                section="training",
            )
        if not membrane and not readout.model.spiking:
            raise ExperimentError(
                f"[training]: loss {config.loss!r} counts spikes, but the readout "
                f"{readout.name!r} ({readout.model.name!r}) does not spike; use "
                "loss = 'ce_max_membrane' or a spiking readout",
                section="training",
            )
        if not net.inputs:
            raise ExperimentError(
                "[training]: the network has no input to feed the samples to; add one",
                section="training",
            )
        names = [i.name for i in net.inputs]
        if config.input is not None and config.input not in names:
            raise ExperimentError(
                f"[training]: input {config.input!r} is not an input of the network "
                f"(inputs: {', '.join(names)})",
                section="training",
            )
        self.input = net.inputs[names.index(config.input or names[0])]
        self.readout_key = f"{readout.name}.{'v' if membrane else 'spikes'}"
        records = {
            self.readout_key: Record(self.readout_key, readout.name, "v" if membrane else "spikes")
        }
        for pop in config.rate_targets:
            records[f"{pop}.spikes"] = Record(f"{pop}.spikes", pop, "spikes")
        self.records = tuple(records.values())
        self.keys = sim.trainable
        self.optimizer = build_optimizer(config)
        self.projections = {f"{p.name}.weights": p for p in net.projections}
        self.step = jax.jit(self._step)
        self.evaluate = jax.jit(self._evaluate)

    def _forward(
        self, train: Params, fixed: Params, x: jax.Array, labels: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        inputs = self._inputs(x)
        recs, _ = simulate(
            self.sim.plan,
            self.sim.ops,
            self.sim.seed,
            {**fixed, **train},
            inputs,
            self.records,
            tbptt=self.config.tbptt,
        )
        return _loss_value(self.config, recs, train, self.readout_key, labels, self.sim.resolved.dt)

    def _inputs(self, x: jax.Array) -> dict[str, jax.Array]:
        steps, batch = x.shape[0], x.shape[1]
        out = {}
        for spec in self.sim.resolved.inputs:
            if spec.name == self.input.name:
                out[spec.name] = x.reshape(steps, batch, spec.size).astype(self.sim.ops.dtype)
            else:
                out[spec.name] = jnp.zeros((steps, batch, spec.size), self.sim.ops.dtype)
        return out

    def _step(
        self, train: Params, opt_state: Any, fixed: Params, x: jax.Array, labels: jax.Array
    ) -> tuple[Params, Any, jax.Array, jax.Array]:
        (loss, logits), grads = jax.value_and_grad(self._forward, has_aux=True)(
            train, fixed, x, labels
        )
        updates, opt_state = self.optimizer.update(grads, opt_state, train)
        train = optax.apply_updates(train, updates)
        train = {
            k: constrain(v, self.projections[k]) if k in self.projections else v
            for k, v in train.items()
        }
        correct = jnp.sum(jnp.argmax(logits, axis=1) == labels)
        return train, opt_state, loss, correct

    def _evaluate(self, train: Params, fixed: Params, x: jax.Array, labels: jax.Array) -> jax.Array:
        _, logits = self._forward(train, fixed, x, labels)
        return jnp.sum(jnp.argmax(logits, axis=1) == labels)

    def place(self, x: _Arr, labels: _Arr) -> tuple[jax.Array, jax.Array]:
        """The batch on the devices: sharded over the mesh's batch axis when it divides."""
        if self.mesh is not None and x.shape[1] % self.mesh.size == 0:
            xs = jax.device_put(x, NamedSharding(self.mesh, _TIME_BATCH))
            ls = jax.device_put(labels, NamedSharding(self.mesh, _BATCH))
            return xs, ls
        return jnp.asarray(x), jnp.asarray(labels)

    def replicate(self, tree: Any) -> Any:
        """``tree`` replicated on every device of the mesh (unchanged without one)."""
        if self.mesh is None:
            return tree
        return jax.device_put(tree, NamedSharding(self.mesh, _REPLICATED))


def _mesh(data_parallel: bool | None, batch_size: int) -> Mesh | None:
    devices = jax.devices()
    if data_parallel is False or (data_parallel is None and len(devices) < 2):
        return None
    if data_parallel and len(devices) < 2:
        raise EngineError(
            "data_parallel=True needs more than one jax device, found "
            f"{len(devices)}; on a CPU set XLA_FLAGS=--xla_force_host_platform_device_count=N "
            "before jax starts, or pass data_parallel=None"
        )
    if batch_size % len(devices):
        if data_parallel:
            raise EngineError(
                f"data_parallel=True shards each batch over {len(devices)} devices, but "
                f"batch_size {batch_size} does not divide evenly; use a multiple of "
                f"{len(devices)}"
            )
        return None
    return Mesh(np.array(devices), ("batch",))


def _progress(total: int) -> Progress:
    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]train[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (console.is_terminal and sys.stderr.isatty()),
    )


def _batches(
    samples: Sequence[tuple[Any, int]],
    config: TrainingConfig,
    epoch: int,
    steps: int,
    shuffle: bool,
) -> Iterator[tuple[_Arr, _Arr]]:
    for x, labels, _ in neuropil.iterate_batches(
        samples,
        config.batch_size,
        shuffle=shuffle,
        seed=config.seed,
        epoch=epoch,
        steps=steps,
        dtype=np.float64,
    ):
        yield x, labels


def train(
    network: Network,
    dataset: Any,
    config: TrainingConfig,
    *,
    run_dir: str | None = None,
    data_parallel: bool | None = None,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Train ``network`` on ``dataset`` as ``config`` says, with jax and optax.

    Args:
        network: The network IR (not changed: the trained values are returned).
        dataset: A :class:`~neuropil.protocols.Dataset`; samples ``[T, *shape]`` at the
            network's ``dt`` feed ``config.input`` (the first input by default).
        config: The training configuration.
        run_dir: Where ``checkpoints/epoch-<n>.safetensors`` go (none written when ``None``).
        data_parallel: Shard batches over the devices (see :class:`neuropil_jax.JaxBackend`).
        dtype: ``"float32"`` (default) or ``"float64"``.

    Returns:
        JSON-able metrics: per-epoch lists ``loss``, ``train_accuracy``, ``accuracy`` (on
        ``config.eval_split``) and ``lr``; ``final_loss``, ``final_accuracy``,
        ``final_train_accuracy``; ``epochs``, ``steps`` (optimiser steps), ``devices``,
        ``backend``; and ``parameters``: every parameter by IR name as numpy arrays.

    Raises:
        ExperimentError: the configuration does not fit the network.
        SerializationError: ``config.resume`` is not a checkpoint of this network.
    """
    sim = JaxBackend().compile(network, dtype=dtype, seed=config.seed)
    mesh = _mesh(data_parallel, config.batch_size)
    trainer = _Trainer(sim, config, mesh)
    train_split = dataset.split(config.train_split)
    eval_split = dataset.split(config.eval_split)
    steps = max(int(np.asarray(x).shape[0]) for x, _ in [*train_split, *eval_split])
    all_params = sim.device_params()
    train_p = {k: all_params.pop(k) for k in trainer.keys}
    fixed = trainer.replicate(all_params)
    opt_state = trainer.optimizer.init(train_p)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": [], "accuracy": [], "lr": []}
    start, step_count = 0, 0
    if config.resume is not None:
        train_p, opt_state, start, step_count, history = load_checkpoint(
            config.resume, sim, train_p, opt_state
        )
    train_p = trainer.replicate(train_p)
    opt_state = trainer.replicate(opt_state)
    per_epoch = -(-len(train_split) // config.batch_size)
    with _progress(per_epoch * (config.epochs - start)) as bar:
        task = bar.add_task("", total=per_epoch * (config.epochs - start))
        for epoch in range(start, config.epochs):
            lr = config.lr_at(epoch)
            opt_state.hyperparams["learning_rate"] = jnp.asarray(
                lr, dtype=opt_state.hyperparams["learning_rate"].dtype
            )
            losses, correct, seen = [], 0, 0
            for x, labels in _batches(train_split, config, epoch, steps, shuffle=True):
                xs, ls = trainer.place(x, labels)
                train_p, opt_state, loss, right = trainer.step(train_p, opt_state, fixed, xs, ls)
                step_count += 1
                losses.append(float(loss))
                correct += int(right)
                seen += len(labels)
                bar.update(
                    task,
                    advance=1,
                    description=f"epoch {epoch + 1}/{config.epochs} loss {losses[-1]:.4f}",
                )
            right_eval, total_eval = 0, 0
            for x, labels in _batches(eval_split, config, epoch, steps, shuffle=False):
                xs, ls = trainer.place(x, labels)
                right_eval += int(trainer.evaluate(train_p, fixed, xs, ls))
                total_eval += len(labels)
            history["loss"].append(float(np.mean(losses)))
            history["train_accuracy"].append(correct / max(seen, 1))
            history["accuracy"].append(right_eval / max(total_eval, 1))
            history["lr"].append(lr)
            done = epoch + 1
            every = config.checkpoint_every
            if run_dir is not None and (done == config.epochs or (every and done % every == 0)):
                save_checkpoint(
                    neuropil.checkpoint_path(run_dir, done),
                    sim,
                    train_p,
                    opt_state,
                    config,
                    epoch=done,
                    step=step_count,
                    history=history,
                )
    sim.set_parameters({k: np.asarray(v, dtype=np.float64) for k, v in train_p.items()})
    return {
        **history,
        "final_loss": history["loss"][-1] if history["loss"] else None,
        "final_accuracy": history["accuracy"][-1] if history["accuracy"] else None,
        "final_train_accuracy": (
            history["train_accuracy"][-1] if history["train_accuracy"] else None
        ),
        "epochs": config.epochs,
        "steps": step_count,
        "devices": 1 if mesh is None else int(mesh.size),
        "backend": "jax",
        "parameters": sim.get_parameters(),
    }


# -- checkpoints -----------------------------------------------------------------------------


def _flat_state(opt_state: Any) -> dict[str, Any]:
    leaves, _ = jax.tree_util.tree_flatten_with_path(opt_state)
    return {_OPT_PREFIX + jax.tree_util.keystr(path): leaf for path, leaf in leaves}


def save_checkpoint(
    path: str | os.PathLike[str],
    sim: JaxSimulator,
    train_params: Params,
    opt_state: Any,
    config: TrainingConfig,
    *,
    epoch: int,
    step: int,
    history: Mapping[str, list[float]],
) -> Path:
    """Write a training checkpoint atomically (safetensors; temp file, then ``os.replace``).

    Holds every parameter by IR name (trained values from ``train_params``, the rest from
    ``sim``), the optax state flattened under ``optimizer/<path>`` (its pytree path, e.g.
    ``optimizer/.inner_state[0].mu['in->hidden.weights']``), and the metadata of
    :func:`neuropil.checkpoint_metadata` plus ``history`` (the per-epoch metrics so far, JSON).
    """
    from safetensors.numpy import save_file

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tensors = sim.get_parameters()
    tensors.update({k: np.asarray(v, dtype=np.float64) for k, v in train_params.items()})
    tensors.update({k: np.asarray(v) for k, v in _flat_state(opt_state).items()})
    # np.array copies C-contiguously and keeps 0-d arrays 0-d (ascontiguousarray would not).
    tensors = {k: np.array(v) for k, v in tensors.items()}
    meta = neuropil.checkpoint_metadata(
        config, epoch=epoch, step=step, seed=config.seed, backend="jax"
    )
    meta["history"] = json.dumps(dict(history))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def load_checkpoint(
    path: str | os.PathLike[str], sim: JaxSimulator, train_params: Params, opt_state: Any
) -> tuple[Params, Any, int, int, dict[str, list[float]]]:
    """Read a checkpoint written by :func:`save_checkpoint` for ``sim``'s network.

    Args:
        train_params / opt_state: Fresh values whose structure the checkpoint fills.

    Returns:
        ``(train_params, opt_state, epochs_done, steps_done, history)``; ``sim``'s other
        parameters are set from the file too.

    Raises:
        SerializationError: not a checkpoint, or one of another network or optimiser.
    """
    from safetensors.numpy import load_file

    meta = neuropil.read_checkpoint_metadata(path)
    tensors = load_file(os.fspath(path))
    where = os.fspath(path)
    current = sim.get_parameters()
    missing = sorted(k for k in current if k not in tensors)
    if missing:
        raise SerializationError(
            f"{where}: a checkpoint of another network (no {missing[0]!r}); resume from a "
            "checkpoint of this network",
            path=where,
        )
    dtype = sim.ops.dtype
    sim.set_parameters(
        {k: tensors[k] for k in current if not k.endswith(".delay") and k not in train_params}
    )
    new_train = {k: jnp.asarray(tensors[k], dtype=dtype) for k in train_params}
    flat = _flat_state(opt_state)
    absent = sorted(k for k in flat if k not in tensors)
    if absent:
        raise SerializationError(
            f"{where}: its optimiser state lacks {absent[0]!r}; resume with the optimiser and "
            "grad_clip it was trained with",
            path=where,
        )
    leaves, treedef = jax.tree_util.tree_flatten(opt_state)
    restored = [
        jnp.asarray(tensors[k], dtype=jnp.asarray(leaf).dtype)
        for k, leaf in zip(flat, leaves, strict=True)
    ]
    state = jax.tree_util.tree_unflatten(treedef, restored)
    try:
        history = {k: list(v) for k, v in json.loads(meta.get("history", "{}")).items()}
    except json.JSONDecodeError:
        history = {}
    for key in ("loss", "train_accuracy", "accuracy", "lr"):
        history.setdefault(key, [])
    return new_train, state, int(meta["epoch"]), int(meta["step"]), history
