"""Network files: a lossless round trip through JSON and TOML, with an ``.npz`` sidecar.

File schema (``format = "neuropil-network"``, ``version = 1``)
----------------------------------------------------------------
The top level holds ``format``, ``version``, ``dt`` (seconds), ``name``, ``metadata`` and the
lists ``inputs``, ``populations``, ``projections`` and ``probes``; each entry holds every field of
its dataclass under the field's name (see :mod:`neuropil._network`). ``format`` and ``version``
may be left out of a hand-written file (version 1 is assumed); a newer version is refused.

* Fields whose value is ``None`` are left out (TOML has no null); a missing field takes the
  dataclass default.
* Tuples (``shape``, ``kernel_size``, ``stride``, ``padding``) are lists.
* Scalars stay scalars: parameters are floats; options keep their type (str, bool or int).
* ``weights`` is an array (below) or an initialiser ``{"init": kind, "params": {...},
  "seed": n}``; ``plasticity`` is ``{"rule": name, "params": {...}, "options": {...}}``.
* An array is ``{"array": <nested lists>, "dtype": "float64"}`` written inline (with
  ``"shape"`` too when it is empty), or ``{"npz": key, "dtype": ..., "shape": [...]}``: the
  array ``key`` of the sidecar ``<file>.npz`` next to the file (``net.json`` ->
  ``net.json.npz``; numpy ``savez``, read without pickle). Arrays of more than
  :data:`INLINE_MAX` elements go to the sidecar.
* ``list`` connectivity is written inline so that a person can edit it: ``pairs = [[pre, post],
  ...]`` (int64 indices); the weights, delays and mask of a ``list`` projection are inline too.
  ``sparse`` connectivity keeps ``pre`` and ``post`` as arrays.
* ``metadata`` is free-form JSON data (dicts with string keys, lists, strings, numbers,
  booleans; ``null`` only in JSON files).

Floats round-trip bit-exactly (shortest ``repr`` in both JSON and TOML).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import os
import tomllib
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tomli_w

from neuropil._atomic import write_bytes, write_text
from neuropil._network import (
    CONNECTIVITY_KINDS,
    Connectivity,
    Input,
    Network,
    Plasticity,
    Population,
    Probe,
    Projection,
    WeightInit,
    unique_projection_name,
)
from neuropil._suggest import did_you_mean
from neuropil.errors import SerializationError

__all__ = [
    "FORMAT",
    "INLINE_MAX",
    "VERSION",
    "find_null",
    "json_data",
    "load_network",
    "network_from_dict",
    "network_to_dict",
    "save_network",
    "sidecar_path",
]

FORMAT = "neuropil-network"
VERSION = 1
#: Arrays with at most this many elements are written inline.
INLINE_MAX = 16
_DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    }
)
_SUFFIXES = (".json", ".toml")


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar of a network file: ``<path>.npz``."""
    p = Path(path)
    return p.with_name(p.name + ".npz")


# -- writing ------------------------------------------------------------------------------------


def network_to_dict(
    network: Network, arrays: dict[str, npt.NDArray[Any]] | None = None
) -> dict[str, Any]:
    """The network as plain JSON/TOML data (schema in the module docs).

    Args:
        network: The network.
        arrays: When given, arrays of more than :data:`INLINE_MAX` elements are stored here
            (keyed by their place, e.g. ``"projections[0].weights"``) and referenced as
            ``{"npz": key}``; otherwise every array is written inline.

    Raises:
        SerializationError: for data that has no file form (a non-JSON metadata value, an
            array of an unsupported dtype, ``list`` indices of different lengths).
    """
    w = _Writer(arrays)
    return {
        "format": FORMAT,
        "version": VERSION,
        "dt": _num(network.dt, "dt"),
        "name": str(network.name),
        "metadata": json_data(network.metadata, "metadata"),
        "inputs": [w.input(x, f"inputs[{i}]") for i, x in enumerate(network.inputs)],
        "populations": [
            w.population(p, f"populations[{i}]") for i, p in enumerate(network.populations)
        ],
        "projections": [
            w.projection(p, f"projections[{i}]") for i, p in enumerate(network.projections)
        ],
        "probes": [w.probe(p, f"probes[{i}]") for i, p in enumerate(network.probes)],
    }


def _num(value: Any, place: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SerializationError(f"{place}: expected a number, got {value!r}")
    return float(value)


def _int(value: Any, place: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SerializationError(f"{place}: expected an integer, got {value!r}")
    return int(value)


def _option(value: Any, place: str) -> str | bool | int:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str):
        return value
    raise SerializationError(f"{place}: an option is a str, bool or int, got {value!r}")


def json_data(value: Any, place: str, *, lenient: bool = False) -> Any:
    """A deep copy of ``value`` as JSON data (tuples become lists, numpy scalars Python ones).

    Strict (network metadata, which must round-trip exactly): NaN, infinity, non-string keys
    and other objects are refused. Lenient (a run's ``metrics.json``, which only reports): NaN
    and infinity become ``null``, arrays lists, keys and other objects their ``str``.

    Raises:
        SerializationError: (strict only) naming the place of the first value with no JSON form.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        return json_data(value.item(), place, lenient=lenient)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            if lenient:
                return None
            raise SerializationError(f"{place}: {value!r} has no JSON form; use a finite number")
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) and not lenient:
                raise SerializationError(
                    f"{place}: metadata keys must be strings, got {key!r}; use str({key!r})"
                )
            out[str(key)] = json_data(item, f"{place}.{key}", lenient=lenient)
        return out
    if isinstance(value, list | tuple):
        return [json_data(item, f"{place}[{k}]", lenient=lenient) for k, item in enumerate(value)]
    if lenient:
        if isinstance(value, np.ndarray):
            return json_data(value.tolist(), place, lenient=True)
        return str(value)
    raise SerializationError(
        f"{place}: {type(value).__name__} is not JSON data; metadata holds dicts, lists, "
        "strings, numbers and booleans (convert arrays with .tolist())"
    )


class _Writer:
    def __init__(self, arrays: dict[str, npt.NDArray[Any]] | None) -> None:
        self.arrays = arrays

    def array(self, value: Any, place: str, *, inline: bool = False) -> dict[str, Any]:
        a = np.asarray(value)
        dtype = str(a.dtype)
        if dtype not in _DTYPES:
            raise SerializationError(
                f"{place}: arrays of dtype {dtype} cannot be saved; use one of "
                f"{', '.join(sorted(_DTYPES))}"
            )
        if inline or self.arrays is None or a.size <= INLINE_MAX:
            out: dict[str, Any] = {"array": a.tolist(), "dtype": dtype}
            if a.size == 0:
                out["shape"] = list(a.shape)
            return out
        self.arrays[place] = a
        return {"npz": place, "dtype": dtype, "shape": list(a.shape)}

    def param(self, value: Any, place: str, *, inline: bool = False) -> Any:
        if isinstance(value, np.ndarray):
            return self.array(value, place, inline=inline)
        return _num(value, place)

    def params(self, values: Mapping[str, Any], place: str) -> dict[str, Any]:
        return {str(k): self.param(v, f"{place}.{k}") for k, v in values.items()}

    def input(self, node: Input, place: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": str(node.name), "size": _int(node.size, f"{place}.size")}
        if node.shape is not None:
            out["shape"] = [_int(s, f"{place}.shape") for s in node.shape]
        out["metadata"] = json_data(node.metadata, f"{place}.metadata")
        return out

    def population(self, pop: Population, place: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": str(pop.name),
            "size": _int(pop.size, f"{place}.size"),
            "model": str(pop.model),
            "params": self.params(pop.params, f"{place}.params"),
            "options": {str(k): _option(v, f"{place}.options.{k}") for k, v in pop.options.items()},
            "initial_state": self.params(pop.initial_state, f"{place}.initial_state"),
            "trainable": {str(k): bool(v) for k, v in pop.trainable.items()},
            "surrogate": str(pop.surrogate),
            "surrogate_params": {
                str(k): _num(v, f"{place}.surrogate_params.{k}")
                for k, v in pop.surrogate_params.items()
            },
        }
        if pop.shape is not None:
            out["shape"] = [_int(s, f"{place}.shape") for s in pop.shape]
        out["metadata"] = json_data(pop.metadata, f"{place}.metadata")
        return out

    def connectivity(self, conn: Connectivity, place: str) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": str(conn.kind)}
        if conn.kind == "list" and conn.pre is not None and conn.post is not None:
            pre, post = np.asarray(conn.pre).ravel(), np.asarray(conn.post).ravel()
            if pre.shape != post.shape:
                raise SerializationError(
                    f"{place}: list connectivity has {pre.size} pre and {post.size} post "
                    "indices; give one (pre, post) pair per synapse"
                )
            out["pairs"] = [[int(a), int(b)] for a, b in zip(pre, post, strict=True)]
        else:
            if conn.pre is not None:
                out["pre"] = self.array(conn.pre, f"{place}.pre")
            if conn.post is not None:
                out["post"] = self.array(conn.post, f"{place}.post")
        if conn.kernel_size is not None:
            out["kernel_size"] = [_int(s, f"{place}.kernel_size") for s in conn.kernel_size]
        out["stride"] = [_int(s, f"{place}.stride") for s in conn.stride]
        out["padding"] = [_int(s, f"{place}.padding") for s in conn.padding]
        if conn.p is not None:
            out["p"] = _num(conn.p, f"{place}.p")
        out["seed"] = _int(conn.seed, f"{place}.seed")
        out["allow_autapses"] = bool(conn.allow_autapses)
        return out

    def projection(self, proj: Projection, place: str) -> dict[str, Any]:
        inline = proj.connectivity.kind == "list"
        out: dict[str, Any] = {
            "name": str(proj.name),
            "pre": str(proj.pre),
            "post": str(proj.post),
            "synapse": str(proj.synapse),
            "synapse_params": self.params(proj.synapse_params, f"{place}.synapse_params"),
            "synapse_options": {
                str(k): _option(v, f"{place}.synapse_options.{k}")
                for k, v in proj.synapse_options.items()
            },
            "connectivity": self.connectivity(proj.connectivity, f"{place}.connectivity"),
        }
        if isinstance(proj.weights, WeightInit):
            init = proj.weights
            out["weights"] = {
                "init": str(init.kind),
                "params": {
                    str(k): _num(v, f"{place}.weights.params.{k}") for k, v in init.params.items()
                },
                "seed": _int(init.seed, f"{place}.weights.seed"),
            }
        else:
            out["weights"] = self.array(proj.weights, f"{place}.weights", inline=inline)
        if isinstance(proj.delay, np.ndarray):
            out["delay"] = self.array(proj.delay, f"{place}.delay", inline=inline)
        else:
            out["delay"] = _int(proj.delay, f"{place}.delay")
        if proj.plasticity is not None:
            plast = proj.plasticity
            out["plasticity"] = {
                "rule": str(plast.rule),
                "params": {
                    str(k): _num(v, f"{place}.plasticity.params.{k}")
                    for k, v in plast.params.items()
                },
                "options": {
                    str(k): _option(v, f"{place}.plasticity.options.{k}")
                    for k, v in plast.options.items()
                },
            }
        if proj.sign is not None:
            out["sign"] = str(proj.sign)
        if proj.mask is not None:
            out["mask"] = self.array(proj.mask, f"{place}.mask", inline=inline)
        out["trainable_weights"] = bool(proj.trainable_weights)
        out["trainable_delays"] = bool(proj.trainable_delays)
        out["metadata"] = json_data(proj.metadata, f"{place}.metadata")
        return out

    def probe(self, probe: Probe, place: str) -> dict[str, Any]:
        out: dict[str, Any] = {"target": str(probe.target), "variable": str(probe.variable)}
        if probe.index is not None:
            out["index"] = self.array(probe.index, f"{place}.index")
        return out


# -- reading ------------------------------------------------------------------------------------


def network_from_dict(
    data: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]] | None = None
) -> Network:
    """The inverse of :func:`network_to_dict`.

    Args:
        data: The file's data.
        arrays: The sidecar's arrays, for ``{"npz": key}`` references.

    Raises:
        SerializationError: naming the place of the first problem (``populations[0].size:
            expected an integer, got 'ten'``).
    """
    return _Reader(arrays).network(data)


_NETWORK_KEYS = (
    "format",
    "version",
    "sidecar_sha256",
    "dt",
    "name",
    "metadata",
    "inputs",
    "populations",
    "projections",
    "probes",
)
_INPUT_KEYS = ("name", "size", "shape", "metadata")
_POPULATION_KEYS = (
    "name",
    "size",
    "model",
    "params",
    "options",
    "initial_state",
    "trainable",
    "surrogate",
    "surrogate_params",
    "shape",
    "metadata",
)
_CONNECTIVITY_KEYS = (
    "kind",
    "pre",
    "post",
    "pairs",
    "kernel_size",
    "stride",
    "padding",
    "p",
    "seed",
    "allow_autapses",
)
_PROJECTION_KEYS = (
    "name",
    "pre",
    "post",
    "synapse",
    "synapse_params",
    "synapse_options",
    "connectivity",
    "weights",
    "delay",
    "plasticity",
    "sign",
    "mask",
    "trainable_weights",
    "trainable_delays",
    "metadata",
)
_PROBE_KEYS = ("target", "variable", "index")


def _table(value: Any, place: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SerializationError(f"{place}: expected a table, got {value!r}")
    for key in value:
        if key not in keys:
            hint = did_you_mean(key, keys) or f"; allowed: {', '.join(keys)}"
            raise SerializationError(f"{place}: unknown key {key!r}{hint}")
    return value


def _default_names(projections: list[Projection]) -> list[Projection]:
    """Name unnamed projections ``pre->post`` (``pre->post#2``... when taken), as the builder."""
    taken = {p.name for p in projections if p.name}
    for proj in projections:
        if not proj.name:
            proj.name = unique_projection_name(proj.pre, proj.post, taken)
            taken.add(proj.name)
    return projections


def _need(table: Mapping[str, Any], key: str, place: str) -> Any:
    if key not in table:
        raise SerializationError(f"{place}: missing {key!r}")
    return table[key]


def _str(value: Any, place: str) -> str:
    if not isinstance(value, str):
        raise SerializationError(f"{place}: expected a string, got {value!r}")
    return value


def _bool(value: Any, place: str) -> bool:
    if not isinstance(value, bool):
        raise SerializationError(f"{place}: expected true or false, got {value!r}")
    return value


def _ints(value: Any, place: str, length: int | None = None) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise SerializationError(f"{place}: expected a list of integers, got {value!r}")
    if length is not None and len(value) != length:
        raise SerializationError(f"{place}: expected {length} integers, got {len(value)}")
    return tuple(_int(v, place) for v in value)


def _pair(value: Any, place: str) -> tuple[int, int]:
    a, b = _ints(value, place, 2)
    return (a, b)


class _Reader:
    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]] | None) -> None:
        self.arrays = arrays

    def array(self, value: Any, place: str) -> npt.NDArray[Any]:
        if not isinstance(value, Mapping) or not ({"array", "npz"} & set(value)):
            raise SerializationError(
                f'{place}: expected an array {{"array": [...], "dtype": ...}} or '
                f'{{"npz": key, ...}}, got {value!r}'
            )
        dtype = _str(_need(value, "dtype", place), f"{place}.dtype")
        if dtype not in _DTYPES:
            raise SerializationError(
                f"{place}.dtype: unsupported dtype {dtype!r}; use one of "
                f"{', '.join(sorted(_DTYPES))}"
            )
        shape = _ints(value["shape"], f"{place}.shape") if "shape" in value else None
        if "npz" in value:
            key = _str(value["npz"], f"{place}.npz")
            if self.arrays is None or key not in self.arrays:
                raise SerializationError(
                    f"{place}: the sidecar has no array {key!r}; the .npz file does not belong "
                    "to this network file (save the network again)"
                )
            a = np.asarray(self.arrays[key])
            if str(a.dtype) != dtype or (shape is not None and a.shape != shape):
                raise SerializationError(
                    f"{place}: sidecar array {key!r} is {a.dtype}{list(a.shape)}, the file "
                    f"says {dtype}{list(shape or a.shape)}; the .npz file does not belong to "
                    "this network file (save the network again)"
                )
            return a.copy()
        try:
            a = np.array(value["array"], dtype=dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            raise SerializationError(f"{place}: not a {dtype} array: {exc}") from exc
        if shape is not None:
            if a.size != math.prod(shape):
                raise SerializationError(
                    f"{place}: {a.size} values do not fill shape {list(shape)}"
                )
            a = a.reshape(shape)
        return a

    def param(self, value: Any, place: str) -> float | npt.NDArray[Any]:
        if isinstance(value, Mapping):
            return self.array(value, place)
        return _num(value, place)

    def params(self, value: Any, place: str) -> dict[str, Any]:
        table = self.mapping(value, place)
        return {k: self.param(v, f"{place}.{k}") for k, v in table.items()}

    def floats(self, value: Any, place: str) -> dict[str, float]:
        table = self.mapping(value, place)
        return {k: _num(v, f"{place}.{k}") for k, v in table.items()}

    def options(self, value: Any, place: str) -> dict[str, str | bool | int]:
        table = self.mapping(value, place)
        return {k: _option(v, f"{place}.{k}") for k, v in table.items()}

    @staticmethod
    def mapping(value: Any, place: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise SerializationError(f"{place}: expected a table, got {value!r}")
        return value

    @staticmethod
    def metadata(table: Mapping[str, Any], place: str) -> dict[str, Any]:
        value = table.get("metadata", {})
        if not isinstance(value, Mapping):
            raise SerializationError(f"{place}.metadata: expected a table, got {value!r}")
        return dict(copy.deepcopy(value))

    def items(self, data: Mapping[str, Any], key: str, read: Callable[[Any, str], Any]) -> Any:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise SerializationError(f"{key}: expected a list, got {value!r}")
        return [read(item, f"{key}[{k}]") for k, item in enumerate(value)]

    def network(self, data: Mapping[str, Any]) -> Network:
        data = _table(data, "network", _NETWORK_KEYS)
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            raise SerializationError(
                f"format: this is not a neuropil network file (format {fmt!r}, expected {FORMAT!r})"
            )
        version = _int(data.get("version", VERSION), "version")
        if version > VERSION:
            raise SerializationError(
                f"version: the file is format version {version}, this neuropil reads up to "
                f"version {VERSION}; upgrade neuropil (pip install -U neuropil)"
            )
        if version < 1:
            raise SerializationError(f"version: expected a version >= 1, got {version}")
        return Network(
            dt=_num(_need(data, "dt", "network"), "dt"),
            inputs=self.items(data, "inputs", self.input),
            populations=self.items(data, "populations", self.population),
            projections=_default_names(self.items(data, "projections", self.projection)),
            probes=self.items(data, "probes", self.probe),
            name=_str(data.get("name", "network"), "name"),
            metadata=self.metadata(data, "network"),
        )

    def input(self, value: Any, place: str) -> Input:
        t = _table(value, place, _INPUT_KEYS)
        return Input(
            name=_str(_need(t, "name", place), f"{place}.name"),
            size=_int(_need(t, "size", place), f"{place}.size"),
            shape=_ints(t["shape"], f"{place}.shape") if "shape" in t else None,
            metadata=self.metadata(t, place),
        )

    def population(self, value: Any, place: str) -> Population:
        t = _table(value, place, _POPULATION_KEYS)
        trainable = self.mapping(t.get("trainable", {}), f"{place}.trainable")
        return Population(
            name=_str(_need(t, "name", place), f"{place}.name"),
            size=_int(_need(t, "size", place), f"{place}.size"),
            model=_str(_need(t, "model", place), f"{place}.model"),
            params=self.params(t.get("params", {}), f"{place}.params"),
            options=self.options(t.get("options", {}), f"{place}.options"),
            initial_state=self.params(t.get("initial_state", {}), f"{place}.initial_state"),
            trainable={k: _bool(v, f"{place}.trainable.{k}") for k, v in trainable.items()},
            surrogate=_str(t.get("surrogate", "fast_sigmoid"), f"{place}.surrogate"),
            surrogate_params=self.floats(
                t.get("surrogate_params", {}), f"{place}.surrogate_params"
            ),
            shape=_ints(t["shape"], f"{place}.shape") if "shape" in t else None,
            metadata=self.metadata(t, place),
        )

    def connectivity(self, value: Any, place: str) -> Connectivity:
        t = _table(value, place, _CONNECTIVITY_KEYS)
        kind = _str(t.get("kind", "dense"), f"{place}.kind")
        if kind not in CONNECTIVITY_KINDS:
            hint = did_you_mean(kind, CONNECTIVITY_KINDS) or "; use one of " + ", ".join(
                CONNECTIVITY_KINDS
            )
            raise SerializationError(f"{place}.kind: unknown connectivity {kind!r}{hint}")
        pre: npt.NDArray[np.int64] | None = None
        post: npt.NDArray[np.int64] | None = None
        if "pairs" in t:
            pairs = t["pairs"]
            if not isinstance(pairs, list) or not all(
                isinstance(row, list | tuple) and len(row) == 2 for row in pairs
            ):
                raise SerializationError(
                    f"{place}.pairs: expected rows [pre, post], e.g. [[0, 1], [2, 0]]"
                )
            rows = [_pair(row, f"{place}.pairs[{k}]") for k, row in enumerate(pairs)]
            arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
            pre, post = arr[:, 0].copy(), arr[:, 1].copy()
        if "pre" in t:
            pre = self.array(t["pre"], f"{place}.pre")
        if "post" in t:
            post = self.array(t["post"], f"{place}.post")
        p = t.get("p")
        return Connectivity(
            kind=kind,  # type: ignore[arg-type]
            pre=pre,
            post=post,
            kernel_size=_pair(t["kernel_size"], f"{place}.kernel_size")
            if "kernel_size" in t
            else None,
            stride=_pair(t.get("stride", [1, 1]), f"{place}.stride"),
            padding=_pair(t.get("padding", [0, 0]), f"{place}.padding"),
            p=None if p is None else _num(p, f"{place}.p"),
            seed=_int(t.get("seed", 0), f"{place}.seed"),
            allow_autapses=_bool(t.get("allow_autapses", False), f"{place}.allow_autapses"),
        )

    def weights(self, value: Any, place: str) -> npt.NDArray[Any] | WeightInit:
        if isinstance(value, Mapping) and "init" in value:
            t = _table(value, place, ("init", "params", "seed"))
            return WeightInit(
                kind=_str(t["init"], f"{place}.init"),
                params=self.floats(t.get("params", {}), f"{place}.params"),
                seed=_int(t.get("seed", 0), f"{place}.seed"),
            )
        if not isinstance(value, Mapping):
            raise SerializationError(
                f'{place}: expected an array or an initialiser {{"init": "normal", '
                f'"params": {{"std": 0.1}}, "seed": 0}}, got {value!r}'
            )
        return self.array(value, place)

    def projection(self, value: Any, place: str) -> Projection:
        t = _table(value, place, _PROJECTION_KEYS)
        delay_value = t.get("delay", 1)
        delay: int | npt.NDArray[Any]
        if isinstance(delay_value, Mapping):
            delay = self.array(delay_value, f"{place}.delay")
        else:
            delay = _int(delay_value, f"{place}.delay")
        plasticity = None
        if "plasticity" in t:
            pt = _table(t["plasticity"], f"{place}.plasticity", ("rule", "params", "options"))
            plasticity = Plasticity(
                rule=_str(_need(pt, "rule", f"{place}.plasticity"), f"{place}.plasticity.rule"),
                params=self.floats(pt.get("params", {}), f"{place}.plasticity.params"),
                options=self.options(pt.get("options", {}), f"{place}.plasticity.options"),
            )
        sign = t.get("sign")
        if sign is not None and sign not in ("excitatory", "inhibitory"):
            raise SerializationError(
                f"{place}.sign: expected 'excitatory' or 'inhibitory' (or leave it out), "
                f"got {sign!r}"
            )
        pre = _str(_need(t, "pre", place), f"{place}.pre")
        post = _str(_need(t, "post", place), f"{place}.post")
        # Defaults as the builder's: name "pre->post" (made unique in `network`), and
        # kaiming_uniform weights seeded by the projection's position.
        index = int(place.rpartition("[")[2].rstrip("]") or 0)
        return Projection(
            name=_str(t["name"], f"{place}.name") if "name" in t else "",
            pre=pre,
            post=post,
            synapse=_str(t.get("synapse", "delta"), f"{place}.synapse"),
            synapse_params=self.params(t.get("synapse_params", {}), f"{place}.synapse_params"),
            synapse_options=self.options(t.get("synapse_options", {}), f"{place}.synapse_options"),
            connectivity=self.connectivity(t.get("connectivity", {}), f"{place}.connectivity"),
            weights=(
                self.weights(t["weights"], f"{place}.weights")
                if "weights" in t
                else WeightInit("kaiming_uniform", {"gain": 1.0}, seed=index)
            ),
            delay=delay,
            plasticity=plasticity,
            sign=sign,
            mask=self.array(t["mask"], f"{place}.mask") if "mask" in t else None,
            trainable_weights=_bool(t.get("trainable_weights", True), f"{place}.trainable_weights"),
            trainable_delays=_bool(t.get("trainable_delays", False), f"{place}.trainable_delays"),
            metadata=self.metadata(t, place),
        )

    def probe(self, value: Any, place: str) -> Probe:
        t = _table(value, place, _PROBE_KEYS)
        return Probe(
            target=_str(_need(t, "target", place), f"{place}.target"),
            variable=_str(t.get("variable", "spikes"), f"{place}.variable"),
            index=self.array(t["index"], f"{place}.index") if "index" in t else None,
        )


# -- files --------------------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise SerializationError(
            f"{path}: unknown network file type {path.suffix or '(none)'!r}; name the file "
            f"'{path.stem}.json' or '{path.stem}.toml'",
            str(path),
        )
    return suffix


def find_null(value: Any, place: str = "") -> str | None:
    """The place of the first ``None`` in file data (TOML has no null), or ``None``."""
    if value is None:
        return place
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = find_null(item, f"{place}.{key}" if place else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for k, item in enumerate(value):
            found = find_null(item, f"{place}[{k}]")
            if found:
                return found
    return None


def save_network(network: Network, path: str | os.PathLike[str]) -> None:
    """Write ``network`` to ``path`` (``.json`` or ``.toml``) and its sidecar ``<path>.npz``.

    Both files are written atomically (a temporary file in the same folder, then
    ``os.replace``; mode ``0o666 & ~umask``), the sidecar first. The file records the sidecar's
    SHA-256 (``sidecar_sha256``) so that a load notices a sidecar from another save. A stale
    sidecar is removed, after the file is replaced, when the network has no large arrays.

    Raises:
        SerializationError: for another suffix, data that has no file form (NaN in JSON, null
            in TOML), or a place that cannot be written.
    """
    target = Path(path)
    suffix = _suffix(target)
    arrays: dict[str, npt.NDArray[Any]] = {}
    data = network_to_dict(network, arrays)
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        blob = buffer.getvalue()
        data["sidecar_sha256"] = hashlib.sha256(blob).hexdigest()
    if suffix == ".json":
        try:
            text = json.dumps(data, indent=2, allow_nan=False) + "\n"
        except ValueError as exc:
            raise SerializationError(
                f"{target}: the network holds NaN or infinity, which JSON cannot store; "
                "run network.validate() to find it",
                str(target),
            ) from exc
    else:
        null = find_null(data)
        if null is not None:
            raise SerializationError(
                f"{target}: {null} is null, which TOML cannot store; remove it or save as .json",
                str(target),
            )
        text = tomli_w.dumps(data)
    sidecar = sidecar_path(target)
    try:
        if arrays:
            write_bytes(sidecar, blob)
        write_text(target, text)
        if not arrays and sidecar.exists():
            sidecar.unlink()
    except OSError as exc:
        raise SerializationError(
            f"{target}: cannot write the network: {exc}; check that the folder exists and is "
            "writable",
            str(target),
        ) from exc


def _read_text(source: Path, what: str) -> str:
    """The UTF-8 text of ``source``, every failure a :class:`SerializationError` with the fix."""
    try:
        return source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SerializationError(f"{source}: no such {what}", str(source)) from exc
    except IsADirectoryError as exc:
        raise SerializationError(
            f"{source} is a directory; give the path of the {what} itself", str(source)
        ) from exc
    except PermissionError as exc:
        raise SerializationError(
            f"{source}: permission denied; make the {what} readable (chmod u+r)", str(source)
        ) from exc
    except OSError as exc:
        raise SerializationError(f"{source}: cannot read: {exc}", str(source)) from exc
    except UnicodeDecodeError as exc:
        raise SerializationError(
            f"{source} is not a text file (not UTF-8 at byte {exc.start}); give a {what} "
            "written as JSON or TOML",
            str(source),
        ) from exc


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network file written by :func:`save_network` or by hand.

    Raises:
        SerializationError: for a missing, unreadable or binary file, invalid JSON/TOML (with
            the line), another format or a newer version, a missing, damaged or mismatched
            sidecar, or wrong types (with the place: ``populations[0].size: expected an
            integer, got 'ten'``).
    """
    source = Path(path)
    suffix = _suffix(source)
    text = _read_text(source, "network file")
    data: Any
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SerializationError(
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                str(source),
            ) from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SerializationError(f"{source}: invalid TOML: {exc}", str(source)) from exc
    if not isinstance(data, dict):
        raise SerializationError(f"{source}: expected a table at the top level", str(source))
    digest = data.get("sidecar_sha256")
    if digest is not None and not isinstance(digest, str):
        raise SerializationError(
            f"{source}: sidecar_sha256: expected a hex string, got {digest!r}", str(source)
        )
    arrays = _Sidecar(source, digest)
    try:
        return network_from_dict(data, arrays)
    except SerializationError as exc:
        raise SerializationError(f"{source}: {exc}", exc.path or str(source)) from exc


class _Sidecar(Mapping[str, npt.NDArray[Any]]):
    """The arrays of a network file's sidecar, read on first use (a file without ``npz``
    references needs no sidecar), checked against the file's ``sidecar_sha256`` when it has one
    (hand-written files need not)."""

    def __init__(self, source: Path, digest: str | None) -> None:
        self.source = source
        self.path = sidecar_path(source)
        self.digest = digest
        self._arrays: dict[str, npt.NDArray[Any]] | None = None

    def _load(self) -> dict[str, npt.NDArray[Any]]:
        if self._arrays is not None:
            return self._arrays
        if not self.path.exists():
            raise SerializationError(
                f"its arrays are in {self.path.name}, which is missing; keep the .npz "
                "file next to the network file (they are saved and moved together)",
                str(self.path),
            )
        try:
            blob = self.path.read_bytes()
        except OSError as exc:
            raise SerializationError(
                f"cannot read the sidecar {self.path.name}: {exc}", str(self.path)
            ) from exc
        try:
            loaded = np.load(io.BytesIO(blob), allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded as npz:
                    self._arrays = {key: npz[key] for key in npz.files}
                cause = ""
            else:
                cause = "a single .npy array, not an .npz archive"
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            cause = str(exc) or type(exc).__name__
        if self._arrays is None:
            raise SerializationError(
                f"{self.path.name} is not a readable .npz sidecar ({cause}): it is truncated "
                "or was not written by Network.save; save the network again",
                str(self.path),
            )
        if self.digest is not None and hashlib.sha256(blob).hexdigest() != self.digest:
            raise SerializationError(
                f"the sidecar {self.path.name} does not belong to {self.source.name} (it was "
                "written by another save); save the network again",
                str(self.path),
            )
        return self._arrays

    def __getitem__(self, key: str) -> npt.NDArray[Any]:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
