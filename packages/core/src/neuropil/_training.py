"""The ``[training]`` table of an experiment: one schema for every training backend.

Backends that train (``torch``, ``jax``) receive a :class:`TrainingConfig`, never the raw table,
so the same experiment file means the same training on each of them, and ``neuropil check``
catches a mistake in it before any backend is imported. The exact definition of every loss,
metric and regulariser is here and in ``docs/concepts/training.md``; a backend implements them
to the letter.

Losses (``logits`` are ``[B, C]``, ``C`` the readout population's size, ``labels`` ``[B]``):

* ``ce_count``: ``logits = sum_t spikes[t]`` of the readout; mean cross-entropy.
* ``ce_max_membrane``: ``logits = max_t v[t]`` of the readout (a ``li`` population); mean
  cross-entropy.
* ``ce_mean_membrane``: ``logits = mean_t v[t]`` of the readout; mean cross-entropy.
* ``mse_rate``: ``rate = mean_t spikes[t] / dt`` (Hz); target ``rate_on`` for the label's
  neuron and ``rate_off`` for the others; mean over ``B`` and ``C`` of the squared error,
  divided by ``rate_on ** 2`` so that it is dimensionless.

Accuracy is ``mean(argmax(logits) == labels)`` (``logits = rate`` for ``mse_rate``).

Regularisers, added to the loss:

* ``rate_targets``: for each named population, ``weight * mean_n (rate_n - target_hz) ** 2 /
  target_hz ** 2`` with ``rate_n`` neuron ``n``'s rate over the batch and the steps, in Hz.
* ``weight_decay``: ``weight_decay / 2 * sum of squared trainable weights`` (L2 on the loss, as
  in SGD's classic form; use ``optimizer = "adamw"`` for decoupled decay instead).

Checkpoints (written by backends, atomically): ``<run>/checkpoints/epoch-<n>.safetensors``
holding every parameter under its IR name (as :meth:`~neuropil.protocols.Simulator.
get_parameters`), the optimiser state under ``optimizer/<backend key>``, and in the metadata
``{"epoch", "step", "seed", "neuropil", "config"}`` (``config`` is :meth:`TrainingConfig.to_dict`
as JSON). Resuming from a checkpoint gives the same result as an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil._suggest import did_you_mean
from neuropil.errors import ExperimentError, SerializationError

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "RateTarget",
    "TrainingConfig",
    "checkpoint_metadata",
    "checkpoint_path",
    "parse_training",
    "read_checkpoint_metadata",
]

LOSSES: tuple[str, ...] = ("ce_count", "ce_max_membrane", "ce_mean_membrane", "mse_rate")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES: tuple[str, ...] = ("constant", "cosine", "step", "exponential")

_OPTIMIZER_PARAMS: dict[str, tuple[str, ...]] = {
    "adam": ("beta1", "beta2", "eps"),
    "adamw": ("beta1", "beta2", "eps", "decay"),
    "sgd": ("momentum", "nesterov"),
    "rmsprop": ("alpha", "eps", "momentum"),
}
_SCHEDULE_PARAMS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "cosine": ("min_lr",),
    "step": ("step_epochs", "gamma"),
    "exponential": ("gamma",),
}


@dataclass(frozen=True)
class RateTarget:
    """A firing-rate regulariser on one population.

    Attributes:
        target_hz: The rate each neuron is pulled toward, in Hz (> 0).
        weight: The regulariser's weight in the loss (>= 0).
    """

    target_hz: float
    weight: float = 1.0


@dataclass(frozen=True)
class TrainingConfig:
    """Surrogate-gradient training, as the ``[training]`` table of an experiment describes it.

    Attributes:
        loss: One of :data:`LOSSES` (see the module docs for the exact formulas).
        readout: The population whose output the loss reads; ``None``: the last one declared.
        epochs: Passes over the training split.
        batch_size: Samples per step of the optimiser.
        optimizer: One of :data:`OPTIMIZERS`.
        lr: Learning rate.
        optimizer_params: The optimiser's own settings (``beta1``, ``momentum``...).
        schedule: Learning-rate schedule over epochs, one of :data:`SCHEDULES`.
        schedule_params: The schedule's settings (``gamma``, ``step_epochs``, ``min_lr``).
        grad_clip: Clip the global gradient norm to this value; ``None``: no clipping.
        tbptt: Truncated BPTT window in steps; ``None``: full BPTT.
        weight_decay: L2 coefficient on trainable weights (see module docs).
        rate_targets: Firing-rate regularisers by population name.
        rate_on / rate_off: Target rates in Hz for ``mse_rate``.
        train_split / eval_split: Dataset splits to train and evaluate on.
        checkpoint_every: Write a checkpoint every this many epochs (0: only at the end).
        resume: A checkpoint to resume from, or ``None``.
        input: The network input the samples feed; ``None``: the network's first input. The
            dataset a backend trains on yields samples ``[T, *shape]`` already at the
            network's ``dt`` (the experiment runner applies any encoder first).
        seed: Seeds the shuffling (:func:`neuropil.iterate_batches`) and anything random in
            training; the experiment runner sets it to the experiment's seed unless the table
            gives one.
    """

    loss: str = "ce_count"
    readout: str | None = None
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_params: dict[str, float] = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: dict[str, float] = field(default_factory=dict)
    grad_clip: float | None = None
    tbptt: int | None = None
    weight_decay: float = 0.0
    rate_targets: dict[str, RateTarget] = field(default_factory=dict)
    rate_on: float = 100.0
    rate_off: float = 0.0
    train_split: str = "train"
    eval_split: str = "test"
    checkpoint_every: int = 0
    resume: str | None = None
    input: str | None = None
    seed: int = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (0-based) under :attr:`schedule`.

        * ``constant``: ``lr``;
        * ``cosine``: ``min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2``
          (``min_lr`` defaults to 0);
        * ``step``: ``lr * gamma ** (epoch // step_epochs)`` (defaults 0.1 and 10);
        * ``exponential``: ``lr * gamma ** epoch`` (default ``gamma`` 0.9).

        Backends set the optimiser's learning rate to this at the start of every epoch.
        """
        params = self.schedule_params
        if self.schedule == "cosine":
            low = params.get("min_lr", 0.0)
            return low + (self.lr - low) * (1.0 + math.cos(math.pi * epoch / self.epochs)) / 2.0
        if self.schedule == "step":
            every = max(1, int(params.get("step_epochs", 10)))
            return self.lr * params.get("gamma", 0.1) ** (epoch // every)
        if self.schedule == "exponential":
            return self.lr * params.get("gamma", 0.9) ** epoch
        return self.lr

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> TrainingConfig:
        """Parse and check an experiment's ``[training]`` table.

        Raises:
            ExperimentError: listing every problem, each with the key and the fix.
        """
        config, problems = parse_training(table)
        if config is None:
            raise ExperimentError(
                "[training]: " + problems[0]
                if len(problems) == 1
                else f"[training] has {len(problems)} problems:\n  " + "\n  ".join(problems),
                section="training",
            )
        return config

    def logits(self, output: npt.ArrayLike, dt: float) -> npt.NDArray[np.float64]:
        """The readout's logits ``[B, C]`` from its recorded output ``[T, B, C]`` (spikes, or
        the membrane of a non-spiking readout), as :attr:`loss` defines them: the spike count
        (``ce_count``), the maximum or mean over time (``ce_max_membrane``,
        ``ce_mean_membrane``), or the rate in Hz (``mse_rate``). Accuracy is
        ``mean(argmax(logits, 1) == labels)``; evaluation code uses this to score a trained
        network the way it was trained."""
        out = np.asarray(output, dtype=np.float64)
        if out.ndim != 3:
            raise ValueError(f"readout output must be [T, B, C], got shape {out.shape}")
        if self.loss == "ce_count":
            logits = out.sum(axis=0)
        elif self.loss == "ce_max_membrane":
            logits = out.max(axis=0)
        elif self.loss == "ce_mean_membrane":
            logits = out.mean(axis=0)
        else:
            logits = out.mean(axis=0) / dt
        return np.asarray(logits, dtype=np.float64)

    def check_against(self, populations: Sequence[str]) -> list[str]:
        """Problems of this configuration with a network whose populations are ``populations``
        (the readout and the regularised populations must exist)."""
        problems = []
        if self.readout is not None and self.readout not in populations:
            problems.append(
                f"readout {self.readout!r} is not a population of the network"
                f"{did_you_mean(self.readout, populations)} (populations: "
                f"{', '.join(populations) or 'none'})"
            )
        for name in self.rate_targets:
            if name not in populations:
                problems.append(
                    f"rate_targets names {name!r}, which is not a population of the network"
                    f"{did_you_mean(name, populations)}"
                )
        return problems

    def to_dict(self) -> dict[str, Any]:
        """A TOML-able dict (``None`` fields left out) that :meth:`from_table` reads back."""
        data = asdict(self)
        data["rate_targets"] = {k: asdict(v) for k, v in self.rate_targets.items()}
        return {k: v for k, v in data.items() if v is not None}


def parse_training(table: Mapping[str, Any]) -> tuple[TrainingConfig | None, list[str]]:
    """Parse a ``[training]`` table: ``(config, [])``, or ``(None, problems)`` listing every
    problem with its key and the fix."""
    cls = TrainingConfig
    problems: list[str] = []
    known = set(cls.__dataclass_fields__)
    for key in table:
        if key not in known:
            problems.append(
                f"unknown key {key!r}{did_you_mean(key, sorted(known))} "
                f"(allowed: {', '.join(sorted(known))})"
            )
    values: dict[str, Any] = {}

    def choice(key: str, choices: tuple[str, ...]) -> None:
        if key in table:
            value = table[key]
            if value not in choices:
                problems.append(
                    f"{key} = {value!r} is not one of {', '.join(choices)}"
                    f"{did_you_mean(str(value), list(choices))}"
                )
            else:
                values[key] = value

    def number(
        key: str, *, low: float, integer: bool, inclusive: bool = True, optional: bool = False
    ) -> None:
        if key not in table:
            return
        value = table[key]
        if optional and value in ("none", "off"):
            values[key] = None
            return
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)):
            kind = "a whole number" if integer else "a number"
            problems.append(f"{key} must be {kind}, got {value!r}")
            return
        if value < low or (value == low and not inclusive):
            side = ">=" if inclusive else ">"
            problems.append(f"{key} must be {side} {low:g}, got {value!r}")
            return
        values[key] = value

    choice("loss", LOSSES)
    choice("optimizer", OPTIMIZERS)
    choice("schedule", SCHEDULES)
    number("epochs", low=1, integer=True)
    number("batch_size", low=1, integer=True)
    number("lr", low=0.0, integer=False, inclusive=False)
    number("grad_clip", low=0.0, integer=False, inclusive=False, optional=True)
    number("tbptt", low=1, integer=True, optional=True)
    number("weight_decay", low=0.0, integer=False)
    number("rate_on", low=0.0, integer=False, inclusive=False)
    number("rate_off", low=0.0, integer=False)
    number("checkpoint_every", low=0, integer=True)
    number("seed", low=0, integer=True)
    for key in ("readout", "train_split", "eval_split", "resume", "input"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                problems.append(f"{key} must be a non-empty string, got {table[key]!r}")
            else:
                values[key] = table[key]
    optimizer = values.get("optimizer", cls.optimizer)
    schedule = values.get("schedule", cls.schedule)
    for key, allowed in (
        ("optimizer_params", _OPTIMIZER_PARAMS.get(optimizer, ())),
        ("schedule_params", _SCHEDULE_PARAMS.get(schedule, ())),
    ):
        if key not in table:
            continue
        sub = table[key]
        if not isinstance(sub, Mapping):
            problems.append(f"{key} must be a table, got {sub!r}")
            continue
        parsed: dict[str, float] = {}
        for name, value in sub.items():
            owner = optimizer if key == "optimizer_params" else schedule
            if name not in allowed:
                problems.append(
                    f"{key}.{name}: {owner!r} has no setting {name!r}"
                    f"{did_you_mean(name, list(allowed))}; it has: "
                    f"{', '.join(allowed) or 'none'}"
                )
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{key}.{name} must be a number, got {value!r}")
            else:
                parsed[name] = float(value)
        values[key] = parsed
    if "rate_targets" in table:
        values["rate_targets"] = _rate_targets(table["rate_targets"], problems)
    if problems:
        return None, problems
    return cls(**values), []


def _rate_targets(value: Any, problems: list[str]) -> dict[str, RateTarget]:
    if not isinstance(value, Mapping):
        problems.append(
            "rate_targets must be a table of populations, e.g. "
            "rate_targets = { hidden = { target_hz = 10.0, weight = 0.1 } }"
        )
        return {}
    out: dict[str, RateTarget] = {}
    for pop, spec in value.items():
        place = f"rate_targets.{pop}"
        if not isinstance(spec, Mapping) or "target_hz" not in spec:
            problems.append(f"{place} must be a table with target_hz (and optionally weight)")
            continue
        extra = set(spec) - {"target_hz", "weight"}
        if extra:
            problems.append(
                f"{place}: unknown key {sorted(extra)[0]!r}; allowed: target_hz, weight"
            )
            continue
        target, weight = spec["target_hz"], spec.get("weight", 1.0)
        if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
            problems.append(f"{place}.target_hz must be a rate in Hz > 0, got {target!r}")
            continue
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            problems.append(f"{place}.weight must be a number >= 0, got {weight!r}")
            continue
        out[str(pop)] = RateTarget(float(target), float(weight))
    return out


def checkpoint_path(run_dir: str | os.PathLike[str], epoch: int) -> Path:
    """Where a training backend writes the checkpoint after epoch ``epoch`` (1-based: the
    number of epochs done): ``<run_dir>/checkpoints/epoch-<epoch>.safetensors``."""
    return Path(run_dir) / "checkpoints" / f"epoch-{int(epoch)}.safetensors"


def checkpoint_metadata(
    config: TrainingConfig, *, epoch: int, step: int, seed: int, backend: str
) -> dict[str, str]:
    """The safetensors metadata of a training checkpoint (string to string, as the format
    requires): ``epoch`` (epochs done), ``step`` (optimiser steps done), ``seed``, ``backend``,
    ``neuropil`` (the core's version) and ``config`` (:meth:`TrainingConfig.to_dict` as JSON).
    :func:`read_checkpoint_metadata` reads it back."""
    from neuropil import __version__

    return {
        "format": "neuropil-checkpoint",
        "epoch": str(int(epoch)),
        "step": str(int(step)),
        "seed": str(int(seed)),
        "backend": backend,
        "neuropil": __version__,
        "config": json.dumps(config.to_dict(), sort_keys=True),
    }


# A safetensors header is JSON; anything this large is not a checkpoint header.
_MAX_HEADER = 100 * 1024 * 1024


def read_checkpoint_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of a checkpoint written with :func:`checkpoint_metadata`, parsed: ``epoch``,
    ``step`` and ``seed`` as ints, ``config`` as a :class:`TrainingConfig`, the rest as strings.

    Reads only the safetensors header (8-byte little-endian length, then JSON), so it needs no
    backend and runs no code from the file.

    Raises:
        SerializationError: the file is missing, is not safetensors, or is not a neuropil
            checkpoint; the message names the file.
    """
    where = os.fspath(path)
    try:
        with open(where, "rb") as fh:
            head = fh.read(8)
            if len(head) != 8:
                raise SerializationError(
                    f"{where}: not a safetensors checkpoint (file shorter than its header); "
                    "point resume at a file under <run>/checkpoints/",
                    path=where,
                )
            (size,) = struct.unpack("<Q", head)
            if size > _MAX_HEADER:
                raise SerializationError(
                    f"{where}: not a safetensors checkpoint (header length {size} is implausible)",
                    path=where,
                )
            header = json.loads(fh.read(size).decode("utf-8"))
    except FileNotFoundError:
        raise SerializationError(
            f"checkpoint {where} does not exist; checkpoints are written to "
            "<run>/checkpoints/epoch-<n>.safetensors",
            path=where,
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationError(
            f"{where}: not a safetensors checkpoint (its header is not JSON: {exc})", path=where
        ) from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != "neuropil-checkpoint":
        raise SerializationError(
            f"{where}: a safetensors file, but not a neuropil training checkpoint (no "
            "neuropil metadata); resume only from files a training backend wrote",
            path=where,
        )
    try:
        out: dict[str, Any] = dict(meta)
        for key in ("epoch", "step", "seed"):
            out[key] = int(meta[key])
        out["config"] = TrainingConfig.from_table(json.loads(meta["config"]))
    except (KeyError, ValueError, ExperimentError) as exc:
        raise SerializationError(
            f"{where}: damaged neuropil checkpoint metadata ({exc})", path=where
        ) from None
    return out
