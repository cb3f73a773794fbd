"""The experiment runner behind ``neuropil run`` and ``neuropil check``.

An experiment file is TOML. Every section is optional; components are chosen by registry name::

    [experiment]            # name (default: the file's stem), seed = 0, dtype = "float64",
                            # backend = "numpy", out_dir = "runs", description = ""
    [network]               # file = "net.toml" (relative to the experiment file), or the
                            # network itself inline in the network file schema (dt, inputs,
                            # [[network.populations]], [[network.projections]], ...)
    [stimulus]              # when no dataset: kind = "poisson" | "constant", steps or
                            # duration (s, default 1.0), batch = 1, rate_hz = 10.0 (or a
                            # table of rates by input), value = 1.0 (constant), seed
    [dataset]               # name (registry kind "dataset", default "digits", the offline
                            # default of neuropil-datasets), split = "test", limit = 32,
                            # input (default: the network's only input), encoder (registry
                            # kind "encoder", for static samples), steps = 100 (encoder only)
    [training]              # TrainingConfig: the same on every training backend; without a
                            # [dataset] it trains on the default dataset
    [deployment]            # target (registry kind "target"), export = false, emulate = false
    [[analysis]]            # name (registry kind "analysis") and the analysis's own keys

A run writes ``<out_dir>/<name>-<YYYYmmdd-HHMMSS>[-n]/`` (``out_dir`` relative to the working
directory), built in a hidden temporary folder beside it and renamed only when complete:

* ``experiment.toml``: the experiment as run, every default filled in;
* ``network.toml`` (+ ``network.toml.npz``): the network as simulated (spike probes added);
* ``metrics.json``: rates, CV of ISI, timings, training / deployment / analysis metrics;
* ``parameters.npz``: the simulator's parameters after the run (``get_parameters``);
* ``recordings.npz``: every probe's recording ``[T, B, n]`` (and ``labels`` with a dataset);
* ``report.md``: a short human summary;
* with a deployment: ``deployment/`` (exported files); with analyses: ``analysis-<name>.npz`` /
  ``.html`` for the arrays and HTML they return.

A trainable backend's ``train`` may return the trained parameters under the key
``"parameters"`` (IR names to arrays, as :meth:`Simulator.get_parameters`); the runner sets
those that differ from the compiled simulator's on it before simulating, and keeps the other
keys as training metrics.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as _dt
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tomli_w
from rich.console import Console
from rich.table import Table

from neuropil._atomic import publish_dir
from neuropil._batching import pad_batch
from neuropil._network import Network, Probe
from neuropil._progress import Stages
from neuropil._registry import Registry, get_registry
from neuropil._serialize import find_null, json_data, network_to_dict
from neuropil._stimulus import STIMULUS_KINDS, make_stimulus
from neuropil._suggest import did_you_mean
from neuropil._training import TrainingConfig, parse_training
from neuropil._validate import warn_unit
from neuropil.errors import (
    ExperimentError,
    NetworkValidationError,
    NeuropilError,
    SerializationError,
)
from neuropil.protocols import SimulationResult, TrainableBackend, encoded_shape

__all__ = [
    "SECTIONS",
    "apply_overrides",
    "check_experiment",
    "is_experiment",
    "output_statistics",
    "read_toml",
    "run_experiment",
    "spike_statistics",
]

#: The sections of an experiment file and the keys each allows (``None``: free-form, the
#: component's own configuration).
SECTIONS: dict[str, tuple[str, ...] | None] = {
    "experiment": ("name", "seed", "dtype", "backend", "out_dir", "description"),
    "network": None,
    "stimulus": ("kind", "steps", "duration", "batch", "rate_hz", "value", "seed"),
    "dataset": ("name", "split", "limit", "input", "encoder", "steps"),
    "training": tuple(TrainingConfig.__dataclass_fields__),
    "deployment": ("target", "export", "emulate"),
    "analysis": None,
}
_DTYPES = ("float32", "float64")
#: The dataset an experiment uses when its ``[dataset]`` names none, and when it trains without
#: a ``[dataset]``: the offline UCI digits of ``neuropil-datasets``, spike-encoded.
DEFAULT_DATASET = "digits"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_DEFAULT_DURATION_S = 1.0
# Above this a [stimulus] duration is more likely milliseconds written as seconds (1000 meant as
# 1 s) than a run of minutes; it is accepted with a UnitWarning.
_LONG_DURATION_S = 100.0


@dataclass
class _Spec:
    """An experiment file, parsed and with its defaults filled in."""

    path: Path
    name: str
    seed: int
    dtype: str
    backend: str
    out_dir: str
    description: str
    network_file: Path | None
    network_inline: dict[str, Any] | None
    stimulus: dict[str, Any] | None
    dataset: dict[str, Any] | None
    training: TrainingConfig | None
    deployment: dict[str, Any] | None
    analyses: list[dict[str, Any]] = field(default_factory=list)


class _Problems:
    """Problems found while reading an experiment, each ``"[section] key: message"``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, section: str, message: str) -> None:
        self.items.append(f"[{section}] {message}")

    def keys(self, section: str, table: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                self.add(
                    section,
                    f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}",
                )

    def typed(
        self,
        section: str,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        default: Any,
        what: str,
    ) -> Any:
        if key not in table:
            return default
        value = table[key]
        # bool is an int in Python; a TOML true is never a valid count or number here.
        if isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float)):
            return value
        if kind == (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        self.add(section, f"{key} must be {what}, got {value!r}")
        return default


def is_experiment(data: Mapping[str, Any]) -> bool:
    """Whether TOML ``data`` is an experiment (it has a section of :data:`SECTIONS`) rather
    than a network file (``dt``, ``inputs``, ``populations``...). ``check`` and ``run`` decide
    alike."""
    return any(section in data for section in SECTIONS)


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """The TOML file ``path``; every failure an :class:`ExperimentError` with the fix.

    Args:
        what: What the file is, for the messages (``"experiment file"``).

    Raises:
        ExperimentError: the file is missing, a directory, unreadable, not UTF-8 text or not
            valid TOML.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"no such {what}: {path}") from None
    except IsADirectoryError:
        raise ExperimentError(f"{path} is a directory; give the path of a .toml file") from None
    except PermissionError:
        raise ExperimentError(
            f"{path}: permission denied; make the {what} readable (chmod u+r)"
        ) from None
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ExperimentError(
            f"{path} is not a text file (not UTF-8 at byte {exc.start}); give a TOML file"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path} is not valid TOML: {exc}") from exc


def _read(path: Path) -> dict[str, Any]:
    raw = read_toml(path, "experiment file")
    if raw and not is_experiment(raw):
        raise ExperimentError(
            f"{path} holds a network, not an experiment (it has none of the sections "
            + ", ".join(f"[{s}]" for s in SECTIONS)
            + f'); write an experiment with [network] file = "{path.name}" and run that, or '
            f"check the network with: neuropil check {path}"
        )
    return raw


def _parse(
    raw: Mapping[str, Any],
    path: Path,
    problems: _Problems,
    *,
    backend: str | None = None,
    out_dir: str | None = None,
) -> _Spec:
    for section in raw:
        if section not in SECTIONS:
            hint = did_you_mean(section, SECTIONS, "[{}]")
            problems.add(
                section,
                f"unknown section{hint}; allowed sections: "
                + ", ".join(f"[{s}]" for s in SECTIONS),
            )
    tables: dict[str, dict[str, Any]] = {}
    for section in ("experiment", "network", "stimulus", "dataset", "training", "deployment"):
        value = raw.get(section, {})
        if not isinstance(value, dict):
            problems.add(section, f"must be a table ([{section}]), got {value!r}")
            value = {}
        tables[section] = value
    exp = tables["experiment"]
    problems.keys("experiment", exp, SECTIONS["experiment"] or ())
    name = problems.typed("experiment", exp, "name", str, path.stem, "a string")
    if not _NAME_RE.fullmatch(name):
        problems.add(
            "experiment",
            f"name {name!r} cannot name a run folder; use letters, digits, '_', '-' and '.'",
        )
    seed = problems.typed("experiment", exp, "seed", int, 0, "an integer")
    if seed < 0:
        problems.add("experiment", f"seed must be an integer >= 0, got {seed}")
        seed = 0
    dtype = problems.typed("experiment", exp, "dtype", str, "float64", "a string")
    if dtype not in _DTYPES:
        problems.add(
            "experiment",
            f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}"
            f"{did_you_mean(dtype, _DTYPES)}",
        )
    spec = _Spec(
        path=path,
        name=name,
        seed=seed,
        dtype=dtype,
        backend=backend
        or problems.typed("experiment", exp, "backend", str, "numpy", "a registry name"),
        out_dir=out_dir or problems.typed("experiment", exp, "out_dir", str, "runs", "a path"),
        description=problems.typed("experiment", exp, "description", str, "", "a string"),
        network_file=None,
        network_inline=None,
        stimulus=None,
        dataset=None,
        training=None,
        deployment=None,
    )
    net = tables["network"]
    if "network" not in raw:
        problems.add("network", 'missing: give file = "net.toml" or the network inline')
    elif "file" in net:
        others = sorted(set(net) - {"file"})
        if others:
            problems.add(
                "network",
                f"give either file = ... or the network inline, not both (found {others})",
            )
        file = problems.typed("network", net, "file", str, "", "a path")
        spec.network_file = (path.parent / file) if file else None
    else:
        spec.network_inline = dict(net)

    if "stimulus" in raw and "dataset" in raw:
        problems.add("stimulus", "give either [stimulus] or [dataset], not both")
    if "dataset" in raw or ("training" in raw and "stimulus" not in raw):
        # Training with no data named trains on the offline default dataset.
        spec.dataset = _parse_dataset(tables["dataset"], problems)
    else:
        spec.stimulus = _parse_stimulus(tables["stimulus"], problems, seed)
    if "training" in raw:
        spec.training, training_problems = parse_training(tables["training"])
        for message in training_problems:
            problems.add("training", message)
        if spec.training is not None and "seed" not in tables["training"]:
            spec.training = dataclasses.replace(spec.training, seed=seed)
        if spec.dataset is None:
            problems.add(
                "training",
                "training needs a [dataset] to train on, not a [stimulus]; replace [stimulus] "
                f'by [dataset] (name = "{DEFAULT_DATASET}" is the offline default)',
            )
    if "deployment" in raw:
        spec.deployment = _parse_deployment(tables["deployment"], problems)
    spec.analyses = _parse_analyses(raw.get("analysis", []), problems)
    return spec


def _parse_stimulus(table: Mapping[str, Any], problems: _Problems, seed: int) -> dict[str, Any]:
    problems.keys("stimulus", table, SECTIONS["stimulus"] or ())
    kind = problems.typed("stimulus", table, "kind", str, "poisson", "a string")
    if kind not in STIMULUS_KINDS:
        problems.add(
            "stimulus",
            f"kind must be one of {', '.join(STIMULUS_KINDS)}, got {kind!r}"
            f"{did_you_mean(kind, STIMULUS_KINDS)}",
        )
    out: dict[str, Any] = {"kind": kind}
    if "steps" in table and "duration" in table:
        problems.add("stimulus", "give either steps or duration (seconds), not both")
    steps = problems.typed("stimulus", table, "steps", int, None, "an integer")
    if steps is not None and steps < 1:
        problems.add("stimulus", f"steps must be >= 1, got {steps}")
    duration = problems.typed("stimulus", table, "duration", (int, float), None, "seconds")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        problems.add("stimulus", f"duration must be > 0 seconds, got {duration!r}")
    out["steps"] = steps
    out["duration"] = float(duration) if duration is not None else None
    batch = problems.typed("stimulus", table, "batch", int, 1, "an integer")
    if batch < 1:
        problems.add("stimulus", f"batch must be >= 1, got {batch}")
    out["batch"] = batch
    out["seed"] = problems.typed("stimulus", table, "seed", int, seed, "an integer")
    if out["seed"] < 0:
        problems.add("stimulus", f"seed must be an integer >= 0, got {out['seed']}")
        out["seed"] = seed
    for key, default in (("rate_hz", 10.0), ("value", 1.0)):
        value = table.get(key, default)
        if isinstance(value, dict):
            bad = {
                k: v
                for k, v in value.items()
                if isinstance(v, bool) or not isinstance(v, int | float)
            }
            if bad:
                problems.add("stimulus", f"{key} values must be numbers, got {bad}")
            out[key] = {k: float(v) for k, v in value.items() if k not in bad}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)
        else:
            problems.add("stimulus", f"{key} must be a number or a table by input, got {value!r}")
            out[key] = default
    rates = out["rate_hz"] if isinstance(out["rate_hz"], dict) else {"": out["rate_hz"]}
    for name, rate in rates.items():
        if rate < 0:
            where = f" for input {name!r}" if name else ""
            problems.add("stimulus", f"rate_hz must be >= 0 Hz, got {rate:g}{where}")
    return out


def _parse_dataset(table: Mapping[str, Any], problems: _Problems) -> dict[str, Any]:
    problems.keys("dataset", table, SECTIONS["dataset"] or ())
    out: dict[str, Any] = {
        "name": problems.typed("dataset", table, "name", str, DEFAULT_DATASET, "a registry name"),
        "split": problems.typed("dataset", table, "split", str, "test", "a split name"),
        "limit": problems.typed("dataset", table, "limit", int, 32, "an integer"),
        "input": problems.typed("dataset", table, "input", str, None, "an input name"),
        "encoder": problems.typed("dataset", table, "encoder", str, None, "a registry name"),
        "steps": problems.typed("dataset", table, "steps", int, 100, "an integer"),
    }
    if out["limit"] < 1:
        problems.add("dataset", f"limit must be >= 1, got {out['limit']}")
    if out["steps"] < 1:
        problems.add("dataset", f"steps must be >= 1, got {out['steps']}")
    if "steps" in table and out["encoder"] is None:
        problems.add("dataset", "steps applies only with an encoder")
    return out


def _parse_deployment(table: Mapping[str, Any], problems: _Problems) -> dict[str, Any]:
    problems.keys("deployment", table, SECTIONS["deployment"] or ())
    if "target" not in table:
        problems.add("deployment", 'missing target = "..." (a hardware target registry name)')
    return {
        "target": problems.typed("deployment", table, "target", str, "", "a registry name"),
        "export": problems.typed("deployment", table, "export", bool, False, "true or false"),
        "emulate": problems.typed("deployment", table, "emulate", bool, False, "true or false"),
    }


def _parse_analyses(value: Any, problems: _Problems) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        problems.add("analysis", "must be an array of tables ([[analysis]])")
        return []
    out = []
    for k, table in enumerate(value):
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            problems.add("analysis", f'entry {k} needs name = "..." (an analysis registry name)')
            continue
        out.append(dict(table))
    return out


def _load_network(spec: _Spec) -> Network:
    if spec.network_file is not None:
        if spec.network_file.is_dir():
            raise ExperimentError(
                f"[network] file {str(spec.network_file)!r} is a directory; give the network "
                "file itself (.json or .toml)",
                section="network",
            )
        if not spec.network_file.is_file():
            raise ExperimentError(
                f"[network] file {str(spec.network_file)!r} does not exist (paths are relative "
                f"to the experiment file, {spec.path})",
                section="network",
            )
        try:
            return Network.load(spec.network_file)
        except SerializationError as exc:
            raise ExperimentError(f"[network] {exc}", section="network") from exc
    try:
        return Network.from_dict(spec.network_inline or {})
    except SerializationError as exc:
        raise ExperimentError(f"[network] {exc}", section="network") from exc


def _check_names(spec: _Spec, registry: Registry, problems: _Problems) -> None:
    wanted = [("experiment", "backend", spec.backend)]
    if spec.dataset is not None:
        wanted.append(("dataset", "dataset", spec.dataset["name"]))
        if spec.dataset["encoder"]:
            wanted.append(("dataset", "encoder", spec.dataset["encoder"]))
    if spec.deployment is not None:
        wanted.append(("deployment", "target", spec.deployment["target"]))
    wanted.extend(("analysis", "analysis", a["name"]) for a in spec.analyses)
    for section, kind, name in wanted:
        if name and name not in registry.names(kind):
            try:
                registry.entry(kind, name)
            except NeuropilError as exc:
                problems.add(section, str(exc))


def _check_trainable(backend: str, registry: Registry, problems: _Problems) -> None:
    try:
        engine = registry.load("backend", backend)
    except NeuropilError as exc:
        problems.add("experiment", str(exc))
        return
    if not callable(getattr(engine, "train", None)):
        problems.add("training", _cannot_train(backend, registry))


def _cannot_train(backend: str, registry: Registry) -> str:
    can = _trainable_backends(registry)
    return (
        f"backend {backend!r} cannot train; backends that can: "
        + (", ".join(can) if can else "none installed (pip install neuropil-torch or neuropil-jax)")
        + "; set [experiment] backend to one of them"
    )


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``raw`` with each ``"section.key=value"`` of ``overrides`` set in it (a copy).

    The path is dotted table keys; a number indexes an array of tables (``analysis.0.name``).
    The value is read as a TOML value (``3``, ``2e-3``, ``true``, ``"adam"``, ``[1, 2]``); text
    that is not TOML is taken as a string, so ``training.optimizer=sgd`` works unquoted.

    Raises:
        ExperimentError: an override without ``=``, with an empty key, or whose path runs
            through something that is not a table.
    """
    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ExperimentError(
                f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. --set training.epochs=3"
            )
        try:
            value: Any = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        node: Any = out
        for depth, part in enumerate(parts[:-1]):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ExperimentError(
                        f"--set {item!r}: {where} is not an index of the {len(node)} tables there"
                    )
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                raise ExperimentError(f"--set {item!r}: {where} is a value, not a table")
        if not isinstance(node, dict):
            where = ".".join(parts[:-1])
            raise ExperimentError(f"--set {item!r}: {where} is a value, not a table")
        node[parts[-1]] = value
    return out


def _collect(
    path: str | os.PathLike[str],
    *,
    backend: str | None = None,
    out_dir: str | None = None,
    overrides: Sequence[str] = (),
) -> tuple[_Spec, Network | None, list[str]]:
    source = Path(path)
    raw = apply_overrides(_read(source), overrides)
    problems = _Problems()
    spec = _parse(raw, source, problems, backend=backend, out_dir=out_dir)
    registry = get_registry()
    network: Network | None = None
    if spec.network_file is not None or spec.network_inline is not None:
        try:
            network = _load_network(spec)
            network.validate(registry)
        except ExperimentError as exc:
            problems.items.append(str(exc))
            network = None
        except NetworkValidationError as exc:
            for place, message in exc.problems:
                problems.add("network", f"{place}: {message}")
            network = None
    if network is not None:
        try:
            # What the run folder will hold must be writable before anything is simulated.
            network_to_dict(network, {})
        except SerializationError as exc:
            problems.add("network", f"the network cannot be saved in the run folder: {exc}")
            network = None
    if network is not None:
        _check_inputs(spec, network, problems)
        if spec.training is not None:
            for message in spec.training.check_against([p.name for p in network.populations]):
                problems.add("training", message)
    _check_names(spec, registry, problems)
    if spec.training is not None and spec.backend in registry.names("backend"):
        _check_trainable(spec.backend, registry, problems)
    return spec, network, problems.items


def _check_inputs(spec: _Spec, network: Network, problems: _Problems) -> None:
    names = [i.name for i in network.inputs]
    if spec.stimulus is not None:
        duration = spec.stimulus["duration"]
        if duration is not None and duration > _LONG_DURATION_S:
            warn_unit(
                f"[stimulus] duration is in seconds; {duration:g} s is "
                f"{max(1, round(duration / network.dt)):,} steps; if you meant ms write "
                f"{duration / 1000!r}",
                place="[stimulus] duration",
                value=duration,
            )
        used = "rate_hz" if spec.stimulus["kind"] == "poisson" else "value"
        for key in ("rate_hz", "value"):
            table = spec.stimulus[key]
            if not isinstance(table, dict):
                continue
            for name in sorted(set(table) - set(names)):
                problems.add(
                    "stimulus",
                    f"{key} names input {name!r}, which the network does not have; its "
                    f"inputs: {', '.join(names) or 'none'}",
                )
            missing = [n for n in names if n not in table]
            if key == used and missing:
                problems.add(
                    "stimulus",
                    f"{key} gives no value for input {missing[0]!r}; give one per input "
                    f"({', '.join(names)}) or a single number for all",
                )
        if used == "rate_hz":
            rates = spec.stimulus["rate_hz"]
            table = rates if isinstance(rates, dict) else dict.fromkeys(names, rates)
            max_rate = 1.0 / network.dt
            for name, rate in table.items():
                if name in names and rate * network.dt > 1.0:
                    problems.add(
                        "stimulus",
                        f"rate_hz {rate:g} Hz for input {name!r} is above {max_rate:g} Hz, the "
                        f"most a Poisson input can fire at dt = {network.dt:g} s (one spike "
                        f"per step); lower it to at most {max_rate:g}",
                    )
    if spec.dataset is not None:
        chosen = spec.dataset["input"]
        if chosen is None and len(names) != 1:
            problems.add(
                "dataset",
                f"the network has {len(names)} inputs ({', '.join(names) or 'none'}); say "
                'which one the dataset feeds with input = "..."',
            )
        elif chosen is not None and chosen not in names:
            problems.add(
                "dataset",
                f"input {chosen!r} is not an input of the network; its inputs: "
                f"{', '.join(names) or 'none'}",
            )


def _check_command(
    path: str | os.PathLike[str], backend: str | None, overrides: Sequence[str]
) -> str:
    """The ``neuropil check`` line that sees the experiment as this run saw it."""
    sets = [*overrides, *([f"experiment.backend={backend}"] if backend else [])]
    return f"neuropil check {path}" + "".join(f" --set {shlex.quote(s)}" for s in sets)


def check_experiment(path: str | os.PathLike[str], *, overrides: Sequence[str] = ()) -> list[str]:
    """Every problem of an experiment file, without running it.

    Reads the file, checks every section and key, loads and validates the network, checks that
    the stimulus or dataset fits the network's inputs, and that every component named is
    installed (backend, dataset, encoder, target, analyses).

    Args:
        path: The experiment TOML.
        overrides: ``"section.key=value"`` settings applied first (see
            :func:`apply_overrides`).

    Returns:
        One line per problem, ``"[section] message"``; empty when the experiment is valid.
    """
    try:
        _, _, problems = _collect(path, overrides=overrides)
    except ExperimentError as exc:
        return [str(exc)]
    return problems


# -- running --------------------------------------------------------------------------------------


def spike_statistics(spikes: npt.ArrayLike, dt: float) -> dict[str, Any]:
    """Firing statistics of one population's spikes.

    Args:
        spikes: ``[T, B, n]`` of 0 / 1.
        dt: The time step in seconds.

    Returns:
        ``rate_hz`` (mean over time, batch and neurons, in Hz), ``cv_isi`` (the mean, over the
        neuron-trials with at least 3 spikes, of std / mean of their inter-spike intervals;
        ``None`` when there are none), ``active_fraction`` (neuron-trials that spiked at all)
        and ``neurons``.
    """
    s = np.asarray(spikes, dtype=np.float64)
    steps = s.shape[0]
    trains = s.reshape(steps, -1).T if steps else np.zeros((0, 0))
    cvs = []
    for train in trains:
        times = np.flatnonzero(train)
        if len(times) >= 3:
            isi = np.diff(times).astype(np.float64)
            cvs.append(float(isi.std() / isi.mean()))
    return {
        "neurons": int(s.shape[-1]) if s.ndim else 0,
        "rate_hz": float(s.mean() / dt) if s.size else 0.0,
        "cv_isi": float(np.mean(cvs)) if cvs else None,
        "active_fraction": float(np.mean(trains.sum(axis=1) > 0)) if trains.size else 0.0,
    }


def output_statistics(output: npt.ArrayLike) -> dict[str, Any]:
    """Statistics of a non-spiking population's graded output (e.g. ``v`` of ``li``).

    Args:
        output: ``[T, B, n]`` of the population's output variable.

    Returns:
        ``mean`` and ``std`` (over time, batch and neurons, in the variable's unit; ``None``
        when nothing was recorded) and ``neurons``.
    """
    x = np.asarray(output, dtype=np.float64)
    return {
        "neurons": int(x.shape[-1]) if x.ndim else 0,
        "mean": float(x.mean()) if x.size else None,
        "std": float(x.std()) if x.size else None,
    }


def _network_filename(network: Network) -> str:
    """``network.toml``, or ``network.json`` for a network holding a null (JSON data that TOML
    cannot store), so that the run folder keeps every byte of it."""
    return "network.json" if find_null(network_to_dict(network, {})) else "network.toml"


def _add_output_probes(network: Network) -> None:
    """Record every population's output (``"spikes"``: spikes, or the graded output variable
    of a non-spiking model) for the activity table."""
    probed = {(p.target, p.variable) for p in network.probes}
    for pop in network.populations:
        if (pop.name, "spikes") not in probed:
            network.probes.append(Probe(pop.name, "spikes"))


def _activity(
    network: Network, recordings: Mapping[str, npt.ArrayLike], registry: Registry
) -> dict[str, dict[str, Any]]:
    """Per population: firing rate and CV of ISI for a spiking model, mean and std of the
    output for a non-spiking one (a rate of a membrane potential means nothing)."""
    out: dict[str, dict[str, Any]] = {}
    for pop in network.populations:
        recorded = recordings.get(f"{pop.name}.spikes")
        if recorded is None:
            continue
        model = registry.neuron(pop.model)
        if model.spiking:
            out[pop.name] = {"model": pop.model, **spike_statistics(recorded, network.dt)}
        else:
            out[pop.name] = {
                "model": pop.model,
                "output": model.output,
                **output_statistics(recorded),
            }
    return out


def _trainable_backends(registry: Registry) -> list[str]:
    found = []
    for name in registry.names("backend"):
        try:
            if isinstance(registry.create("backend", name), TrainableBackend):
                found.append(name)
        except NeuropilError:
            continue
    return found


def _dataset_inputs(
    spec: _Spec, network: Network, registry: Registry
) -> tuple[Any, dict[str, npt.NDArray[Any]], npt.NDArray[np.int64], int]:
    cfg = spec.dataset
    assert cfg is not None  # only called with a dataset section
    dataset = registry.create("dataset", cfg["name"])
    info = dataset.info
    name = cfg["input"] or network.inputs[0].name
    inp = next(i for i in network.inputs if i.name == name)
    samples = list(dataset.split(cfg["split"]))[: cfg["limit"]]
    if not samples:
        raise ExperimentError(
            f"dataset {cfg['name']!r} split {cfg['split']!r} has no samples", section="dataset"
        )
    labels = np.asarray([int(label) for _, label in samples], dtype=np.int64)
    xs = [np.asarray(x, dtype=np.float64) for x, _ in samples]
    encoder = registry.create("encoder", cfg["encoder"]) if cfg["encoder"] else None
    shape = tuple(info.shape) if encoder is None else encoded_shape(encoder, info.shape)
    frame = int(np.prod(shape))
    if frame != inp.size:
        through = "" if encoder is None else f" once encoded by {cfg['encoder']!r}"
        raise ExperimentError(
            f"dataset {cfg['name']!r} has samples of shape {shape}{through} ({frame} "
            f"channels) but input {name!r} has {inp.size}; resize the input to {frame}",
            section="dataset",
        )
    if encoder is not None:
        if any(x.shape[0] != 1 for x in xs):
            raise ExperimentError(
                f"encoder {cfg['encoder']!r} encodes static samples (1 time bin) but dataset "
                f"{cfg['name']!r} has {xs[0].shape[0]} time bins; remove the encoder",
                section="dataset",
            )
        static = np.stack([x[0] for x in xs])
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 1]))
        x = np.asarray(encoder.encode(static, steps=cfg["steps"], dt=network.dt, rng=rng))
    else:
        if not math.isclose(info.dt, network.dt, rel_tol=1e-9):
            raise ExperimentError(
                f"dataset {cfg['name']!r} has time bins of {info.dt:g} s but the network's dt "
                f"is {network.dt:g} s; set the network's dt to {info.dt:g}",
                section="dataset",
            )
        x, _, _ = pad_batch(samples, dtype=np.float64)
    inputs = {name: x.reshape(x.shape[0], x.shape[1], *(inp.shape or (inp.size,)))}
    return dataset, inputs, labels, int(x.shape[0])


class _EncodedDataset:
    """A dataset of static samples (one time bin) seen through an encoder, for training: each
    split's samples are encoded once, deterministically from the experiment's seed and the
    split's name, so every epoch and every backend sees the same spikes."""

    def __init__(self, dataset: Any, encoder: Any, *, steps: int, dt: float, seed: int) -> None:
        self._dataset = dataset
        self._encoder = encoder
        self._steps = steps
        self._dt = dt
        self._seed = seed
        self._cache: dict[str, list[tuple[npt.NDArray[Any], int]]] = {}
        self.info = dataclasses.replace(
            dataset.info, dt=dt, steps=steps, shape=encoded_shape(encoder, dataset.info.shape)
        )

    def split(self, name: str) -> Sequence[tuple[npt.NDArray[Any], int]]:
        """The split's samples, encoded as ``[steps, *shape]``."""
        if name not in self._cache:
            samples = list(self._dataset.split(name))
            if not samples:
                self._cache[name] = []
                return self._cache[name]
            static = np.stack([np.asarray(x, dtype=np.float64)[0] for x, _ in samples])
            # The split's name enters the seed: train and test draw different spikes.
            rng = np.random.default_rng(
                np.random.SeedSequence([self._seed, 2, *name.encode("utf-8")])
            )
            encoded = np.asarray(
                self._encoder.encode(static, steps=self._steps, dt=self._dt, rng=rng)
            )
            self._cache[name] = [
                (encoded[:, i], int(label)) for i, (_, label) in enumerate(samples)
            ]
        return self._cache[name]


def _toml_clean(value: Any) -> Any:
    """TOML has no null: drop ``None`` entries."""
    if isinstance(value, dict):
        return {k: _toml_clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_clean(v) for v in value if v is not None]
    return value


def _core_version() -> str:
    from neuropil import __version__

    return __version__


def _reserve_run_folder(out_root: Path, name: str, stamp: str) -> Path:
    """Create the empty run folder ``name-stamp`` (``-2``, ``-3``... when taken): ``mkdir``
    either creates it or fails, so two runs in the same second never share a folder."""
    n = 1
    while True:
        candidate = out_root / (f"{name}-{stamp}" if n == 1 else f"{name}-{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            n += 1
            continue
        return candidate


def _now() -> _dt.datetime:
    return _dt.datetime.now()


@contextmanager
def _building(out_root: Path, name: str) -> Iterator[Path]:
    """A hidden temporary folder in ``out_root``, removed if the block fails.

    Raises:
        ExperimentError: ``out_root`` cannot be created or written (checked before anything
            is simulated).
    """
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", suffix=".partial", dir=out_root))
    except FileExistsError as exc:
        raise ExperimentError(
            f"cannot create run folders in {out_root}: it is a file (or lies under one); give "
            "a folder with --out or [experiment] out_dir",
            section="experiment",
        ) from exc
    except OSError as exc:
        raise ExperimentError(
            f"cannot create run folders in {out_root}: {exc.strerror or exc}; give a folder "
            "you can write to with --out or [experiment] out_dir",
            section="experiment",
        ) from exc
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _publish(tmp: Path, out_root: Path, name: str, stamp: str) -> Path:
    final = _reserve_run_folder(out_root, name, stamp)
    try:
        publish_dir(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            final.rmdir()
        raise
    return final


@contextmanager
def _stage(stages: Stages, name: str, detail: str = "") -> Iterator[None]:
    """A stage whose unexpected failures become an ExperimentError naming the stage."""
    try:
        with stages.stage(name, detail):
            yield
    except NeuropilError:
        raise
    except Exception as exc:
        raise ExperimentError(
            f"the {name} stage failed: {type(exc).__name__}: {exc}", section=name
        ) from exc


def run_experiment(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    quiet: bool = False,
    overrides: Sequence[str] = (),
) -> Path:
    """Run an experiment file and write its run folder.

    Args:
        path: The experiment TOML.
        out_dir: Where run folders go, overriding ``[experiment] out_dir``.
        backend: Backend registry name, overriding ``[experiment] backend``.
        quiet: Show nothing (no progress, no rates table).
        overrides: ``"section.key=value"`` settings applied to the file first (see
            :func:`apply_overrides`); the run folder's ``experiment.toml`` shows the result.

    Returns:
        The run folder, ``<out_dir>/<name>-<YYYYmmdd-HHMMSS>[-n]``.

    Raises:
        ExperimentError: the experiment is invalid (every problem listed), or a stage failed;
            no run folder is left behind.
    """
    spec, network, problems = _collect(
        path,
        backend=backend,
        out_dir=None if out_dir is None else str(out_dir),
        overrides=overrides,
    )
    if problems or network is None:
        count = len(problems)
        raise ExperimentError(
            f"{path}: {count} problem{'s' if count != 1 else ''} in the experiment:\n  "
            + "\n  ".join(problems)
            + f"\nFix them and run again ({_check_command(path, backend, overrides)} lists them)."
        )
    console = Console(highlight=False)
    stages = Stages(console, quiet=quiet)
    registry = get_registry()
    started = _now()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    out_root = Path(spec.out_dir)
    metrics: dict[str, Any] = {
        "experiment": spec.name,
        "neuropil": _core_version(),
        "started": started.isoformat(timespec="seconds"),
        "backend": spec.backend,
        "dtype": spec.dtype,
        "seed": spec.seed,
        "dt": network.dt,
    }
    report_extra: list[str] = []
    network_file = _network_filename(network)
    with _building(out_root, spec.name) as tmp:
        _add_output_probes(network)
        labels: npt.NDArray[np.int64] | None = None
        dataset: Any = None
        with _stage(stages, "input", spec.dataset["name"] if spec.dataset else "stimulus"):
            if spec.dataset is not None:
                dataset, inputs, labels, steps = _dataset_inputs(spec, network, registry)
                batch = len(labels)
                metrics["dataset"] = {
                    "name": spec.dataset["name"],
                    "split": spec.dataset["split"],
                    "samples": batch,
                }
            else:
                stim = spec.stimulus
                assert stim is not None  # no dataset: the stimulus has its defaults
                if stim["steps"] is None:
                    duration = stim["duration"] or _DEFAULT_DURATION_S
                    stim["steps"] = max(1, round(duration / network.dt))
                stim.pop("duration", None)
                steps, batch = stim["steps"], stim["batch"]
                inputs = make_stimulus(
                    network,
                    kind=stim["kind"],
                    steps=steps,
                    batch=batch,
                    seed=stim["seed"],
                    rate_hz=stim["rate_hz"],
                    value=stim["value"],
                )
        metrics.update({"steps": steps, "batch": batch, "duration_s": steps * network.dt})
        engine = registry.create("backend", spec.backend)
        # Everything that can refuse the run does so before the simulation, not after it.
        target = _check_target(spec, network, registry)
        analyses = [(table, registry.create("analysis", table["name"])) for table in spec.analyses]
        trained: Mapping[str, Any] | None = None
        if spec.training is not None:
            if not isinstance(engine, TrainableBackend):
                raise ExperimentError(_cannot_train(spec.backend, registry), section="training")
            assert spec.dataset is not None  # parsing requires one with [training]
            train_config = spec.training
            if train_config.input is None:
                train_config = dataclasses.replace(
                    train_config, input=spec.dataset["input"] or network.inputs[0].name
                )
            if spec.dataset["encoder"]:
                dataset = _EncodedDataset(
                    dataset,
                    registry.create("encoder", spec.dataset["encoder"]),
                    steps=spec.dataset["steps"],
                    dt=network.dt,
                    seed=spec.seed,
                )
            with _stage(stages, "train", f"{spec.backend}"):
                train_metrics = dict(engine.train(network, dataset, train_config, run_dir=str(tmp)))
            trained = train_metrics.pop("parameters", None)
            metrics["training"] = train_metrics
        with _stage(stages, "compile", f"{spec.backend} ({spec.dtype})"):
            sim = engine.compile(network, dtype=spec.dtype, seed=spec.seed)
            if trained is not None:
                # Only what training changed: structural entries (delays) cannot be set.
                current = sim.get_parameters()
                sim.set_parameters(
                    {
                        k: v
                        for k, v in trained.items()
                        if k not in current or not np.array_equal(np.asarray(v), current[k])
                    }
                )
        with _stage(stages, "simulate", f"{steps} steps x {batch} trial(s)"):
            result: SimulationResult = sim.run(inputs, steps=steps)
        parameters = sim.get_parameters()
        metrics["populations"] = _activity(network, result.recordings, registry)
        if spec.training is not None and labels is not None:
            metrics["evaluation"] = _evaluate(spec.training, network, result, labels)
            metrics["evaluation"]["split"] = spec.dataset["split"] if spec.dataset else ""
        metrics["neurons"] = sum(p.size for p in network.populations)
        metrics["synapses"] = int(
            sum(np.count_nonzero(v) for k, v in parameters.items() if k.endswith(".weights"))
        )
        if spec.deployment is not None:
            metrics["deployment"] = _deploy(
                spec, target, network, parameters, inputs, steps, tmp, stages, registry
            )
        if spec.analyses:
            metrics["analysis"] = {}
        for table, analysis in analyses:
            config = {k: v for k, v in table.items() if k != "name"}
            with _stage(stages, f"analysis {table['name']}"):
                found = analysis.run(network, result, config)
            metrics["analysis"][table["name"]] = found.metrics
            if found.arrays:
                _savez(tmp / f"analysis-{table['name']}.npz", found.arrays)
            if found.html:
                (tmp / f"analysis-{table['name']}.html").write_text(found.html, encoding="utf-8")
                report_extra.append(
                    f"- {table['name']}: [analysis-{table['name']}.html]"
                    f"(analysis-{table['name']}.html)"
                )
        with _stage(stages, "write", "run folder"):
            metrics["timings_s"] = dict(stages.timings)
            _write_folder(
                tmp, spec, network, network_file, metrics, parameters, result, labels, report_extra
            )
            final = _publish(tmp, out_root, spec.name, stamp)
    if not quiet:
        console.print(_rates_table(metrics))
        if "evaluation" in metrics:
            found = metrics["evaluation"]
            console.print(
                f"accuracy on {found['split']!r}: {100 * found['accuracy']:.1f} % "
                f"({found['samples']} samples, readout {found['readout']!r})"
            )
    return final


def _evaluate(
    config: TrainingConfig,
    network: Network,
    result: SimulationResult,
    labels: npt.NDArray[np.int64],
) -> dict[str, Any]:
    """Accuracy of the trained network on the simulated samples, with the logits of the loss
    it was trained with."""
    readout = config.readout or network.populations[-1].name
    logits = config.logits(result[f"{readout}.spikes"], network.dt)
    return {
        "readout": readout,
        "samples": len(labels),
        "accuracy": float(np.mean(np.argmax(logits, axis=1) == labels)),
    }


def _check_target(spec: _Spec, network: Network, registry: Registry) -> Any:
    """The deployment's target, once it has accepted the network (``None`` without one)."""
    cfg = spec.deployment
    if cfg is None:
        return None
    target = registry.create("target", cfg["target"])
    issues = target.check(network)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise ExperimentError(
            f"the network does not fit target {cfg['target']!r}: "
            + "; ".join(f"{i.path}: {i.message}" for i in errors),
            section="deployment",
        )
    return target


def _deploy(
    spec: _Spec,
    target: Any,
    network: Network,
    parameters: Mapping[str, npt.NDArray[Any]],
    inputs: Mapping[str, npt.NDArray[Any]],
    steps: int,
    tmp: Path,
    stages: Stages,
    registry: Registry,
) -> dict[str, Any]:
    cfg = spec.deployment
    assert cfg is not None  # only called with a deployment section
    out: dict[str, Any] = {"target": cfg["target"]}
    with _stage(stages, "deploy", cfg["target"]):
        out["issues"] = [
            {"path": i.path, "message": i.message, "severity": i.severity}
            for i in target.check(network)
        ]
        deployment = target.deploy(network, parameters)
        out["resources"] = deployment.resources()
        if cfg["emulate"]:
            emulated = deployment.emulate(inputs, steps=steps)
            out["populations"] = _activity(network, emulated.recordings, registry)
        if cfg["export"]:
            folder = tmp / "deployment"
            folder.mkdir()
            written = deployment.export(str(folder))
            out["exported"] = [os.path.relpath(f, tmp) for f in written]
    return out


def _resolved(spec: _Spec, network_file: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "experiment": {
            "name": spec.name,
            "seed": spec.seed,
            "dtype": spec.dtype,
            "backend": spec.backend,
            "out_dir": spec.out_dir,
            "description": spec.description,
        },
        "network": {"file": network_file},
    }
    if spec.stimulus is not None:
        unused = "value" if spec.stimulus["kind"] == "poisson" else "rate_hz"
        data["stimulus"] = {k: v for k, v in spec.stimulus.items() if k != unused}
    if spec.dataset is not None:
        data["dataset"] = {
            k: v
            for k, v in spec.dataset.items()
            if not (k == "steps" and spec.dataset["encoder"] is None)
        }
    if spec.training is not None:
        data["training"] = spec.training.to_dict()
    if spec.deployment is not None:
        data["deployment"] = spec.deployment
    if spec.analyses:
        data["analysis"] = spec.analyses
    return _toml_clean(data)  # type: ignore[no-any-return]


def _write_folder(
    tmp: Path,
    spec: _Spec,
    network: Network,
    network_file: str,
    metrics: dict[str, Any],
    parameters: Mapping[str, npt.NDArray[Any]],
    result: SimulationResult,
    labels: npt.NDArray[np.int64] | None,
    report_extra: list[str],
) -> None:
    (tmp / "experiment.toml").write_text(
        tomli_w.dumps(_resolved(spec, network_file)), encoding="utf-8"
    )
    network.save(tmp / network_file)
    (tmp / "metrics.json").write_text(
        json.dumps(json_data(metrics, "metrics", lenient=True), indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    _savez(tmp / "parameters.npz", parameters)
    recordings = {k: np.asarray(v) for k, v in result.recordings.items()}
    if labels is not None:
        recordings["labels"] = labels
    _savez(tmp / "recordings.npz", recordings)
    (tmp / "report.md").write_text(_report(spec, network, metrics, report_extra), encoding="utf-8")


def _savez(path: Path, arrays: Mapping[str, npt.ArrayLike]) -> None:
    """numpy's compressed ``.npz`` (spike rasters are mostly zeros), plain data only."""
    plain = {k: np.asarray(v) for k, v in arrays.items()}
    for key, arr in plain.items():
        if arr.dtype == object:
            raise ExperimentError(f"cannot save {key!r} to {path.name}: it is not numeric data")
    np.savez_compressed(path, **plain)  # type: ignore[arg-type]


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _report(spec: _Spec, network: Network, metrics: Mapping[str, Any], extra: list[str]) -> str:
    lines = [
        f"# {spec.name}",
        "",
        spec.description or f"Experiment `{spec.path.name}`.",
        "",
        f"- started: {metrics['started']}",
        f"- backend: `{spec.backend}` ({spec.dtype}), seed {spec.seed}",
        f"- network: `{network.name}`: {metrics['neurons']} neurons in "
        f"{len(network.populations)} populations, {metrics['synapses']} synapses in "
        f"{len(network.projections)} projections, dt = {network.dt:g} s",
        f"- simulated: {metrics['steps']} steps ({metrics['duration_s']:g} s) x "
        f"{metrics['batch']} trial(s)",
    ]
    if "dataset" in metrics:
        ds = metrics["dataset"]
        lines.append(
            f"- input: dataset `{ds['name']}`, split `{ds['split']}`, {ds['samples']} samples"
        )
    elif spec.stimulus is not None:
        lines.append(f"- input: {spec.stimulus['kind']} stimulus")
    lines += [
        "",
        "## Activity",
        "",
        "| population | model | neurons | rate (Hz) | CV of ISI | graded output |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, st in metrics.get("populations", {}).items():
        lines.append(
            f"| {name} | {st['model']} | {st['neurons']} | "
            + " | ".join(_activity_cells(st))
            + " |"
        )
    if "training" in metrics:
        lines += ["", "## Training", ""]
        lines += [f"- {k}: {v}" for k, v in metrics["training"].items()]
    if "deployment" in metrics:
        dep = metrics["deployment"]
        lines += [
            "",
            "## Deployment",
            "",
            f"- target: `{dep['target']}`",
            f"- issues: {len(dep['issues'])}",
        ]
        lines += [f"- {k}: {v}" for k, v in dep.get("resources", {}).items()]
    if "analysis" in metrics:
        lines += ["", "## Analyses", ""]
        lines += [f"- {name}: {len(m)} metrics" for name, m in metrics["analysis"].items()]
        lines += extra
    lines += ["", "## Timings", ""]
    lines += [f"- {k}: {v:.2f} s" for k, v in metrics["timings_s"].items()]
    lines += [
        "",
        "Files: `experiment.toml`, `network.toml`, `metrics.json`, `parameters.npz`, "
        "`recordings.npz`.",
        "",
    ]
    return "\n".join(lines)


def _rates_table(metrics: Mapping[str, Any]) -> Table:
    table = Table(
        title=f"{metrics['experiment']}: {metrics['duration_s']:g} s simulated on "
        f"{metrics['backend']}"
    )
    table.add_column("population")
    table.add_column("neurons", justify="right")
    table.add_column("rate (Hz)", justify="right")
    table.add_column("CV of ISI", justify="right")
    table.add_column("graded output")
    for name, st in metrics.get("populations", {}).items():
        table.add_row(name, str(st["neurons"]), *_activity_cells(st))
    return table


def _activity_cells(st: Mapping[str, Any]) -> tuple[str, str, str]:
    """Rate, CV of ISI and graded output of one population's activity entry."""
    if "rate_hz" in st:
        return f"{st['rate_hz']:.2f}", _fmt(st["cv_isi"], ".2f"), "-"
    return "-", "-", f"{st['output']} {_fmt(st['mean'], '.3g')} ± {_fmt(st['std'], '.3g')}"
