"""Checks of hardware targets, datasets and encoders."""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

import numpy as np

from neuropil import Network
from neuropil.protocols import (
    Dataset,
    HardwareIssue,
    HardwareTarget,
    SimulationResult,
    encoded_shape,
)
from neuropil_testkit import networks, stimuli
from neuropil_testkit._checks_backends import compare_results
from neuropil_testkit._components import component_name, create_engine

__all__ = [
    "check_dataset_info",
    "check_emulation_deterministic",
    "check_emulation_matches_reference",
    "check_encoder_shape_and_determinism",
    "check_export_writes_files",
    "check_samples_match_info",
    "check_split_deterministic",
    "check_target_reports_issues",
]

#: Samples per split that the dataset checks read (datasets can be large).
SAMPLES_CHECKED = 8


def check_target_reports_issues(target: Any, *, network: Network | None = None) -> None:
    """``check`` of a network too big for the chip returns errors, and ``check`` of
    :func:`~neuropil_testkit.networks.deployable` returns none.

    Args:
        target: Registry name or target object.
        network: The oversized network; :func:`~neuropil_testkit.networks.oversized` (2 Mi
            LIF neurons, each driven one-to-one by an input channel) by default.
    """
    name = component_name(target)
    chip: HardwareTarget = create_engine("target", target)
    big = network if network is not None else networks.oversized()
    issues = chip.check(big)
    if not isinstance(issues, list) or not all(isinstance(i, HardwareIssue) for i in issues):
        raise AssertionError(
            f"target {name!r}: check() must return a list of HardwareIssue, got {issues!r}"
        )
    errors = [i for i in issues if i.severity == "error"]
    if not errors:
        raise AssertionError(
            f"target {name!r} reported no error for network {big.name!r} "
            f"({sum(p.size for p in big.populations)} neurons); check() must compare the "
            "network with the chip's limits"
        )
    for issue in issues:
        if not issue.path or not issue.message:
            raise AssertionError(f"target {name!r}: issue {issue!r} lacks a path or a message")
        if issue.severity not in ("error", "warning"):
            raise AssertionError(
                f"target {name!r}: issue severity {issue.severity!r} is not 'error' or 'warning'"
            )
    small = chip.check(networks.deployable())
    small_errors = [i for i in small if i.severity == "error"]
    if small_errors:
        raise AssertionError(
            f"target {name!r} refuses the small standard network 'deployable' (20 LIF "
            f"neurons): {'; '.join(f'{i.path}: {i.message}' for i in small_errors)}"
        )


#: The stimulus of the emulation checks: ``steps``, ``batch``, ``rate_hz``, ``seed``.
EMULATION_STEPS, EMULATION_BATCH, EMULATION_RATE_HZ, EMULATION_SEED = 40, 2, 300.0, 2
#: How far a chip's spike count may be from the float reference's, per neuron and batch entry.
SPIKE_COUNT_TOLERANCE = 1
_PROBED = ("hidden.spikes", "out.spikes")


def _emulate(chip: HardwareTarget) -> tuple[SimulationResult, Any]:
    net = networks.deployable()
    inputs = stimuli.network_inputs(
        net,
        steps=EMULATION_STEPS,
        batch=EMULATION_BATCH,
        rate_hz=EMULATION_RATE_HZ,
        seed=EMULATION_SEED,
    )
    deployment = chip.deploy(net)
    return deployment.emulate(inputs, steps=EMULATION_STEPS), deployment


def _require_probes(name: str, result: SimulationResult) -> None:
    for key in _PROBED:
        if key not in result.recordings:
            raise AssertionError(
                f"target {name!r}: emulate() did not record probe {key!r}; recorded: "
                f"{sorted(result.recordings)}"
            )


def check_emulation_deterministic(target: Any) -> None:
    """Deploying :func:`~neuropil_testkit.networks.deployable` and emulating it twice on the
    same input gives identical recordings of the probed spikes, and ``resources()`` is a dict."""
    name = component_name(target)
    chip: HardwareTarget = create_engine("target", target)
    first, _ = _emulate(chip)
    second, second_deployment = _emulate(chip)
    _require_probes(name, first)
    compare_results(
        first,
        second,
        exact=lambda key: True,
        what=f"target {name!r} emulating the same deployment twice",
    )
    resources = second_deployment.resources()
    if not isinstance(resources, dict):
        raise AssertionError(
            f"target {name!r}: resources() returned {type(resources).__name__}, expected a dict"
        )


def check_emulation_matches_reference(target: Any) -> None:
    """The emulation of :func:`~neuropil_testkit.networks.deployable` is not trivial and agrees
    with the float64 reference engine within the chip's quantisation.

    On 40 steps of 300 Hz Poisson input (batch 2, seed 2), both probed populations (``hidden``,
    16 neurons, and ``out``, 4) must spike in the emulation, and every neuron's spike count in
    every batch entry must be within +/-1 (:data:`SPIKE_COUNT_TOLERANCE`) of the reference
    engine's. Counts, not spike times, are compared: a chip's fixed-point membrane may reach
    the threshold a step earlier or later than float64, but must not gain or lose spikes. On
    the reference engine both populations fire at about 10 % of steps (4 spikes per neuron),
    so a silent or saturated emulator fails.
    """
    name = component_name(target)
    chip: HardwareTarget = create_engine("target", target)
    got, _ = _emulate(chip)
    _require_probes(name, got)
    net = networks.deployable()
    ref = networks.simulate_reference(
        net,
        steps=EMULATION_STEPS,
        batch=EMULATION_BATCH,
        seed=EMULATION_SEED,
        rate_hz=EMULATION_RATE_HZ,
    )
    for key in _PROBED:
        spikes = np.asarray(got.recordings[key], dtype=np.float64)
        want = np.asarray(ref.recordings[key], dtype=np.float64)
        if spikes.shape != want.shape:
            raise AssertionError(
                f"target {name!r}: emulate() recorded {key!r} with shape {spikes.shape}, "
                f"expected [T, B, n] = {want.shape}"
            )
        if not spikes.any():
            raise AssertionError(
                f"target {name!r}: the emulation of 'deployable' has no spike in {key!r} "
                f"(the reference engine has {int(want.sum())}); check the weight scaling and "
                "the threshold of the mapped neurons"
            )
        diff = spikes.sum(axis=0) - want.sum(axis=0)
        bad = np.abs(diff) > SPIKE_COUNT_TOLERANCE
        if bad.any():
            b, n = (int(i) for i in np.argwhere(bad)[0])
            raise AssertionError(
                f"target {name!r}: the emulation of 'deployable' disagrees with the float "
                f"reference at {key!r}: neuron {n} of batch entry {b} spikes "
                f"{int(spikes[:, b, n].sum())} times, the reference {int(want[:, b, n].sum())} "
                f"(+/-{SPIKE_COUNT_TOLERANCE} allowed); {int(bad.sum())} of {bad.size} counts "
                "are off"
            )


def check_export_writes_files(target: Any) -> None:
    """``export(path)`` of the deployed :func:`~neuropil_testkit.networks.deployable` writes
    files and returns them: a non-empty list of paths (absolute, or relative to ``path``) of
    regular, non-empty files inside ``path``."""
    name = component_name(target)
    chip: HardwareTarget = create_engine("target", target)
    deployment = chip.deploy(networks.deployable())
    with tempfile.TemporaryDirectory() as tmp:
        files = deployment.export(tmp)
        if not isinstance(files, list) or not files:
            raise AssertionError(
                f"target {name!r}: export() returned {files!r}; return the list of the files "
                "it wrote"
            )
        root = os.path.realpath(tmp)
        for f in files:
            full = os.path.realpath(os.path.join(tmp, os.fspath(f)))
            if not os.path.isfile(full) or os.path.getsize(full) == 0:
                raise AssertionError(
                    f"target {name!r}: export() returned {os.fspath(f)!r}, which is not a "
                    "written, non-empty file"
                )
            if os.path.commonpath([root, full]) != root:
                raise AssertionError(
                    f"target {name!r}: export() wrote {os.fspath(f)!r} outside the folder it "
                    f"was given ({tmp})"
                )


def _dataset(dataset: Any) -> tuple[Dataset, str]:
    return create_engine("dataset", dataset), component_name(dataset)


def check_dataset_info(dataset: Any) -> None:
    """``info`` is complete: name, shape, classes, dt, steps, split sizes, licence, citation."""
    ds, name = _dataset(dataset)
    info = ds.info
    problems: list[str] = []
    if not info.name:
        problems.append("name is empty")
    if (
        not isinstance(info.shape, tuple)
        or not info.shape
        or not all(isinstance(s, int) and s > 0 for s in info.shape)
    ):
        problems.append(f"shape {info.shape!r} is not a tuple of positive ints")
    if not info.classes or not all(isinstance(c, str) and c for c in info.classes):
        problems.append(f"classes {info.classes!r} is not a non-empty tuple of names")
    if not (isinstance(info.dt, float | int) and math.isfinite(info.dt) and info.dt > 0):
        problems.append(f"dt {info.dt!r} is not a positive number of seconds")
    if not (isinstance(info.steps, int) and info.steps > 0):
        problems.append(f"steps {info.steps!r} is not a positive int")
    if not info.size or not all(
        isinstance(k, str) and isinstance(v, int) and v > 0 for k, v in info.size.items()
    ):
        problems.append(f"size {dict(info.size)!r} does not give a positive count per split")
    if not info.licence.strip():
        problems.append("licence is empty: say under which licence the data may be used")
    if not info.citation.strip():
        problems.append("citation is empty: say how to cite the data")
    if problems:
        raise AssertionError(f"dataset {name!r} has incomplete info: " + "; ".join(problems))


def check_samples_match_info(dataset: Any) -> None:
    """The first samples of each split match ``info``: ``x`` is ``[T, *shape]`` with
    ``T <= info.steps``, finite; labels are ints in ``range(len(classes))``; each split has
    ``info.size[split]`` samples."""
    ds, name = _dataset(dataset)
    info = ds.info
    for split, size in info.size.items():
        samples = ds.split(split)
        if len(samples) != size:
            raise AssertionError(
                f"dataset {name!r}: split {split!r} has {len(samples)} samples, info.size says "
                f"{size}"
            )
        for k in range(min(SAMPLES_CHECKED, len(samples))):
            x, label = samples[k]
            x = np.asarray(x)
            where = f"dataset {name!r}, split {split!r}, sample {k}"
            if x.ndim != 1 + len(info.shape) or tuple(x.shape[1:]) != tuple(info.shape):
                raise AssertionError(
                    f"{where}: x has shape {x.shape}, expected "
                    f"[T, {', '.join(map(str, info.shape))}]"
                )
            if not 0 < x.shape[0] <= info.steps:
                raise AssertionError(
                    f"{where}: {x.shape[0]} time steps, expected 1..{info.steps} (info.steps)"
                )
            if not np.all(np.isfinite(x)):
                raise AssertionError(f"{where}: x has NaN or infinite values")
            if not isinstance(label, int | np.integer) or not 0 <= int(label) < len(info.classes):
                raise AssertionError(
                    f"{where}: label {label!r} is not an int in 0..{len(info.classes) - 1}"
                )


def check_split_deterministic(dataset: Any) -> None:
    """Reading a split twice, and from a fresh dataset object, gives the same first samples in
    the same order."""
    ds, name = _dataset(dataset)
    fresh = create_engine("dataset", dataset) if isinstance(dataset, str) else ds
    for split in ds.info.size:
        a, b, c = ds.split(split), ds.split(split), fresh.split(split)
        for k in range(min(SAMPLES_CHECKED, len(a))):
            for other, how in ((b, "a second read"), (c, "a fresh dataset object")):
                xa, la = a[k]
                xo, lo = other[k]
                if int(la) != int(lo) or not np.array_equal(np.asarray(xa), np.asarray(xo)):
                    raise AssertionError(
                        f"dataset {name!r}: sample {k} of split {split!r} differs in {how}; "
                        "splits must be deterministic (seed any shuffle)"
                    )


def check_encoder_shape_and_determinism(encoder: Any) -> None:
    """``encode`` gives ``[steps, *x.shape]`` finite values (``[steps, *output_shape(x.shape)]``
    for an encoder that changes the shape, see :class:`neuropil.protocols.Encoder`), batched or
    not, and the same output for the same generator seed."""
    enc = create_engine("encoder", encoder)
    name = component_name(encoder)
    x = np.random.default_rng(0).uniform(0.0, 1.0, (2, 5))
    for data in (x, x[0]):
        outs = [
            np.asarray(
                enc.encode(data, steps=20, dt=1e-3, rng=np.random.default_rng(np.random.PCG64(9)))
            )
            for _ in range(2)
        ]
        want = (20, *encoded_shape(enc, data.shape))
        if outs[0].shape != want:
            raise AssertionError(
                f"encoder {name!r}: encode(x of shape {data.shape}, steps=20) gave shape "
                f"{outs[0].shape}, expected {want}"
            )
        if not np.all(np.isfinite(outs[0])):
            raise AssertionError(f"encoder {name!r}: encode gave NaN or infinite values")
        if not np.array_equal(outs[0], outs[1]):
            raise AssertionError(
                f"encoder {name!r} is not deterministic: two generators with one seed gave "
                "different spikes; draw randomness only from rng"
            )
