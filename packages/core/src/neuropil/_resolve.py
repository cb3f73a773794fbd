"""``resolve``: a validated network with every default filled in, ready for a backend.

Resolution is deterministic: the same network (and registry) gives identical arrays every time,
on every machine, so that every backend compiles exactly the same network. Every array in the
result is a fresh copy: a backend may mutate it without touching the :class:`~neuropil.Network`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neuropil._connectivity import (
    fan_in,
    layout_shape,
    random_pairs_cached,
    topological_order,
    zero_delay_edges,
)
from neuropil._initializers import init_weights
from neuropil._network import Input, Network, Population, Projection, WeightInit
from neuropil._resolve_types import (
    ResolvedInput,
    ResolvedNetwork,
    ResolvedPlasticity,
    ResolvedPopulation,
    ResolvedProbe,
    ResolvedProjection,
)
from neuropil._schema import Option, Param, initial_state
from neuropil._validate import options_given_as_params, validate_network

if TYPE_CHECKING:
    from neuropil._registry import Registry

__all__ = ["resolve"]

F64 = npt.NDArray[np.float64]


def resolve(network: Network, registry: Registry | None = None) -> ResolvedNetwork:
    """Validate ``network`` and resolve it for a backend.

    What it does:

    * loads every model, synapse, rule and surrogate from ``registry`` (the process-wide one by
      default);
    * fills every parameter (a ``float``, or a float64 ``[N]`` array where the network gives
      per-neuron values), option and initial state (float64 ``[N]``; a state variable whose
      ``init`` names a parameter starts at that parameter's value, neuron by neuron);
    * the trainable set: the schema's ``Param.trainable``, overridden by
      ``population.trainable``;
    * binds the surrogate to its parameters;
    * draws the weights of a :class:`~neuropil.WeightInit` (see :mod:`neuropil._initializers`).
      On a projection with a ``sign``, drawn weights (any initialiser but ``constant``) are
      folded onto the sign's side: ``|w|`` for excitatory, ``-|w|`` for inhibitory;
    * applies the mask (masked synapses carry weight 0);
    * turns ``list`` and ``random`` connectivity into ``sparse`` with int64 indices (``random``
      drawn by :func:`neuropil._connectivity.random_pairs`, once per network: validation and
      resolution share the draw);
    * delays become int64 arrays (shape ``()`` or the weights' layout);
    * ``order``: the populations in a topological order of the zero-delay projections, ties in
      declaration order.

    Raises:
        NetworkValidationError: if the network is invalid (every problem listed).
    """
    if registry is None:
        from neuropil._registry import get_registry

        registry = get_registry()
    validate_network(network, registry)
    inputs = [ResolvedInput(node.name, int(node.size), _shape(node)) for node in network.inputs]
    populations = [_population(pop, registry) for pop in network.populations]
    projections = [_projection(proj, network, registry) for proj in network.projections]
    probes = [
        ResolvedProbe(
            probe.key,
            probe.target,
            probe.variable,
            None if probe.index is None else np.array(probe.index, dtype=np.int64),
        )
        for probe in network.probes
    ]
    names = [pop.name for pop in network.populations]
    order = topological_order(names, [(a, b) for a, b, _ in zero_delay_edges(network)])
    return ResolvedNetwork(
        network=network,
        dt=float(network.dt),
        inputs=inputs,
        populations=populations,
        projections=projections,
        probes=probes,
        order=order,
    )


def _shape(node: Input | Population) -> tuple[int, ...]:
    return tuple(int(s) for s in node.shape) if node.shape else (int(node.size),)


def _params(values: Mapping[str, Any], schema: Mapping[str, Param]) -> dict[str, float | F64]:
    out: dict[str, float | F64] = {}
    for name, spec in schema.items():
        value = values.get(name, spec.default)
        if isinstance(value, np.ndarray):
            out[name] = np.array(value, dtype=np.float64)
        else:
            out[name] = float(value)
    return out


def _options(
    given: Mapping[str, Any], params: Mapping[str, Any], schema: Mapping[str, Option]
) -> dict[str, Any]:
    out: dict[str, Any] = {name: spec.default for name, spec in schema.items()}
    out.update(options_given_as_params(params, schema))
    for name, value in given.items():
        out[name] = (
            bool(value)
            if isinstance(value, np.bool_)
            else (int(value) if isinstance(value, np.integer) else value)
        )
    return out


def _population(pop: Population, registry: Registry) -> ResolvedPopulation:
    model = registry.neuron(pop.model)
    size = int(pop.size)
    params = _params(pop.params, model.params)
    initial: dict[str, F64] = {
        var: np.broadcast_to(np.asarray(start, dtype=np.float64), (size,)).copy()
        for var, start in initial_state(model.state, params, pop.initial_state).items()
    }
    trainable = frozenset(
        name for name, spec in model.params.items() if bool(pop.trainable.get(name, spec.trainable))
    )
    surrogate = registry.surrogate(pop.surrogate).bind(
        **{k: float(v) for k, v in pop.surrogate_params.items()}
    )
    return ResolvedPopulation(
        name=pop.name,
        size=size,
        shape=_shape(pop),
        model=model,
        params=params,
        options=_options(pop.options, pop.params, model.options),
        initial_state=initial,
        trainable=trainable,
        surrogate=surrogate,
        metadata=copy.deepcopy(pop.metadata),
    )


def _projection(proj: Projection, network: Network, registry: Registry) -> ResolvedProjection:
    pre, post = network.node(proj.pre), network.node(proj.post)
    pre_shape, post_shape = _shape(pre), _shape(post)
    conn = proj.connectivity
    kind: str = conn.kind
    pre_idx = post_idx = None
    if kind in ("sparse", "list"):
        pre_idx = np.array(conn.pre, dtype=np.int64)
        post_idx = np.array(conn.post, dtype=np.int64)
    elif kind == "random":
        shared = random_pairs_cached(
            float(conn.p or 0.0),
            int(conn.seed),
            int(pre.size),
            int(post.size),
            proj.pre == proj.post,
            bool(conn.allow_autapses),
        )
        pre_idx, post_idx = shared[0].copy(), shared[1].copy()
    nnz = None if pre_idx is None else int(pre_idx.size)
    kernel = (
        None if conn.kernel_size is None else (int(conn.kernel_size[0]), int(conn.kernel_size[1]))
    )
    shape = layout_shape(
        kind,
        int(pre.size),
        int(post.size),
        nnz=nnz,
        pre_shape=pre_shape,
        post_shape=post_shape,
        kernel_size=kernel,
    )
    weights: F64
    if isinstance(proj.weights, WeightInit):
        fan = fan_in(
            kind, int(pre.size), int(post.size), nnz=nnz, pre_shape=pre_shape, kernel_size=kernel
        )
        weights = init_weights(proj.weights, shape, fan)
        if proj.weights.kind != "constant" and proj.sign == "excitatory":
            weights = np.abs(weights)
        elif proj.weights.kind != "constant" and proj.sign == "inhibitory":
            weights = -np.abs(weights)
    else:
        weights = np.array(proj.weights, dtype=np.float64)
    mask = None if proj.mask is None else np.array(proj.mask, dtype=bool)
    if mask is not None:
        weights = np.where(mask, weights, 0.0)
    delay = np.array(proj.delay, dtype=np.int64)
    synapse = registry.synapse(proj.synapse)
    plasticity = None
    if proj.plasticity is not None:
        rule = registry.rule(proj.plasticity.rule)
        rule_params = {
            name: float(proj.plasticity.params.get(name, spec.default))
            for name, spec in rule.params.items()
        }
        plasticity = ResolvedPlasticity(
            rule=rule,
            params=rule_params,
            options=_options(proj.plasticity.options, proj.plasticity.params, rule.options),
        )
    return ResolvedProjection(
        name=proj.name,
        pre=proj.pre,
        post=proj.post,
        pre_size=int(pre.size),
        post_size=int(post.size),
        pre_shape=pre_shape,
        post_shape=post_shape,
        kind="sparse" if kind in ("list", "random") else kind,
        synapse=synapse,
        synapse_params=_params(proj.synapse_params, synapse.params),
        synapse_options=_options(proj.synapse_options, proj.synapse_params, synapse.options),
        weights=weights,
        delay=delay,
        max_delay=int(delay.max()) if delay.size else 0,
        mask=mask,
        sign=proj.sign,
        plasticity=plasticity,
        trainable_weights=bool(proj.trainable_weights),
        trainable_delays=bool(proj.trainable_delays),
        pre_idx=pre_idx,
        post_idx=post_idx,
        kernel_size=kernel if kind == "conv2d" else None,
        stride=(int(conn.stride[0]), int(conn.stride[1])),
        padding=(int(conn.padding[0]), int(conn.padding[1])),
    )
