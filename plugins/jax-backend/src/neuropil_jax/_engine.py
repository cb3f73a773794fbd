"""The jax engine: a resolved network compiled into pure functions, the time loop in one scan.

:func:`neuropil.resolve` gives the network with every default filled in. This module turns it
into a :class:`_Plan` (static structure: update order, delay groups, index arrays, probes) and
one pure function ``simulate(params, inputs) -> (recordings, final)`` over a parameter pytree
(a flat dict keyed by IR name, ``"hidden.tau_mem"``, ``"in->hidden.weights"``) and the inputs
``[T, B, N]``. The whole time loop runs under ``jax.lax.scan``; :class:`JaxSimulator` jit-compiles
it once per input shape.

The semantics are the reference engine's (``docs/concepts/time.md``), step for step:

for each step ``t``:
  1. for each population in ``ResolvedNetwork.order``: each incoming projection delivers
     ``arriving = W @ out_pre[t - d]`` (nothing before step 0), its synapse model steps, the
     neuron model steps on the summed current;
  2. each plastic projection's rule steps (new weights act from step ``t + 1``, clipped to the
     projection's sign, masked synapses kept at zero);
  3. probes record.

Some things differ in how, not what:

- what a non-plastic projection delivers from outside the populations scanned together is
  computed for all steps at once before their scan (one large matrix product instead of ``T``
  small ones) and read ``d`` steps later;
- on the fast path (``compile(..., fast=True)``, the default, for networks without plasticity)
  the network is cut into its strongly connected components, scanned one after the other in
  dependency order: a feed-forward layer's scan is its neuron update alone, the matrix products
  between layers run over all steps at once. A refractory counter that can never become
  non-zero (``tau_ref = 0``) is given to the model as a constant instead of being carried;
- the output history of a population read with delays ``1 .. d`` is a ring buffer of ``d``
  frames in the scan's carry, written once every population of the step has read it.

Every neuron and synapse update is the model's own ``step``, so the paths agree to the last bit
on spikes (the tests compare them in float64) and their gradients agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

import neuropil
from neuropil._models import SynapseView
from neuropil._network import Network
from neuropil._ops import Array, StepContext
from neuropil._resolve import resolve
from neuropil._resolve_types import ResolvedNetwork, ResolvedPopulation, ResolvedProjection
from neuropil.errors import EngineError
from neuropil.models import CUBA_LIF, IF, LIF
from neuropil.protocols import SimulationResult
from neuropil_jax._ops import JaxOps, StepKey

__all__ = ["JaxBackend", "JaxSimulator", "LossFn"]

_DTYPES = ("float32", "float64")
_Arr = npt.NDArray[Any]
Params = dict[str, Any]
#: ``loss_fn(ops, recordings) -> scalar`` on the engine's jax arrays ``[T, B, n]``.
LossFn = Callable[[JaxOps, Mapping[str, Array]], Array]
_HIGHEST = jax.lax.Precision.HIGHEST


class JaxBackend:
    """Backend ``jax``: compiles a network into jit-compiled jax functions, and trains it.

    Args:
        data_parallel: In :meth:`train`, shard each batch over the local devices
            (``jax.sharding``): ``None`` (default) does so when there is more than one device
            and the batch divides evenly; ``False`` never does; ``True`` requires it.

    Example::

        sim = JaxBackend().compile(net, dtype="float64")
        result = sim.run({"in": spikes})        # spikes: [T, B, 700]
        result["hidden.spikes"]                 # [T, B, 256]
    """

    name = "jax"

    def __init__(self, *, data_parallel: bool | None = None) -> None:
        self.data_parallel = data_parallel

    def compile(
        self,
        network: Network,
        *,
        dtype: str = "float32",
        device: str | None = None,
        seed: int = 0,
        fast: bool = True,
    ) -> JaxSimulator:
        """Validate and resolve ``network`` and build its jax functions.

        Args:
            network: The network IR.
            dtype: ``"float32"`` or ``"float64"``. float64 switches on
                ``jax_enable_x64`` for the process (jax computes in 32 bits otherwise); float32
                arrays stay float32 after that.
            device: ``None`` (jax's default device), a platform (``"cpu"``, ``"gpu"``) or a
                device string such as ``"cuda:0"`` / ``"gpu:1"``.
            seed: Seed of the random keys passed to stochastic models.
            fast: Simulate the network layer by layer where it can (no plasticity): each
                strongly connected group of populations in its own scan, what reaches it from
                inputs and earlier layers computed for all steps at once (one matrix product
                per projection instead of one per step). The results are the portable path's
                (the update of every neuron is the same); ``False`` runs the whole network in
                one scan.

        Raises:
            NetworkValidationError: the network is invalid.
            EngineError: an unsupported dtype or an unknown device.
        """
        if dtype not in _DTYPES:
            raise EngineError(
                f"the jax backend supports dtype 'float32' or 'float64', got {dtype!r}"
            )
        if dtype == "float64" and not jax.config.read("jax_enable_x64"):  # type: ignore[no-untyped-call]
            jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
        return JaxSimulator(resolve(network), dtype, int(seed), _device(device), fast=fast)

    def train(
        self,
        network: Network,
        dataset: Any,
        config: Any,
        *,
        run_dir: str | None = None,
    ) -> dict[str, Any]:
        """Train ``network`` on ``dataset`` with surrogate-gradient BPTT (optax), as
        :class:`~neuropil.TrainingConfig` defines it; see :func:`neuropil_jax.train`."""
        from neuropil_jax._training import train

        return train(network, dataset, config, run_dir=run_dir, data_parallel=self.data_parallel)


def _device(device: str | None) -> jax.Device | None:
    if device is None:
        return None
    platform, _, index = device.partition(":")
    platform = {"cuda": "gpu", "rocm": "gpu"}.get(platform, platform)
    try:
        devices = jax.devices(platform)
    except RuntimeError as exc:
        raise EngineError(
            f"the jax backend has no device {device!r} ({exc}); available: "
            + ", ".join(str(d) for d in jax.devices())
        ) from None
    i = int(index) if index.isdigit() else 0
    if i >= len(devices):
        raise EngineError(
            f"the jax backend has no device {device!r}: {platform} has {len(devices)} device(s)"
        )
    return devices[i]


# -- the static plan -------------------------------------------------------------------------


@dataclass
class _Proj:
    res: ResolvedProjection
    groups: list[neuropil.DelayGroup]
    from_input: bool
    mask: npt.NDArray[np.bool_] | None
    index: int


@dataclass
class _Stage:
    """Populations simulated together in one ``lax.scan``.

    ``external`` are the projections into the stage from inputs and from earlier stages: what
    they deliver at every step is computed before the stage's scan, in one matrix product per
    delay group (plastic input projections, only on the portable path, deliver their delayed
    frames instead). ``history`` is the length of the output ring buffer of each population the
    stage itself reads with a delay >= 1 (outputs of the same step are read directly), ``emit``
    the populations whose whole output series later stages read.
    """

    pops: tuple[str, ...]
    external: tuple[str, ...]
    history: dict[str, int]
    emit: tuple[str, ...]


@dataclass
class _Plan:
    """The static structure of a resolved network (everything jit treats as constant).

    ``stages`` is one stage holding every population (the portable path: the whole network
    in one scan), or, on the fast path, the network cut into its strongly connected components
    in dependency order, each in its own scan, so that a feed-forward layer's scan is the
    neuron update alone and its input currents are one matrix product over all steps.
    ``still`` names, by population, the state variables known to stay at 0 for the whole run
    (on the fast path: a refractory counter without a refractory period); they are given to the
    model as constants instead of being carried, so that the compiler drops the refractory
    logic from the update and from its gradient.
    """

    net: ResolvedNetwork
    projs: dict[str, _Proj]
    input_sizes: dict[str, int]
    pop_sizes: dict[str, int]
    stages: list[_Stage] = field(default_factory=list)
    still: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def fast(self) -> bool:
        """Whether the network runs in more than one scan (the fast path)."""
        return len(self.stages) > 1


def _plan(
    net: ResolvedNetwork, fast: bool = True, params: Mapping[str, _Arr] | None = None
) -> _Plan:
    """The plan of ``net``; ``params`` (by IR name) are the parameter values the runs will
    use where they differ from the resolved network's (they decide ``still``)."""
    inputs = {i.name: i.size for i in net.inputs}
    pops = {p.name: p.size for p in net.populations}
    projs = {}
    for i, proj in enumerate(net.projections):
        if proj.plasticity is not None and proj.kind == "conv2d":
            raise EngineError(
                f"projection {proj.name!r}: plasticity is not supported on conv2d connectivity"
            )
        projs[proj.name] = _Proj(
            proj, neuropil.delay_groups(proj), proj.pre in inputs, proj.mask, i
        )
    plan = _Plan(net, projs, inputs, pops)
    if fast:
        for pop in net.populations:
            still = _still_state(pop, params or {})
            if still:
                plan.still[pop.name] = still
    # Plastic weights change within the run, so their delivery cannot be computed ahead.
    plastic = any(proj.plasticity is not None for proj in net.projections)
    parts = _components(net) if fast and not plastic else [list(net.order)]
    for members in parts:
        inside = set(members)
        external: list[str] = []
        history: dict[str, int] = {}
        for proj in net.projections:
            if proj.post not in inside:
                continue
            if proj.pre not in inside:
                external.append(proj.name)
                continue
            for group in projs[proj.name].groups:
                if group.delay > 0:
                    history[proj.pre] = max(history.get(proj.pre, 0), group.delay)
        emit = {p.pre for p in net.projections if p.pre in inside and p.post not in inside}
        plan.stages.append(
            _Stage(
                tuple(members),
                tuple(external),
                history,
                tuple(name for name in members if name in emit),
            )
        )
    return plan


#: Models whose refractory counter obeys ``ref' = where(s' > 0, floor(tau_ref / dt + 0.5),
#: max(ref - 1, 0))``: with ``tau_ref = 0`` and ``ref = 0`` at the start it is 0 at every step.
_REFRACTORY_MODELS = (LIF, CUBA_LIF, IF)


def _still_state(pop: ResolvedPopulation, params: Mapping[str, _Arr]) -> tuple[str, ...]:
    """The state variables of ``pop`` that stay exactly 0 through any run with ``params``."""
    if not any(pop.model.step is model.step for model in _REFRACTORY_MODELS):
        return ()
    if "tau_ref" in pop.trainable:
        return ()
    tau_ref = params.get(f"{pop.name}.tau_ref", pop.params["tau_ref"])
    if np.any(np.asarray(tau_ref) != 0) or np.any(np.asarray(pop.initial_state["ref"]) != 0):
        return ()
    return ("ref",)


def _components(net: ResolvedNetwork) -> list[list[str]]:
    """The populations' strongly connected components (through projections of any delay),
    each in update order, the components in an order where every projection between two of
    them goes forward (ties: the earlier first population in ``net.order``)."""
    rank = {name: i for i, name in enumerate(net.order)}
    succ: dict[str, set[str]] = {name: set() for name in net.order}
    for proj in net.projections:
        if proj.pre in succ:
            succ[proj.pre].add(proj.post)

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in succ[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {name: reach(name) for name in net.order}
    comp_of: dict[str, int] = {}
    comps: list[list[str]] = []
    for name in net.order:
        if name in comp_of:
            continue
        members = [m for m in net.order if name in reachable[m] and m in reachable[name]]
        for m in members:
            comp_of[m] = len(comps)
        comps.append(members)
    preds: dict[int, set[int]] = {i: set() for i in range(len(comps))}
    for proj in net.projections:
        if proj.pre in comp_of and comp_of[proj.pre] != comp_of[proj.post]:
            preds[comp_of[proj.post]].add(comp_of[proj.pre])
    ordered: list[list[str]] = []
    done: set[int] = set()
    while len(done) < len(comps):
        ready = [i for i in preds if i not in done and preds[i] <= done]
        first = min(ready, key=lambda i: rank[comps[i][0]])
        done.add(first)
        ordered.append(comps[first])
    return ordered


# -- delivery ----------------------------------------------------------------------------------


def _propagate(p: _Proj, group: neuropil.DelayGroup, w: jax.Array, x: jax.Array) -> jax.Array:
    """``x`` ``[M, N_pre]`` through the group's synapses: ``[M, N_post]``."""
    proj = p.res
    if group.select is not None:
        w = w.reshape(-1)[group.select]
    if group.kind == "dense":
        return jnp.matmul(x, w.T, precision=_HIGHEST)
    if group.kind == "one_to_one":
        return x * w
    if group.kind == "sparse":
        if group.pre_idx is None or group.post_idx is None:
            raise EngineError(f"projection {proj.name!r}: sparse without indices")
        contrib = x[:, group.pre_idx] * w
        out = jnp.zeros((x.shape[0], proj.post_size), dtype=x.dtype)
        return out.at[:, group.post_idx].add(contrib)
    if group.kind == "conv2d":
        if proj.kernel_size is None:
            raise EngineError(f"projection {proj.name!r}: conv2d without a kernel size")
        c_in, h, wd = proj.pre_shape
        ph, pw = proj.padding
        img = x.reshape(x.shape[0], c_in, h, wd)
        out = jax.lax.conv_general_dilated(
            img,
            w,
            window_strides=proj.stride,
            padding=((ph, ph), (pw, pw)),
            dimension_numbers=("NCHW", "OIHW", "NCHW"),
            precision=_HIGHEST,
        )
        return out.reshape(x.shape[0], proj.post_size)
    raise EngineError(f"projection {proj.name!r}: unknown connectivity {group.kind!r}")


def _shift(a: jax.Array, d: int) -> jax.Array:
    """``a`` ``[T, ...]`` delayed by ``d`` steps: ``out[t] = a[t - d]``, zeros before."""
    if d == 0:
        return a
    steps = a.shape[0]
    if d >= steps:
        return jnp.zeros_like(a)
    pad = jnp.zeros((d, *a.shape[1:]), dtype=a.dtype)
    return jnp.concatenate([pad, a[: steps - d]], axis=0)


def constrain(w: jax.Array, proj: ResolvedProjection) -> jax.Array:
    """Keep weights on their projection's side of zero and masked synapses at zero."""
    if proj.sign == "excitatory":
        w = jnp.maximum(w, 0)
    elif proj.sign == "inhibitory":
        w = jnp.minimum(w, 0)
    if proj.mask is not None:
        w = jnp.where(jnp.asarray(proj.mask), w, jnp.zeros_like(w))
    return w


# -- the simulation function -----------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """What to record each step: ``key`` ``"target.variable"``, an optional neuron subset."""

    key: str
    target: str
    variable: str
    index: tuple[int, ...] | None = None


def simulate(
    plan: _Plan,
    ops: JaxOps,
    seed: int,
    params: Mapping[str, jax.Array],
    inputs: Mapping[str, jax.Array],
    records: tuple[Record, ...],
    tbptt: int | None = None,
) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """Run the network from its initial state: a pure function, traceable by jit and grad.

    Args:
        plan: The network's static structure.
        ops: The engine's ops.
        seed: Seed of the models' random keys.
        params: Every parameter by IR name (weights in their layout, unmasked).
        inputs: Every input ``[T, B, size]`` in the engine's dtype (zeros for those not given).
        records: What to record.
        tbptt: Cut the gradient through the carried state every this many steps (``None``:
            full backpropagation through time).

    Returns:
        ``(recordings, final)``: recordings ``[T, B, n]`` (``[T, n]`` for weights) by key;
        ``final`` the final state (``"pop.var"``, ``"proj.syn.var"``) and the final weights of
        plastic projections (``"proj.weights"``).
    """
    net = plan.net
    first = next(iter(inputs.values()))
    steps, batch = int(first.shape[0]), int(first.shape[1])
    weights: dict[str, jax.Array] = {}
    for name, p in plan.projs.items():
        w = params[f"{name}.weights"]
        if p.mask is not None:
            w = jnp.where(jnp.asarray(p.mask), w, jnp.zeros_like(w))
        weights[name] = w
    run = _StageRunner(plan, ops, seed, params, weights, records, tbptt, steps, batch)
    # Output series [T, B, N] of the populations of finished stages that later stages read.
    series: dict[str, jax.Array] = dict(inputs)
    recordings: dict[str, jax.Array] = {}
    carries: list[dict[str, Any]] = []
    for stage in plan.stages:
        # Before the scan: what inputs and earlier stages deliver at every step.
        arrival: dict[str, _Delivery] = {}
        frames: dict[str, jax.Array] = {}
        for name in stage.external:
            p = plan.projs[name]
            x = series[p.res.pre]
            if p.res.plasticity is not None:
                frames[name] = _shift(x, p.groups[0].delay)
            else:
                arrival[name] = _deliver(p, weights[name], x, None if p.from_input else tbptt)
        carry, ys = run(stage, arrival, frames)
        carries.append(carry)
        recordings.update(ys["rec"])
        series.update(ys["out"])
    for r in records:
        if r.target in plan.input_sizes:
            x = inputs[r.target]
            recordings[r.key] = x if r.index is None else x[..., np.asarray(r.index)]
    state = {k: v for c in carries for k, v in c["state"].items()}
    syn = {k: v for c in carries for k, v in c["syn"].items()}
    plastic = {k: v for c in carries for k, v in c["plastic"].items()}
    final: dict[str, jax.Array] = {}
    for pop in net.populations:
        for k in pop.initial_state:
            final[f"{pop.name}.{k}"] = (
                state[pop.name][k] if k in state[pop.name] else run.zeros(pop.size)
            )
    for proj in net.projections:
        for k, v in syn[proj.name].items():
            final[f"{proj.name}.syn.{k}"] = v
    for proj in net.projections:
        if proj.name in plastic:
            final[f"{proj.name}.weights"] = plastic[proj.name]
    return recordings, final


#: What a projection delivers from outside a stage: per delay group, the delay ``d`` and the
#: group's contribution ``[T, B, N_post]`` computed from the pre's output of the same step; the
#: stage reads it ``d`` steps later.
_Delivery = list[tuple[int, jax.Array]]


def _deliver(p: _Proj, w: jax.Array, x: jax.Array, tbptt: int | None) -> _Delivery:
    """What projection ``p`` delivers from its pre's output series ``x`` ``[T, B, N_pre]``,
    one matrix product over all steps per delay group.

    The delay is applied where the stage reads the series (``out[t - d]``), not by shifting
    it: a shifted (padded) copy next to the matrix product costs XLA one more buffer of the
    series' size in the forward and in the backward pass, and on CPU fresh memory is time.

    With ``tbptt`` the gradient to ``x`` is cut where the portable path's scan would have cut
    it: the frame emitted at step ``t`` is carried in the ring buffer into steps
    ``t + 1 .. t + d``, and a cut at any of them stops its gradient (not the weights').
    """
    steps, batch = int(x.shape[0]), int(x.shape[1])
    out: _Delivery = []
    for group in p.groups:
        src = x
        if tbptt is not None and group.delay > 0:
            t = np.arange(steps)
            cut = np.zeros(steps, dtype=bool)
            for ahead in range(1, group.delay + 1):
                cut |= (t + ahead) % tbptt == 0
            src = jnp.where(cut[:, None, None], jax.lax.stop_gradient(x), x)
        flat = src.reshape(steps * batch, x.shape[2])
        part = _propagate(p, group, w, flat).reshape(steps, batch, p.res.post_size)
        out.append((group.delay, part))
    return out


class _StageRunner:
    """Runs one stage's scan: the reference semantics of one step, for the stage's
    populations, with what reaches them from outside given for every step."""

    def __init__(
        self,
        plan: _Plan,
        ops: JaxOps,
        seed: int,
        params: Mapping[str, jax.Array],
        weights: dict[str, jax.Array],
        records: tuple[Record, ...],
        tbptt: int | None,
        steps: int,
        batch: int,
    ) -> None:
        net = plan.net
        self.plan, self.ops, self.seed, self.weights = plan, ops, seed, weights
        self.records, self.tbptt, self.steps, self.batch = records, tbptt, steps, batch
        self.pops = {p.name: p for p in net.populations}
        self.pop_index = {p.name: i for i, p in enumerate(net.populations)}
        self.pop_params = {
            p.name: {k: params[f"{p.name}.{k}"] for k in p.params} for p in net.populations
        }
        self.syn_params = {
            p.name: {k: params[f"{p.name}.{k}"] for k in p.synapse_params} for p in net.projections
        }
        self.incoming = {p.name: net.incoming(p.name) for p in net.populations}

    def _full(self, value: Any, size: int) -> jax.Array:
        return jnp.broadcast_to(self.ops.asarray(value), (self.batch, size))

    def zeros(self, size: int) -> jax.Array:
        """Zeros ``[B, size]``: the value of a state variable held still."""
        return self._full(0.0, size)

    def _initial(self, stage: _Stage) -> tuple[dict[str, Any], dict[str, SynapseView]]:
        plan, full = self.plan, self._full
        members = set(stage.pops)
        projs = [p for p in plan.net.projections if p.post in members]
        carry0: dict[str, Any] = {
            "state": {
                name: {
                    k: full(v, self.pops[name].size)
                    for k, v in self.pops[name].initial_state.items()
                    if k not in plan.still.get(name, ())
                }
                for name in stage.pops
            },
            "syn": {
                proj.name: {
                    k: full(sv.initial(self.syn_params[proj.name]), proj.post_size)
                    for k, sv in proj.synapse.state.items()
                }
                for proj in projs
            },
            "traces": {},
            "plastic": {},
            "hist": {
                name: jnp.zeros((length, self.batch, plan.pop_sizes[name]), self.ops.dtype)
                for name, length in stage.history.items()
            },
        }
        views: dict[str, SynapseView] = {}
        for proj in projs:
            if proj.plasticity is None:
                continue
            rule, rparams = proj.plasticity.rule, proj.plasticity.params
            carry0["traces"][proj.name] = {
                **{k: full(sv.initial(rparams), proj.pre_size) for k, sv in rule.pre_state.items()},
                **{
                    k: full(sv.initial(rparams), proj.post_size)
                    for k, sv in rule.post_state.items()
                },
            }
            carry0["plastic"][proj.name] = self.weights[proj.name]
            views[proj.name] = neuropil.synapse_view(proj)
        return carry0, views

    def __call__(
        self, stage: _Stage, arrival: dict[str, _Delivery], frames: dict[str, jax.Array]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Scan ``stage``: ``(final carry, {"rec": recordings, "out": emitted series})``."""
        plan, ops, seed, tbptt = self.plan, self.ops, self.seed, self.tbptt
        net, batch, dtype = plan.net, self.batch, ops.dtype
        pops, weights, incoming = self.pops, self.weights, self.incoming
        n_pops = len(net.populations)
        members = set(stage.pops)
        carry0, views = self._initial(stage)
        plastic_projs = [
            (p, p.plasticity)
            for p in net.projections
            if p.post in members and p.plasticity is not None
        ]
        stage_records = tuple(
            r
            for r in self.records
            if (plan.projs[r.target].res.post if r.target in plan.projs else r.target) in members
        )

        def read(
            hist: dict[str, jax.Array], out: dict[str, jax.Array], pre: str, t: jax.Array, d: int
        ) -> jax.Array:
            if d == 0:  # the pre population was updated earlier in this step
                return out[pre]
            # A slot not written yet holds zeros, which is what exists before step 0.
            ring = hist[pre]
            if ring.shape[0] == 1:
                return ring[0]
            frame: jax.Array = jax.lax.dynamic_index_in_dim(
                ring, (t - d) % ring.shape[0], keepdims=False
            )
            return frame

        def step(carry: dict[str, Any], xs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
            t = xs["t"]
            if tbptt is not None:
                cut = t % tbptt == 0
                carry = jax.tree_util.tree_map(
                    lambda c: jnp.where(cut, jax.lax.stop_gradient(c), c), carry
                )
            state = dict(carry["state"])
            syn = dict(carry["syn"])
            hist = carry["hist"]
            plastic = carry["plastic"]
            outputs: dict[str, jax.Array] = {}
            arrived: dict[str, jax.Array] = {}
            for pname in stage.pops:
                pop = pops[pname]
                current = jnp.zeros((batch, pop.size), dtype)
                for proj in incoming[pname]:
                    p = plan.projs[proj.name]
                    w = plastic.get(proj.name, weights[proj.name])
                    if proj.name in arrival:
                        parts = []
                        for i, (d, series) in enumerate(arrival[proj.name]):
                            if d == 0:
                                parts.append(xs["arrival"][f"{proj.name}/{i}"])
                            elif d >= series.shape[0]:  # arrives after the run
                                parts.append(jnp.zeros((batch, proj.post_size), dtype))
                            else:  # nothing arrives before step d
                                frame = jax.lax.dynamic_index_in_dim(
                                    series, jnp.maximum(t - d, 0), keepdims=False
                                )
                                parts.append(jnp.where(t >= d, frame, jnp.zeros((), dtype)))
                        arriving = parts[0]
                        for part in parts[1:]:
                            arriving = arriving + part
                    elif proj.name in xs["frames"]:
                        arrived[proj.name] = xs["frames"][proj.name]
                        arriving = _propagate(p, p.groups[0], w, arrived[proj.name])
                    else:
                        arriving = jnp.zeros((batch, proj.post_size), dtype)
                        for group in p.groups:
                            frame = read(hist, outputs, proj.pre, t, group.delay)
                            if proj.plasticity is not None:
                                arrived[proj.name] = frame
                            arriving = arriving + _propagate(p, group, w, frame)
                    ctx = StepContext(dt=net.dt, key=StepKey(seed, t, n_pops + p.index))
                    syn[proj.name], syn_current = proj.synapse.step(
                        ops,
                        self.syn_params[proj.name],
                        proj.synapse_options,
                        syn[proj.name],
                        arriving,
                        ctx,
                    )
                    current = current + syn_current
                ctx = StepContext(
                    dt=net.dt, surrogate=pop.surrogate, key=StepKey(seed, t, self.pop_index[pname])
                )
                still = plan.still.get(pname, ())
                before = {**state[pname], **{k: self._full(0.0, pop.size) for k in still}}
                after, out = pop.model.step(
                    ops, self.pop_params[pname], pop.options, before, current, ctx
                )
                state[pname] = {k: v for k, v in after.items() if k not in still}
                outputs[pname] = ops.asarray(out)
            # Written after every read of the step, so a ring of d frames serves delays 1..d.
            new_hist = {}
            for name, ring in hist.items():
                if ring.shape[0] == 1:
                    new_hist[name] = outputs[name][None]
                else:
                    new_hist[name] = jax.lax.dynamic_update_index_in_dim(
                        ring, outputs[name], t % ring.shape[0], axis=0
                    )
            traces = dict(carry["traces"])
            new_plastic = dict(plastic)
            for proj, plasticity in plastic_projs:
                # Plasticity is not differentiated: the weights' gradient flows as if each
                # step's weights were the parameters themselves (straight through the rule).
                w_sg = jax.lax.stop_gradient(plastic[proj.name])
                new_traces, new_w = plasticity.rule.step(
                    ops,
                    plasticity.params,
                    plasticity.options,
                    jax.lax.stop_gradient(traces[proj.name]),
                    w_sg,
                    jax.lax.stop_gradient(arrived[proj.name]),
                    jax.lax.stop_gradient(outputs[proj.post]),
                    views[proj.name],
                    StepContext(dt=net.dt),
                )
                traces[proj.name] = {k: ops.asarray(v) for k, v in new_traces.items()}
                delta = constrain(ops.asarray(new_w), proj) - w_sg
                new_plastic[proj.name] = plastic[proj.name] + jax.lax.stop_gradient(delta)
            rec: dict[str, jax.Array] = {}
            for r in stage_records:
                if r.target in plan.projs:
                    if r.variable == "weights":
                        value = new_plastic.get(r.target, weights[r.target]).reshape(-1)
                    else:
                        value = syn[r.target][r.variable.removeprefix("syn.")]
                elif r.variable in ("spikes", "output"):
                    value = outputs[r.target]
                elif r.variable in plan.still.get(r.target, ()):
                    value = self._full(0.0, plan.pop_sizes[r.target])
                else:
                    value = state[r.target][r.variable]
                rec[r.key] = value if r.index is None else value[..., np.asarray(r.index)]
            new_carry = {
                "state": state,
                "syn": syn,
                "traces": traces,
                "plastic": new_plastic,
                "hist": new_hist,
            }
            return new_carry, {"rec": rec, "out": {name: outputs[name] for name in stage.emit}}

        now = {
            f"{name}/{i}": series
            for name, parts in arrival.items()
            for i, (d, series) in enumerate(parts)
            if d == 0
        }
        xs = {"t": jnp.arange(self.steps), "arrival": now, "frames": frames}
        # The backward pass recomputes each step from its carry (jax.checkpoint) instead of
        # storing every intermediate of every step: a neuron step is a few elementwise
        # operations, cheap to redo, while the stored intermediates ([T, B, N] each) cost
        # memory traffic, and above malloc's mmap threshold fresh pages on every call. On the
        # benchmark workload this halves the training time. Same operations, same gradients.
        carry, ys = jax.lax.scan(jax.checkpoint(step), carry0, xs, length=self.steps)
        return carry, ys


# -- the simulator ---------------------------------------------------------------------------


class JaxSimulator:
    """A network compiled for jax.

    Attributes:
        network: The network it was compiled from.
        resolved: Its resolved form (every default filled in, weights drawn).
        dtype: ``"float32"`` or ``"float64"``.
        ops: The :class:`JaxOps` its models compute with.
        plan: Its static structure; ``plan.fast`` tells whether it runs layer by layer
            (see :meth:`JaxBackend.compile`'s ``fast``).
    """

    def __init__(
        self,
        resolved: ResolvedNetwork,
        dtype: str,
        seed: int,
        device: jax.Device | None = None,
        *,
        fast: bool = True,
    ) -> None:
        self.resolved = resolved
        self.network = resolved.network
        self.dtype = dtype
        self.seed = seed
        self.device = device
        self.ops = JaxOps(dtype)
        self.plan = _plan(resolved, fast)
        self._fast = fast
        self._params: dict[str, _Arr] = {}
        self._delays: dict[str, npt.NDArray[np.int64]] = {}
        for pop in resolved.populations:
            for k, v in pop.params.items():
                self._params[f"{pop.name}.{k}"] = np.array(v, dtype=np.float64)
        for proj in resolved.projections:
            self._params[f"{proj.name}.weights"] = np.array(proj.weights, dtype=np.float64)
            self._delays[f"{proj.name}.delay"] = np.asarray(proj.delay, dtype=np.int64).copy()
            for k, v in proj.synapse_params.items():
                self._params[f"{proj.name}.{k}"] = np.array(v, dtype=np.float64)
        self.records = tuple(
            Record(
                p.key,
                p.target,
                p.variable,
                None if p.index is None else tuple(int(i) for i in p.index),
            )
            for p in resolved.probes
        )
        self._run = jax.jit(self._simulate, static_argnames=("records",))
        self._grad_fns: dict[tuple[Any, ...], Any] = {}

    @property
    def stages(self) -> list[list[str]]:
        """The populations of each scan, in the order they run: one list holding every
        population on the portable path; on the fast path the network's strongly connected
        components (a feed-forward layer is a list of one)."""
        return [list(stage.pops) for stage in self.plan.stages]

    @property
    def fast_layers(self) -> list[str]:
        """The populations simulated in a scan of their own, with no projection from
        themselves: their scan is the neuron update alone (empty on the portable path)."""
        if not self.plan.fast:
            return []
        looped = {p.pre for p in self.resolved.projections if p.pre == p.post}
        return [s.pops[0] for s in self.plan.stages if len(s.pops) == 1 and s.pops[0] not in looped]

    # -- parameters ---------------------------------------------------------------------------

    @property
    def trainable(self) -> tuple[str, ...]:
        """IR names of the trainable parameters: weights of projections marked trainable and
        the neuron parameters each population names in ``trainable``."""
        keys = [f"{p.name}.weights" for p in self.resolved.projections if p.trainable_weights]
        for pop in self.resolved.populations:
            keys += [f"{pop.name}.{k}" for k in sorted(pop.trainable) if k in pop.params]
        return tuple(keys)

    def get_parameters(self) -> dict[str, _Arr]:
        """Every parameter by IR name, as float64 (delays int64) numpy arrays.

        Keys: ``"<population>.<param>"``, ``"<projection>.weights"``, ``"<projection>.delay"``,
        ``"<projection>.<synapse param>"``. Weights include changes made by plasticity in the
        last :meth:`run`.
        """
        out = {k: v.copy() for k, v in self._params.items()}
        out.update({k: v.copy() for k, v in self._delays.items()})
        return out

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        """Replace parameters by IR name (see :meth:`get_parameters`), all or none.

        Weights keep their layout's shape and their projection's sign; a neuron or synapse
        parameter is a scalar or one value per neuron within its schema's bounds. Delays are
        structural: change them in the network instead.

        Raises:
            EngineError: an unknown name, a wrong shape, a value out of bounds or on the wrong
                side of zero, naming the parameter and what it takes.
        """
        shapes = {k: np.shape(v) for k, v in {**self._params, **self._delays}.items()}
        checked = neuropil.check_parameter_values(self.resolved, shapes, values)
        self._params.update(checked)
        if any(key.endswith(".tau_ref") for key in checked):
            plan = _plan(self.resolved, self._fast, self._params)
            if plan.still != self.plan.still:  # a refractory period where there was none
                self.plan = plan
                self._run = jax.jit(self._simulate, static_argnames=("records",))
                self._grad_fns.clear()

    def device_params(self, values: Mapping[str, npt.ArrayLike] | None = None) -> Params:
        """Parameters (all but delays) as jax arrays of the engine's dtype, on its device."""
        src = self._params if values is None else values
        return {
            k: self._put(jnp.asarray(np.asarray(v), dtype=self.ops.dtype)) for k, v in src.items()
        }

    def _put(self, x: jax.Array) -> jax.Array:
        return jax.device_put(x, self.device) if self.device is not None else x

    # -- simulation ---------------------------------------------------------------------------

    def _simulate(
        self,
        params: Params,
        inputs: dict[str, jax.Array],
        records: tuple[Record, ...],
    ) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
        return simulate(self.plan, self.ops, self.seed, params, inputs, records)

    def prepare_inputs(
        self, inputs: Mapping[str, npt.ArrayLike], steps: int | None
    ) -> tuple[dict[str, jax.Array], int, int]:
        """Check ``inputs`` and return every input as ``[steps, B, size]`` jax arrays (zeros
        for inputs not given), the number of steps and the batch size.

        Raises:
            EngineError: an unknown input, a wrong shape or dtype, NaN, inputs that disagree
                on batch or steps, or fewer steps than asked for.
        """
        arrays, steps, batch = neuropil.check_inputs(self.resolved, inputs, steps)
        out = {}
        for spec in self.resolved.inputs:
            if spec.name in arrays:
                value = arrays[spec.name][:steps]
                out[spec.name] = self._put(jnp.asarray(value, dtype=self.ops.dtype))
            else:
                out[spec.name] = self._put(jnp.zeros((steps, batch, spec.size), self.ops.dtype))
        return out, steps, batch

    def run(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        *,
        steps: int | None = None,
    ) -> SimulationResult:
        """Simulate from the initial state (the time loop is one jit-compiled ``lax.scan``).

        Args:
            inputs: Input name to ``[T, B, *shape]`` values (spikes or graded); missing inputs
                are zero.
            steps: Steps to simulate (default: ``T`` of the inputs).

        Returns:
            Recordings ``[T, B, n]`` for every probe (``[T, n]`` for ``weights``) and the
            final state, as numpy arrays. Plastic weights keep their learned values for later
            runs and :meth:`get_parameters`.
        """
        arrays, steps, _ = self.prepare_inputs(inputs, steps)
        recordings, final = self._run(self.device_params(), arrays, self.records)
        result_final: dict[str, _Arr] = {}
        for key, value in final.items():
            if key.endswith(".weights"):
                self._params[key] = np.asarray(value, dtype=np.float64)
            else:
                result_final[key] = np.asarray(value)
        return SimulationResult(
            recordings={r.key: np.asarray(recordings[r.key]) for r in self.records},
            dt=self.resolved.dt,
            steps=steps,
            final_state=result_final,
        )

    def loss_and_grad(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        loss_fn: LossFn,
        *,
        steps: int | None = None,
    ) -> tuple[float, dict[str, _Arr]]:
        """Simulate from the initial state, apply ``loss_fn`` and differentiate it (``jax.grad``
        through the surrogate gradients of the spikes, the whole loop jit-compiled).

        Args:
            inputs: As for :meth:`run`: input name to ``[T, B, *shape]``.
            loss_fn: ``loss_fn(ops, recordings)`` returning a scalar; ``recordings`` are the
                probes' values as jax arrays ``[T, B, n]``.
            steps: Steps to simulate (default: ``T`` of the inputs).

        Returns:
            ``(loss, gradients)``: the loss as a Python float and the gradient with respect to
            every trainable parameter (:attr:`trainable`) as float64 numpy arrays keyed and
            shaped as in :meth:`get_parameters`. Frozen parameters are left out.
        """
        arrays, _, _ = self.prepare_inputs(inputs, steps)
        params = self.device_params()
        trainable = {k: params.pop(k) for k in self.trainable}
        key = (loss_fn,)
        fn = self._grad_fns.get(key)
        if fn is None:
            records = self.records

            def objective(train: Params, fixed: Params, xs: dict[str, jax.Array]) -> jax.Array:
                recs, _ = simulate(self.plan, self.ops, self.seed, {**fixed, **train}, xs, records)
                return jnp.asarray(loss_fn(self.ops, recs))

            fn = jax.jit(jax.value_and_grad(objective))
            self._grad_fns[key] = fn
        loss, grads = fn(trainable, params, arrays)
        return float(loss), {k: np.asarray(g, dtype=np.float64) for k, g in grads.items()}
