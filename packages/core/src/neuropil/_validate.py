"""Validation of a :class:`~neuropil.Network` against the registered models' schemas.

:func:`validate_network` collects every problem and raises one
:class:`~neuropil.errors.NetworkValidationError` listing them as ``(path, message)`` pairs, where
``path`` is the exact place (``populations[1].params.tau_mem``, ``projections[2].synapse``,
``probes[0].variable``).

Names
-----
Inputs and populations share one namespace; their names are non-empty and made of letters,
digits and ``_ . : -`` (so ``"layer1.exc"``, ``"AVAL"``, ``"conv-1"``). Projection names are
unique among projections, may also use ``>`` and ``#`` (the builder's ``"a->b"``, ``"a->b#2"``),
and must differ from every input and population name, so that a probe target is unambiguous.

Typical ranges
--------------
A value inside a parameter's bounds but outside its declared typical range (``Param.typical``)
is accepted with a :class:`~neuropil.errors.UnitWarning` naming the place and the likely fix
(``populations[0].params.tau_mem: 5 s is unusually long for tau_mem (typical: up to 1 s); if you
meant milliseconds, write 5e-3``). The warnings are emitted before any error is raised.
"""

from __future__ import annotations

import math
import os
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neuropil._connectivity import (
    conv2d_output_shape,
    find_cycle,
    layout_shape,
    random_pairs_cached,
    zero_delay_edges,
)
from neuropil._initializers import check_init
from neuropil._network import CONNECTIVITY_KINDS, Input, Network, Population, Projection, WeightInit
from neuropil._schema import UNITS, Option, Param
from neuropil._suggest import did_you_mean, suggest
from neuropil.errors import (
    NetworkValidationError,
    NeuropilError,
    UnitWarning,
    UnknownComponentError,
)

if TYPE_CHECKING:
    from neuropil._registry import Registry

__all__ = [
    "MAX_SIZE",
    "NODE_NAME",
    "PROJECTION_NAME",
    "options_given_as_params",
    "validate_network",
    "warn_unit",
]

#: The pattern an input or population name must match.
NODE_NAME = re.compile(r"[A-Za-z0-9_.:\-]+")
#: The pattern a projection name must match.
PROJECTION_NAME = re.compile(r"[A-Za-z0-9_.:#>\-]+")
#: The most neurons an input or population may have (indices are int32 on some backends).
MAX_SIZE = 2**31 - 1

_KIND_WORDS = {
    "neuron": "neuron model",
    "synapse": "synapse model",
    "rule": "learning rule",
    "surrogate": "surrogate",
}
_LAYOUT_TEXT = {
    "dense": "[N_post, N_pre]",
    "sparse": "[nnz]",
    "list": "[nnz]",
    "random": "[nnz]",
    "one_to_one": "[N]",
    "conv2d": "[C_out, C_in, kh, kw]",
}


def validate_network(network: Network, registry: Registry | None = None) -> None:
    """Check ``network`` against the models of ``registry`` (the process-wide one by default).

    Raises:
        NetworkValidationError: with every problem found, each as ``(path, message)``.
    """
    if registry is None:
        from neuropil._registry import get_registry

        registry = get_registry()
    checker = _Checker(network, registry)
    problems = checker.run()
    for place, message, value in checker.unusual:
        warn_unit(f"{place}: {message}", place=place, value=value)
    if problems:
        raise NetworkValidationError(problems)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_unit(message: str, *, place: str | None = None, value: float | None = None) -> None:
    """Emit a :class:`~neuropil.errors.UnitWarning` attributed to the first caller outside the
    ``neuropil`` package (the user's ``validate()``, ``compile()`` or ``run_experiment()``
    line), so that Python's default filter shows it once per place in the user's code."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(UnitWarning(message, place=place, value=value), stacklevel=level)


def options_given_as_params(
    params: Mapping[str, Any], options: Mapping[str, Option]
) -> dict[str, int]:
    """The entries of ``params`` that name integer options (the builder cannot tell
    ``population(..., n=3)`` from a parameter), as option values."""
    out: dict[str, int] = {}
    for key, value in params.items():
        if key in options and _is_real(value) and float(value).is_integer():
            out[key] = int(value)
    return out


# -- small predicates --------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _is_numeric_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "iuf"


def _close(name: str, choices: Sequence[str]) -> str:
    return did_you_mean(name, choices)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _unit_word(param: Param) -> str:
    return "a dimensionless value" if param.unit == "1" else UNITS[param.unit]


def _bounds(param: Param) -> str:
    text = param.bounds_text()
    return text[:-2] if param.unit == "1" and text.endswith(" 1") else text


def _normalise_option(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _choice_ok(value: Any, choices: Sequence[Any]) -> bool:
    value = _normalise_option(value)
    return any(type(c) is type(value) and c == value for c in choices)


def _choice_hint(value: Any, choices: Sequence[Any]) -> str:
    """``"; did you mean 'subtract'?"`` for a misspelled string option, else ``""``."""
    if not isinstance(value, str):
        return ""
    return did_you_mean(value, [c for c in choices if isinstance(c, str)])


def _unusual(name: str, value: float, param: Param) -> str:
    """Why ``value`` (inside the bounds) is outside ``param``'s typical range."""
    high = param.typical is not None and value > param.typical[1]
    words = ("long", "short") if param.unit == "s" else ("large", "small")
    word = words[0] if high else words[1]
    unit = "" if param.unit == "1" else f" {param.unit}"
    return f"{value:g}{unit} is unusually {word} for {name} (typical: {param.typical_text()})"


class _Checker:
    def __init__(self, network: Network, registry: Registry) -> None:
        self.net = network
        self.registry = registry
        self.problems: list[tuple[str, str]] = []
        # (path, message, value) of values inside the bounds but outside the typical range.
        self.unusual: list[tuple[str, str, float]] = []
        self.nodes: dict[str, Input | Population] = {}
        self.node_ok: dict[str, bool] = {}
        self.neuron_models: dict[str, Any] = {}
        self.synapse_models: dict[int, Any] = {}
        self.layouts: dict[int, tuple[int, ...] | None] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def run(self) -> list[tuple[str, str]]:
        self.check_dt()
        for i, node in enumerate(self.net.inputs):
            self.check_node(f"inputs[{i}]", node)
        for i, pop in enumerate(self.net.populations):
            self.check_node(f"populations[{i}]", pop)
            self.check_population(f"populations[{i}]", pop)
        names: dict[str, int] = {}
        for i, proj in enumerate(self.net.projections):
            self.check_projection(i, proj, names)
        self.check_cycles()
        keys: dict[str, int] = {}
        for i, probe in enumerate(self.net.probes):
            self.check_probe(i, probe, keys)
        return self.problems

    # -- components ----------------------------------------------------------------------------

    def lookup(self, kind: str, name: Any, path: str) -> Any:
        word = _KIND_WORDS[kind]
        if not isinstance(name, str):
            self.add(path, f"expected the name of a {word}, got {name!r}")
            return None
        try:
            return getattr(self.registry, kind)(name)
        except UnknownComponentError as exc:
            msg = f"unknown {word} {name!r}"
            suggestions = exc.suggestions or suggest(name, exc.choices)
            if suggestions:
                msg += "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
            else:
                msg += "; installed: " + (", ".join(exc.choices) if exc.choices else "none")
            if exc.install_hint:
                msg += f" ({name!r} is provided by a plugin: {exc.install_hint})"
            self.add(path, msg)
        except NeuropilError as exc:
            self.add(path, str(exc))
        return None

    def check_param(
        self, path: str, name: str, value: Any, param: Param, size: int | None, owner: str
    ) -> None:
        if isinstance(value, np.ndarray):
            if size is None or not param.per_neuron:
                self.add(
                    path,
                    f"{name} takes one value ({owner} does not accept per-neuron "
                    f"arrays for it), got an array of shape {_shape_text(value.shape)}",
                )
                return
            if not _is_numeric_array(value):
                self.add(path, f"{name} must hold numbers, got an array of dtype {value.dtype}")
                return
            if value.shape != (size,):
                self.add(
                    path,
                    f"{name} has shape {_shape_text(value.shape)}; a per-neuron "
                    f"value needs shape ({size},), one per neuron",
                )
                return
            bad = ~np.isfinite(value)
            if bad.any():
                self.add(
                    path,
                    f"{name} has {int(bad.sum())} non-finite values (first at index "
                    f"{int(np.argmax(bad))}); every value must be a finite number",
                )
                return
            outside = [k for k, v in enumerate(value.tolist()) if not param.contains(v)]
            if outside:
                k = outside[0]
                v = float(value[k])
                msg = (
                    f"{name} expects {_unit_word(param)} in {_bounds(param)}; "
                    f"{len(outside)} of {size} values are outside, e.g. {v:g} at index {k}"
                )
                hint = param.unit_hint(v)
                self.add(path, msg + (f"; {hint}" if hint else ""))
                return
            unusual = [k for k, v in enumerate(value.tolist()) if not param.is_typical(v)]
            if unusual:
                k = unusual[0]
                v = float(value[k])
                prefix = param.typical_prefix(v)
                self.unusual.append(
                    (
                        path,
                        f"{len(unusual)} of {size} values are unusual, e.g. index {k}: "
                        + _unusual(name, v, param)
                        + (
                            f"; if you meant {prefix[0]}, multiply the array by 1{prefix[1]}"
                            if prefix
                            else ""
                        ),
                        v,
                    )
                )
            return
        if not _is_real(value):
            self.add(path, f"{name} expects a number in {_bounds(param)}, got {value!r}")
            return
        v = float(value)
        if not math.isfinite(v):
            self.add(path, f"{name} must be a finite number, got {v!r}")
        elif not param.contains(v):
            hint = param.unit_hint(v)
            self.add(
                path,
                f"{name} expects {_unit_word(param)} in {_bounds(param)}, got {v:g}"
                + (f"; {hint}" if hint else ""),
            )
        elif not param.is_typical(v):
            prefix = param.typical_prefix(v)
            fix = f"; if you meant {prefix[0]}, write {v:g}{prefix[1]}" if prefix else ""
            self.unusual.append((path, _unusual(name, v, param) + fix, v))

    def check_params(
        self,
        path: str,
        values: Any,
        params: Mapping[str, Param],
        options: Mapping[str, Option],
        size: int | None,
        owner: str,
    ) -> None:
        if not isinstance(values, Mapping):
            self.add(path, f"expected a dict of parameters, got {values!r}")
            return
        for key, value in values.items():
            place = f"{path}.{key}"
            if key in params:
                self.check_param(place, key, value, params[key], size, owner)
            elif key in options:
                as_option = options_given_as_params({key: value}, options)
                if key not in as_option or not _choice_ok(as_option[key], options[key].choices):
                    self.add(
                        place,
                        f"{key} is an option of {owner}, one of "
                        f"{list(options[key].choices)!r}, got {value!r}"
                        f"{_choice_hint(value, options[key].choices)}",
                    )
            else:
                known = sorted([*params, *options])
                self.add(
                    place,
                    f"{owner} has no parameter {key!r}{_close(key, known)} "
                    f"(it has: {', '.join(known) or 'none'})",
                )

    def check_options(
        self,
        path: str,
        values: Any,
        options: Mapping[str, Option],
        params: Mapping[str, Param],
        owner: str,
    ) -> None:
        if not isinstance(values, Mapping):
            self.add(path, f"expected a dict of options, got {values!r}")
            return
        for key, value in values.items():
            place = f"{path}.{key}"
            if key in options:
                if not _choice_ok(value, options[key].choices):
                    self.add(
                        place,
                        f"option {key} of {owner} must be one of "
                        f"{list(options[key].choices)!r}, got {value!r}"
                        f"{_choice_hint(value, options[key].choices)}",
                    )
            elif key in params:
                self.add(
                    place,
                    f"{key} is a parameter of {owner} ({_unit_word(params[key])}); "
                    f"give it a number, got {value!r}",
                )
            else:
                known = sorted([*options, *params])
                self.add(
                    place,
                    f"{owner} has no option {key!r}{_close(key, known)} "
                    f"(it has: {', '.join(sorted(options)) or 'none'})",
                )

    # -- network, nodes --------------------------------------------------------------------------

    def check_dt(self) -> None:
        dt = self.net.dt
        if not _is_real(dt) or not math.isfinite(float(dt)) or float(dt) <= 0:
            self.add("dt", f"dt must be a positive number of seconds, got {dt!r}")
        elif float(dt) >= 1.0:
            self.add(
                "dt", f"dt is {float(dt):g} s; dt is in seconds; did you mean {float(dt):g}e-3?"
            )

    def check_node(self, path: str, node: Input | Population) -> None:
        ok = True
        name = node.name
        if not isinstance(name, str) or not NODE_NAME.fullmatch(name):
            self.add(
                f"{path}.name",
                f"name {name!r} is not allowed: use letters, digits and _ . : - (e.g. 'hidden_1')",
            )
            ok = False
        elif name in self.nodes:
            other = self.nodes[name]
            where = "an input" if isinstance(other, Input) else "a population"
            self.add(
                f"{path}.name",
                f"the name {name!r} is already used by {where}; names of "
                "inputs and populations must be unique",
            )
            ok = False
        if not _is_int(node.size) or node.size < 1:
            self.add(f"{path}.size", f"size must be an integer >= 1, got {node.size!r}")
            ok = False
        elif node.size > MAX_SIZE:
            self.add(
                f"{path}.size",
                f"size {node.size} is too large: at most {MAX_SIZE} (2**31 - 1) neurons; "
                "split it into several populations or check the number",
            )
            ok = False
        if node.shape is not None:
            shape = node.shape
            if not isinstance(shape, tuple | list) or not all(_is_int(s) and s >= 1 for s in shape):
                self.add(f"{path}.shape", f"shape must be a tuple of integers >= 1, got {shape!r}")
                ok = False
            elif _is_int(node.size) and math.prod(shape) != node.size:
                self.add(
                    f"{path}.shape",
                    f"shape {_shape_text(tuple(shape))} has "
                    f"{math.prod(shape)} elements but size is {node.size}; make them agree",
                )
                ok = False
        if isinstance(name, str) and name not in self.nodes:
            self.nodes[name] = node
            self.node_ok[name] = ok

    def check_population(self, path: str, pop: Population) -> None:
        model = self.lookup("neuron", pop.model, f"{path}.model")
        if model is None:
            return
        if isinstance(pop.name, str) and self.nodes.get(pop.name) is pop:
            self.neuron_models[pop.name] = model
        owner = f"neuron model {pop.model!r}"
        size = pop.size if _is_int(pop.size) and pop.size >= 1 else None
        earlier: set[str] = set()
        for var, spec in model.state.items():
            if isinstance(spec.init, str) and spec.init not in set(model.params) | earlier:
                self.add(
                    f"{path}.model",
                    f"{owner} starts state {var!r} at {spec.init!r}, which is neither a "
                    "parameter nor an earlier state variable; ask its author to fix it",
                )
            earlier.add(var)
        self.check_params(f"{path}.params", pop.params, model.params, model.options, size, owner)
        self.check_options(f"{path}.options", pop.options, model.options, model.params, owner)
        for key, value in pop.initial_state.items():
            place = f"{path}.initial_state.{key}"
            if key not in model.state:
                self.add(
                    place,
                    f"{owner} has no state variable {key!r}"
                    f"{_close(key, list(model.state))} "
                    f"(it has: {', '.join(sorted(model.state)) or 'none'})",
                )
            elif isinstance(value, np.ndarray):
                if not _is_numeric_array(value) or value.shape != (size,):
                    self.add(
                        place,
                        f"initial {key} has shape {_shape_text(value.shape)} and "
                        f"dtype {value.dtype}; give a number or a float array of shape "
                        f"({pop.size},)",
                    )
                elif not np.isfinite(value).all():
                    self.add(place, f"initial {key} must be finite")
            elif not _is_real(value) or not math.isfinite(float(value)):
                self.add(place, f"initial {key} must be a finite number, got {value!r}")
        flags: Mapping[str, Any] = pop.trainable
        for key, flag in flags.items():
            place = f"{path}.trainable.{key}"
            if key not in model.params:
                self.add(
                    place,
                    f"only parameters can be trained; {owner} has no parameter "
                    f"{key!r}{_close(key, list(model.params))}",
                )
            elif not isinstance(flag, bool | np.bool_):
                self.add(place, f"expected true or false, got {flag!r}")
        surrogate = self.lookup("surrogate", pop.surrogate, f"{path}.surrogate")
        if surrogate is not None:
            self.check_params(
                f"{path}.surrogate_params",
                pop.surrogate_params,
                surrogate.params,
                {},
                None,
                f"surrogate {pop.surrogate!r}",
            )

    # -- projections ---------------------------------------------------------------------------

    def node_size(self, name: str) -> int | None:
        node = self.nodes.get(name)
        if node is None or not _is_int(node.size) or node.size < 1:
            return None
        return int(node.size)

    def node_shape(self, name: str) -> tuple[int, ...] | None:
        node = self.nodes.get(name)
        if node is None or not self.node_ok.get(name, False):
            return None
        return tuple(int(s) for s in node.shape) if node.shape is not None else (int(node.size),)

    def check_projection(self, i: int, proj: Projection, names: dict[str, int]) -> None:
        path = f"projections[{i}]"
        if not isinstance(proj.name, str) or not PROJECTION_NAME.fullmatch(proj.name):
            self.add(
                f"{path}.name",
                f"name {proj.name!r} is not allowed: use letters, digits "
                "and _ . : - > # (e.g. 'in->hidden')",
            )
        elif proj.name in names:
            self.add(
                f"{path}.name",
                f"projections[{names[proj.name]}] is already called "
                f"{proj.name!r}; give this one another name (name=...)",
            )
        elif proj.name in self.nodes:
            self.add(
                f"{path}.name",
                f"{proj.name!r} is also the name of an input or "
                "population; rename the projection so that probes can tell them apart",
            )
        else:
            names[proj.name] = i
        nodes = sorted(self.nodes)
        if proj.pre not in self.nodes:
            self.add(
                f"{path}.pre",
                f"no input or population named {proj.pre!r}"
                f"{_close(proj.pre, nodes)} (the network has: {', '.join(nodes) or 'none'})",
            )
        if proj.post not in self.nodes:
            pops = sorted(p for p, n in self.nodes.items() if isinstance(n, Population))
            self.add(
                f"{path}.post",
                f"no population named {proj.post!r}{_close(proj.post, pops)}"
                f" (the network has: {', '.join(pops) or 'none'})",
            )
        elif isinstance(self.nodes[proj.post], Input):
            self.add(
                f"{path}.post",
                f"{proj.post!r} is an input; inputs send but cannot "
                "receive: connect to a population",
            )
        post_size = self.node_size(proj.post)
        synapse = self.lookup("synapse", proj.synapse, f"{path}.synapse")
        if synapse is not None:
            self.synapse_models[i] = synapse
            owner = f"synapse model {proj.synapse!r}"
            self.check_params(
                f"{path}.synapse_params",
                proj.synapse_params,
                synapse.params,
                synapse.options,
                post_size,
                owner,
            )
            self.check_options(
                f"{path}.synapse_options",
                proj.synapse_options,
                synapse.options,
                synapse.params,
                owner,
            )
        layout = self.check_connectivity(path, proj)
        self.layouts[i] = layout
        mask = self.check_mask(path, proj, layout)
        self.check_weights(path, proj, layout, mask)
        self.check_delay(path, proj, layout)
        if proj.plasticity is not None:
            self.check_plasticity(path, proj)

    def check_connectivity(self, path: str, proj: Projection) -> tuple[int, ...] | None:
        conn = proj.connectivity
        place = f"{path}.connectivity"
        kind = conn.kind
        if kind not in CONNECTIVITY_KINDS:
            self.add(
                f"{place}.kind",
                f"unknown connectivity {kind!r}"
                f"{_close(str(kind), CONNECTIVITY_KINDS)} "
                f"(choose one of {', '.join(CONNECTIVITY_KINDS)})",
            )
            return None
        if kind not in ("sparse", "list") and (conn.pre is not None or conn.post is not None):
            self.add(
                place,
                f"pre/post indices are only used by sparse and list connectivity, "
                f"not {kind}; remove them or use Connectivity.sparse(pre, post)",
            )
        if kind != "conv2d" and conn.kernel_size is not None:
            self.add(
                f"{place}.kernel_size",
                f"kernel_size is only used by conv2d connectivity, not {kind}; remove it",
            )
        if kind != "random" and conn.p is not None:
            self.add(f"{place}.p", f"p is only used by random connectivity, not {kind}; remove it")
        n_pre, n_post = self.node_size(proj.pre), self.node_size(proj.post)
        if kind in ("sparse", "list"):
            return self.check_indices(place, kind, conn.pre, conn.post, n_pre, n_post)
        if kind == "random":
            return self.check_random(place, proj, n_pre, n_post)
        if n_pre is None or n_post is None:
            return None
        if kind == "one_to_one":
            if n_pre != n_post:
                self.add(
                    f"{place}.kind",
                    f"one_to_one needs as many pre as post neurons, got "
                    f"{proj.pre!r} ({n_pre}) -> {proj.post!r} ({n_post}); use dense or "
                    "sparse connectivity",
                )
                return None
            return (n_post,)
        if kind == "conv2d":
            return self.check_conv(place, proj)
        return layout_shape(kind, n_pre, n_post)

    def check_indices(
        self, place: str, kind: str, pre: Any, post: Any, n_pre: int | None, n_post: int | None
    ) -> tuple[int, ...] | None:
        if pre is None or post is None:
            self.add(
                place,
                f"{kind} connectivity needs pre and post indices; use "
                "Connectivity.sparse(pre, post) or Connectivity.from_list(pairs)",
            )
            return None
        ok = True
        for field, idx, n, end in (("pre", pre, n_pre, "pre"), ("post", post, n_post, "post")):
            if not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu" or idx.ndim != 1:
                got = (
                    f"shape {_shape_text(idx.shape)} dtype {idx.dtype}"
                    if isinstance(idx, np.ndarray)
                    else repr(idx)
                )
                self.add(
                    f"{place}.{field}", f"{field} indices must be a 1-D integer array, got {got}"
                )
                ok = False
            elif n is not None and idx.size and (idx.min() < 0 or idx.max() >= n):
                bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
                self.add(
                    f"{place}.{field}",
                    f"{field} index {bad} is out of range: the {end} "
                    f"side has {n} neurons (indices 0..{n - 1})",
                )
                ok = False
        if ok and pre.shape != post.shape:
            self.add(
                place,
                f"{pre.size} pre indices but {post.size} post indices; give one "
                "(pre, post) pair per synapse",
            )
            ok = False
        return (int(pre.size),) if ok else None

    def check_random(
        self, place: str, proj: Projection, n_pre: int | None, n_post: int | None
    ) -> tuple[int, ...] | None:
        conn = proj.connectivity
        ok = True
        p: Any = conn.p
        if not _is_real(p) or not 0.0 <= float(p) <= 1.0:
            self.add(
                f"{place}.p", f"random connectivity needs a probability 0 <= p <= 1, got {conn.p!r}"
            )
            ok = False
        if not _is_int(conn.seed) or conn.seed < 0:
            self.add(f"{place}.seed", f"seed must be an integer >= 0, got {conn.seed!r}")
            ok = False
        if not ok or n_pre is None or n_post is None or conn.p is None:
            return None
        if not any(isinstance(a, np.ndarray) for a in (proj.weights, proj.mask, proj.delay)):
            # No array to compare against: skip the draw (resolve makes it).
            return None
        pre, _ = random_pairs_cached(
            float(conn.p),
            int(conn.seed),
            n_pre,
            n_post,
            proj.pre == proj.post,
            bool(conn.allow_autapses),
        )
        return (int(pre.size),)

    def check_conv(self, place: str, proj: Projection) -> tuple[int, ...] | None:
        conn = proj.connectivity
        ok = True
        for field, value, low in (
            ("kernel_size", conn.kernel_size, 1),
            ("stride", conn.stride, 1),
            ("padding", conn.padding, 0),
        ):
            if (
                not isinstance(value, tuple | list)
                or len(value) != 2
                or not all(_is_int(v) and v >= low for v in value)
            ):
                self.add(
                    f"{place}.{field}",
                    f"conv2d needs {field} as two integers >= {low}, got {value!r}",
                )
                ok = False
        shapes = {}
        for end in ("pre", "post"):
            name = getattr(proj, end)
            shape = self.node_shape(name)
            if shape is None:
                ok = False
            elif len(shape) != 3:
                self.add(
                    f"{place}.kind",
                    f"conv2d needs the shape (C, H, W) of {name!r}, which "
                    f"has shape {_shape_text(shape)}; give shape=(C, H, W) when adding it",
                )
                ok = False
            shapes[end] = shape
        if not ok or conn.kernel_size is None:
            return None
        c_in, h, w = shapes["pre"] or ()
        c_out, h_post, w_post = shapes["post"] or ()
        kernel = (int(conn.kernel_size[0]), int(conn.kernel_size[1]))
        h_out, w_out = conv2d_output_shape(
            (h, w),
            kernel,
            (int(conn.stride[0]), int(conn.stride[1])),
            (int(conn.padding[0]), int(conn.padding[1])),
        )
        if h_out < 1 or w_out < 1:
            self.add(
                f"{place}.kernel_size",
                f"kernel {kernel} does not fit the {h}x{w} image of "
                f"{proj.pre!r} with padding {tuple(conn.padding)}; use a smaller kernel or "
                "more padding",
            )
            return None
        if (h_post, w_post) != (h_out, w_out):
            self.add(
                f"{place}.kind",
                f"conv2d maps {proj.pre!r} {_shape_text((c_in, h, w))} "
                f"with kernel {kernel}, stride {tuple(conn.stride)}, padding "
                f"{tuple(conn.padding)} to (C_out, {h_out}, {w_out}), but {proj.post!r} has "
                f"shape {_shape_text((c_out, h_post, w_post))}; give it shape "
                f"({c_out}, {h_out}, {w_out})",
            )
            return None
        return (c_out, c_in, kernel[0], kernel[1])

    def layout_problem(
        self, what: str, got: tuple[int, ...], proj: Projection, layout: tuple[int, ...]
    ) -> str:
        kind = proj.connectivity.kind
        return (
            f"{what} have shape {_shape_text(got)}; {kind} connectivity from {proj.pre!r} to "
            f"{proj.post!r} needs {_LAYOUT_TEXT[kind]} = {_shape_text(layout)}"
        )

    def check_mask(
        self, path: str, proj: Projection, layout: tuple[int, ...] | None
    ) -> npt.NDArray[np.bool_] | None:
        mask = proj.mask
        if mask is None:
            return None
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            got = f"dtype {mask.dtype}" if isinstance(mask, np.ndarray) else repr(mask)
            self.add(
                f"{path}.mask",
                f"mask must be a boolean array, got {got}; use mask=np.asarray(m, dtype=bool)",
            )
            return None
        if layout is not None and mask.shape != layout:
            self.add(f"{path}.mask", self.layout_problem("mask", mask.shape, proj, layout))
            return None
        return mask

    def check_weights(
        self,
        path: str,
        proj: Projection,
        layout: tuple[int, ...] | None,
        mask: npt.NDArray[np.bool_] | None,
    ) -> None:
        place = f"{path}.weights"
        sign = proj.sign
        if sign not in (None, "excitatory", "inhibitory"):
            self.add(
                f"{path}.sign", f"sign must be 'excitatory', 'inhibitory' or None, got {sign!r}"
            )
            sign = None
        w: Any = proj.weights
        if isinstance(w, WeightInit):
            for field, message in check_init(w):
                self.add(place if field == "init" else f"{place}.{field}", message)
            if w.kind == "constant" and _is_real(w.params.get("value")):
                value = float(w.params["value"])
                if (sign == "excitatory" and value < 0) or (sign == "inhibitory" and value > 0):
                    fixed = abs(value) if sign == "excitatory" else -abs(value)
                    self.add(
                        place,
                        f"constant weight {value:g} is on the wrong side of an "
                        f"{sign} projection; use weights={fixed:g}, or sign=None",
                    )
            return
        if not isinstance(w, np.ndarray):
            self.add(place, f"weights must be an array or a WeightInit, got {type(w).__name__}")
            return
        if not _is_numeric_array(w):
            self.add(place, f"weights must hold numbers, got dtype {w.dtype}")
            return
        if layout is not None and w.shape != layout:
            self.add(place, self.layout_problem("weights", w.shape, proj, layout))
            return
        finite = np.isfinite(w)
        if not finite.all():
            self.add(
                place,
                f"{int((~finite).sum())} weights are NaN or infinite; every weight "
                "must be a finite number",
            )
            return
        if sign is not None:
            wrong = w < 0 if sign == "excitatory" else w > 0
            if mask is not None and mask.shape == w.shape:
                wrong &= mask
            count = int(wrong.sum())
            if count:
                side, fix = (
                    ("negative", "np.abs(w)")
                    if sign == "excitatory"
                    else ("positive", "-np.abs(w)")
                )
                self.add(
                    place,
                    f"{count} weights are {side} on an {sign} projection; use "
                    f"weights={fix}, or sign=None to lift the constraint",
                )

    def check_delay(self, path: str, proj: Projection, layout: tuple[int, ...] | None) -> None:
        place = f"{path}.delay"
        d = proj.delay
        if isinstance(d, np.ndarray):
            if proj.connectivity.kind == "conv2d":
                self.add(
                    place,
                    "conv2d shares its kernel, so it takes one delay for the whole "
                    "projection; give an integer",
                )
                return
            if d.dtype.kind not in "iuf" or (
                d.dtype.kind == "f" and not (np.isfinite(d).all() and (d == np.round(d)).all())
            ):
                self.add(place, "delays are whole numbers of steps; give an integer array")
                return
            if layout is not None and d.shape != layout:
                self.add(place, self.layout_problem("delays", d.shape, proj, layout))
                return
            if d.size and d.min() < 0:
                self.add(place, f"delays must be >= 0 steps, got {d.min():g}")
        elif not _is_int(d):
            self.add(place, f"delay is a whole number of steps, got {d!r}")
        elif d < 0:
            self.add(place, f"delay must be >= 0 steps, got {d}")

    def check_plasticity(self, path: str, proj: Projection) -> None:
        plast = proj.plasticity
        if plast is None:
            return
        place = f"{path}.plasticity"
        if isinstance(proj.delay, np.ndarray):
            self.add(
                place,
                "a learning rule needs one delay for the whole projection; give an integer delay",
            )
        if proj.connectivity.kind == "conv2d":
            self.add(
                place,
                "learning rules do not run on conv2d connectivity (shared kernel); "
                "use dense or sparse connectivity",
            )
        rule = self.lookup("rule", plast.rule, f"{place}.rule")
        if rule is None:
            return
        owner = f"learning rule {plast.rule!r}"
        n_before = len(self.problems)
        self.check_params(f"{place}.params", plast.params, rule.params, rule.options, None, owner)
        self.check_options(f"{place}.options", plast.options, rule.options, rule.params, owner)
        if len(self.problems) == n_before and "w_min" in rule.params and "w_max" in rule.params:
            self.check_weight_bounds(path, proj, rule.params)

    def check_weight_bounds(self, path: str, proj: Projection, params: Mapping[str, Param]) -> None:
        """A rule that clips weights to ``[w_min, w_max]`` (any rule with both parameters) must
        clip to the sign's side, and array weights must start inside the bounds: otherwise the
        first step silently moves them."""
        plast = proj.plasticity
        assert plast is not None  # only called for a projection with a rule
        place = f"{path}.plasticity.params"
        bounds = {k: plast.params.get(k, params[k].default) for k in ("w_min", "w_max")}
        w_min, w_max = float(bounds["w_min"] or 0.0), float(bounds["w_max"] or 0.0)
        rule = plast.rule
        if w_min > w_max:
            self.add(
                place,
                f"{rule} needs w_min <= w_max, got w_min={w_min:g} and w_max={w_max:g}; swap them",
            )
            return
        if proj.sign == "excitatory" and w_min < 0:
            self.add(
                place,
                f"{rule} keeps weights in [{w_min:g}, {w_max:g}], which reaches below 0 on an "
                f"excitatory projection; set w_min=0 (e.g. Plasticity({rule!r}, "
                f"{{'w_min': 0.0, 'w_max': {max(w_max, 1.0):g}}}))",
            )
            return
        if proj.sign == "inhibitory" and w_max > 0:
            self.add(
                place,
                f"{rule} keeps weights in [{w_min:g}, {w_max:g}], which reaches above 0 on an "
                f"inhibitory projection (the default bounds are for excitatory weights); set "
                f"w_min=-1, w_max=0 (e.g. Plasticity({rule!r}, {{'w_min': -1.0, 'w_max': 0.0}}))",
            )
            return
        w = proj.weights
        if isinstance(w, WeightInit) and w.kind == "constant" and isinstance(w.params, Mapping):
            value: Any = w.params.get("value")
            if _is_real(value) and not w_min <= float(value) <= w_max:
                self.add(
                    f"{path}.weights",
                    f"constant weight {float(value):g} lies outside [{w_min:g}, {w_max:g}], the "
                    f"bounds of {rule}, which would clip it on the first step; use a weight "
                    "inside the bounds or widen w_min / w_max",
                )
        elif isinstance(w, np.ndarray) and _is_numeric_array(w) and np.isfinite(w).all():
            outside = (w < w_min) | (w > w_max)
            if isinstance(proj.mask, np.ndarray) and proj.mask.shape == w.shape:
                outside &= proj.mask.astype(bool)
            count = int(outside.sum())
            if count:
                self.add(
                    f"{path}.weights",
                    f"{count} of {w.size} weights lie outside [{w_min:g}, {w_max:g}], the bounds "
                    f"of {rule}, which would clip them on the first step; use "
                    f"weights=np.clip(w, {w_min:g}, {w_max:g}) or widen w_min / w_max",
                )

    # -- cycles and probes -----------------------------------------------------------------------

    def check_cycles(self) -> None:
        pops = [p.name for p in self.net.populations if isinstance(p.name, str)]
        edges = zero_delay_edges(self.net)
        cycle = find_cycle(pops, edges)
        if cycle is None:
            return
        projs = [self.net.projections[k] for k in cycle]
        route = " -> ".join([projs[0].pre, *(p.post for p in projs)])
        names = ", ".join(repr(p.name) for p in projs)
        self.add(
            f"projections[{cycle[0]}].delay",
            f"zero-delay cycle {route} through projections {names}: a population cannot "
            "receive its own output within the same step; set delay=1 (or more) on one "
            "of them",
        )

    def check_probe(self, i: int, probe: Any, keys: dict[str, int]) -> None:
        path = f"probes[{i}]"
        target, variable = probe.target, probe.variable
        projs = {p.name: k for k, p in enumerate(self.net.projections) if isinstance(p.name, str)}
        n: int | None = None
        if target in self.nodes:
            node = self.nodes[target]
            if isinstance(node, Input):
                if variable != "spikes":
                    self.add(
                        f"{path}.variable",
                        f"an input records only 'spikes' (its values), got {variable!r}",
                    )
            else:
                model = self.neuron_models.get(target)
                if model is not None:
                    choices = ["spikes", *model.state]
                    if variable not in choices:
                        self.add(
                            f"{path}.variable",
                            f"neuron model {node.model!r} of "
                            f"{target!r} has no variable {variable!r}"
                            f"{_close(str(variable), choices)} "
                            f"(choose from: {', '.join(choices)})",
                        )
            n = self.node_size(target)
        elif target in projs:
            k = projs[target]
            synapse = self.synapse_models.get(k)
            layout = self.layouts.get(k)
            if variable == "weights":
                n = math.prod(layout) if layout is not None else None
            elif synapse is not None:
                choices = ["weights", *(f"syn.{s}" for s in synapse.state)]
                if variable not in choices:
                    self.add(
                        f"{path}.variable",
                        f"projection {target!r} has no variable "
                        f"{variable!r}{_close(str(variable), choices)} "
                        f"(choose from: {', '.join(choices)})",
                    )
                n = self.node_size(self.net.projections[k].post)
        else:
            known = sorted([*self.nodes, *projs])
            self.add(
                f"{path}.target",
                f"no input, population or projection named {target!r}{_close(str(target), known)}",
            )
            return
        key = f"{target}.{variable}"
        if key in keys:
            self.add(path, f"probes[{keys[key]}] already records {key!r}; remove one of them")
        else:
            keys[key] = i
        index = probe.index
        if index is None:
            return
        if not isinstance(index, np.ndarray) or index.dtype.kind not in "iu" or index.ndim != 1:
            self.add(f"{path}.index", "index must be a 1-D integer array of neuron indices")
        elif n is not None and index.size and (index.min() < 0 or index.max() >= n):
            bad = int(index.min()) if index.min() < 0 else int(index.max())
            self.add(
                f"{path}.index",
                f"index {bad} is out of range for {key!r}, which has {n} "
                f"values (indices 0..{n - 1})",
            )
