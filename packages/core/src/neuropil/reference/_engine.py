"""The numpy reference engine.

It runs the time-step semantics of ``docs/concepts/time.md`` literally, one step at a time, with
the portable ``step`` functions of the models and :class:`~neuropil.reference.NumpyOps`:

for each step ``t``:
  1. for each population in ``ResolvedNetwork.order``:
     a. each incoming projection gathers ``arriving[b, j] = sum_i w[j, i] * out_pre[t - d][b, i]``
        (``d`` the synapse's delay; nothing exists before step 0),
     b. its synapse model steps and yields a current,
     c. the neuron model steps on the summed current and yields the population's output;
  2. each plastic projection's rule steps on the spikes that arrived (``pre``) and the post
     population's output (``post``) and returns new weights, used from step ``t + 1``;
  3. probes record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil._engine_support import (
    check_inputs,
    check_parameter_values,
    delay_groups,
    synapse_view,
)
from neuropil._models import SynapseView
from neuropil._network import Network
from neuropil._ops import StepContext
from neuropil._resolve import resolve
from neuropil._resolve_types import ResolvedNetwork, ResolvedProjection
from neuropil.errors import EngineError
from neuropil.protocols import SimulationResult
from neuropil.reference._ops import NumpyOps

__all__ = ["NumpyBackend", "NumpySimulator"]

_DTYPES = {"float32": np.float32, "float64": np.float64}
_Arr = npt.NDArray[Any]


class NumpyBackend:
    """Backend ``numpy``: compiles a network for the reference engine.

    Example::

        sim = NumpyBackend().compile(net, dtype="float64")
        result = sim.run({"in": spikes})        # spikes: [T, B, 700]
        result["hidden.spikes"]                 # [T, B, 256]
    """

    name = "numpy"

    def compile(
        self,
        network: Network,
        *,
        dtype: str = "float64",
        device: str | None = None,
        seed: int = 0,
    ) -> NumpySimulator:
        """Validate and resolve ``network`` and prepare it for simulation.

        Args:
            network: The network IR.
            dtype: ``"float32"`` or ``"float64"``.
            device: Must be ``None`` or ``"cpu"``: the reference engine runs on the CPU.
            seed: Seed of the random keys passed to stochastic models.

        Raises:
            NetworkValidationError: the network is invalid.
            EngineError: an unsupported dtype or device.
        """
        if dtype not in _DTYPES:
            raise EngineError(
                f"the numpy backend supports dtype 'float32' or 'float64', got {dtype!r}"
            )
        if device not in (None, "cpu"):
            raise EngineError(
                f"the numpy backend runs on the CPU only, got device {device!r}; "
                "use device=None, or a backend such as 'torch' for accelerators"
            )
        return NumpySimulator(resolve(network), np.dtype(_DTYPES[dtype]), int(seed))


@dataclass
class _Group:
    """The synapses of a projection that share one delay, in the layout ``kind``.

    A projection with one delay is one group in its own layout; with per-synapse delays each
    delay's synapses become a ``sparse`` group, so the work per step is the number of synapses,
    not the number of synapses times the number of distinct delays.
    """

    delay: int
    kind: str
    weights: _Arr
    pre_idx: npt.NDArray[np.int64] | None = None
    post_idx: npt.NDArray[np.int64] | None = None
    pre_size: int = 0
    # sparse groups, for event-driven delivery: synapses ordered by pre-synaptic neuron, and
    # where each neuron's synapses start (CSR by row = pre)
    indptr: npt.NDArray[np.int64] | None = None
    post_by_pre: npt.NDArray[np.int64] | None = None
    weights_by_pre: _Arr | None = None

    def __post_init__(self) -> None:
        if self.kind == "sparse" and self.pre_idx is not None and self.post_idx is not None:
            order = np.argsort(self.pre_idx, kind="stable")
            counts = np.bincount(self.pre_idx, minlength=self.pre_size)
            self.indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
            self.post_by_pre = self.post_idx[order]
            self.weights_by_pre = self.weights[order]


@dataclass
class _Compiled:
    """A projection as the engine runs it: weights cast, grouped by delay."""

    proj: ResolvedProjection
    weights: _Arr  # the projection's layout, engine dtype, mask applied
    delays: _Arr  # int64, () or layout
    groups: list[_Group]


class NumpySimulator:
    """A network compiled for the reference engine.

    Attributes:
        network: The network it was compiled from.
        resolved: Its resolved form (every default filled in, weights drawn).
        dtype: The numpy dtype of all state.
    """

    def __init__(self, resolved: ResolvedNetwork, dtype: np.dtype[Any], seed: int) -> None:
        self.resolved = resolved
        self.network = resolved.network
        self.dtype = dtype
        self.seed = seed
        self.ops = NumpyOps(dtype)
        self._compiled: dict[str, _Compiled] = {}
        for proj in resolved.projections:
            self._compiled[proj.name] = self._compile_projection(proj, proj.weights)
        self._pop_params: dict[str, dict[str, Any]] = {
            pop.name: {k: self._cast(v) for k, v in pop.params.items()}
            for pop in resolved.populations
        }
        self._syn_params: dict[str, dict[str, Any]] = {
            proj.name: {k: self._cast(v) for k, v in proj.synapse_params.items()}
            for proj in resolved.projections
        }
        self._sizes = {i.name: i.size for i in resolved.inputs}
        self._sizes.update({p.name: p.size for p in resolved.populations})
        # Ring-buffer length of each source's output history: its longest outgoing delay + 1.
        self._history: dict[str, int] = dict.fromkeys(self._sizes, 1)
        for proj in resolved.projections:
            self._history[proj.pre] = max(self._history[proj.pre], proj.max_delay + 1)

    # -- parameters ---------------------------------------------------------------------------

    def _cast(self, value: float | _Arr) -> Any:
        if isinstance(value, np.ndarray):
            return value.astype(self.dtype)
        return float(value)

    def _compile_projection(self, proj: ResolvedProjection, weights: _Arr) -> _Compiled:
        w = np.array(weights, dtype=self.dtype)
        if proj.mask is not None:
            w = np.where(proj.mask, w, 0).astype(self.dtype)
        delays = np.asarray(proj.delay, dtype=np.int64)
        return _Compiled(proj, w, delays, _delay_groups(proj, w))

    def get_parameters(self) -> dict[str, _Arr]:
        """Every parameter by IR name, as float64 (delays int64) numpy arrays.

        Keys: ``"<population>.<param>"``, ``"<projection>.weights"``, ``"<projection>.delay"``,
        ``"<projection>.<synapse param>"``. Weights include changes made by plasticity in the
        last :meth:`run`.
        """
        out: dict[str, _Arr] = {}
        for pop in self.resolved.populations:
            for k, v in self._pop_params[pop.name].items():
                out[f"{pop.name}.{k}"] = np.array(v, dtype=np.float64)
        for name, comp in self._compiled.items():
            out[f"{name}.weights"] = comp.weights.astype(np.float64)
            out[f"{name}.delay"] = comp.delays.copy()
            for k, v in self._syn_params[name].items():
                out[f"{name}.{k}"] = np.array(v, dtype=np.float64)
        return out

    def set_parameters(self, values: Mapping[str, npt.ArrayLike]) -> None:
        """Replace parameters by IR name (see :meth:`get_parameters`), all or none.

        Weights keep their layout's shape and their projection's sign (masked synapses stay at
        zero); a neuron or synapse parameter is a scalar or one value per neuron, within its
        schema's bounds. Delays are structural: change them in the network instead. Every entry
        is checked before any is applied.

        Raises:
            EngineError: an unknown name, a wrong shape, a value out of bounds or on the wrong
                side of zero, naming the parameter and what it takes.
        """
        current = self.get_parameters()
        checked = check_parameter_values(
            self.resolved, {k: v.shape for k, v in current.items()}, values
        )
        for key, arr in checked.items():
            target, _, name = key.rpartition(".")
            comp = self._compiled.get(target)
            if comp is not None and name == "weights":
                self._compiled[target] = self._compile_projection(comp.proj, arr)
                continue
            params = self._syn_params[target] if comp is not None else self._pop_params[target]
            params[name] = self._cast(arr if arr.ndim else float(arr))

    # -- simulation -----------------------------------------------------------------------

    def run(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        *,
        steps: int | None = None,
    ) -> SimulationResult:
        """Simulate from the initial state.

        Args:
            inputs: Input name to ``[T, B, *shape]`` values (spikes or graded); missing inputs
                are zero.
            steps: Steps to simulate (default: ``T`` of the inputs).

        Returns:
            Recordings ``[T, B, n]`` for every probe (``[T, n]`` for ``weights``), and the final
            state. Plastic weights keep their learned values for later runs and
            :meth:`get_parameters`.
        """
        arrays, steps, batch = check_inputs(self.resolved, inputs, steps)
        arrays = {name: arr.astype(self.dtype) for name, arr in arrays.items()}
        net = self.resolved
        ops = self.ops
        dt = net.dt
        zeros = {name: np.zeros((batch, n), dtype=self.dtype) for name, n in self._sizes.items()}
        # A delay longer than the run never delivers: the buffer need not exceed steps + 1.
        history = {
            name: np.zeros((min(length, steps + 1), batch, self._sizes[name]), dtype=self.dtype)
            for name, length in self._history.items()
        }
        state: dict[str, dict[str, _Arr]] = {
            pop.name: {
                k: np.broadcast_to(v.astype(self.dtype), (batch, pop.size)).copy()
                for k, v in pop.initial_state.items()
            }
            for pop in net.populations
        }
        syn_state: dict[str, dict[str, _Arr]] = {}
        traces: dict[str, dict[str, _Arr]] = {}
        views: dict[str, SynapseView] = {}
        for proj in net.projections:
            syn_state[proj.name] = {
                k: np.full(
                    (batch, proj.post_size),
                    sv.initial(self._syn_params[proj.name]),
                    dtype=self.dtype,
                )
                for k, sv in proj.synapse.state.items()
            }
            if proj.plasticity is not None:
                rule = proj.plasticity.rule
                params = proj.plasticity.params
                traces[proj.name] = {
                    **{
                        k: np.full((batch, proj.pre_size), sv.initial(params), dtype=self.dtype)
                        for k, sv in rule.pre_state.items()
                    },
                    **{
                        k: np.full((batch, proj.post_size), sv.initial(params), dtype=self.dtype)
                        for k, sv in rule.post_state.items()
                    },
                }
                views[proj.name] = synapse_view(proj)
        incoming = {pop.name: net.incoming(pop.name) for pop in net.populations}
        pops = {pop.name: pop for pop in net.populations}
        pop_index = {pop.name: i for i, pop in enumerate(net.populations)}
        proj_index = {proj.name: i for i, proj in enumerate(net.projections)}
        record: dict[str, list[_Arr]] = {probe.key: [] for probe in net.probes}
        outputs: dict[str, _Arr] = dict(zeros)

        for t in range(steps):
            for name, arr in arrays.items():
                outputs[name] = arr[t]
                history[name][t % history[name].shape[0]] = arr[t]
            arrived: dict[str, _Arr] = {}
            for pname in net.order:
                pop = pops[pname]
                current = np.zeros((batch, pop.size), dtype=self.dtype)
                for proj in incoming[pname]:
                    comp = self._compiled[proj.name]
                    arriving = self._arriving(comp, history[proj.pre], t, batch)
                    if proj.plasticity is not None:
                        arrived[proj.name] = self._delayed(
                            history[proj.pre], t, int(comp.delays), batch
                        )
                    ctx = StepContext(dt=dt, key=(self.seed, t, len(pops) + proj_index[proj.name]))
                    new_syn, syn_current = proj.synapse.step(
                        ops,
                        self._syn_params[proj.name],
                        proj.synapse_options,
                        syn_state[proj.name],
                        arriving,
                        ctx,
                    )
                    syn_state[proj.name] = new_syn
                    current = current + syn_current
                ctx = StepContext(
                    dt=dt, surrogate=pop.surrogate, key=(self.seed, t, pop_index[pname])
                )
                new_state, out = pop.model.step(
                    ops, self._pop_params[pname], pop.options, state[pname], current, ctx
                )
                state[pname] = new_state
                outputs[pname] = out
                history[pname][t % history[pname].shape[0]] = out
            for proj in net.projections:
                if proj.plasticity is None:
                    continue
                comp = self._compiled[proj.name]
                ctx = StepContext(dt=dt)
                new_traces, new_w = proj.plasticity.rule.step(
                    ops,
                    proj.plasticity.params,
                    proj.plasticity.options,
                    traces[proj.name],
                    comp.weights,
                    arrived[proj.name],
                    outputs[proj.post],
                    views[proj.name],
                    ctx,
                )
                traces[proj.name] = new_traces
                comp.weights = _constrain(np.asarray(new_w, dtype=self.dtype), proj)
                comp.groups = _delay_groups(proj, comp.weights)
            for probe in net.probes:
                value = self._probe_value(probe.target, probe.variable, outputs, state, syn_state)
                # state arrays are replaced, never written in place, so a view is safe to keep
                record[probe.key].append(
                    value.copy() if probe.index is None else value[..., probe.index]
                )

        recordings: dict[str, _Arr] = {}
        for probe in net.probes:
            frames = record[probe.key]
            if frames:
                recordings[probe.key] = np.stack(frames)
            else:
                shape = self._probe_value(
                    probe.target, probe.variable, outputs, state, syn_state
                ).shape
                n = len(probe.index) if probe.index is not None else shape[-1]
                recordings[probe.key] = np.zeros((0, *shape[:-1], n), dtype=self.dtype)
        final: dict[str, _Arr] = {}
        for pname, st in state.items():
            for k, v in st.items():
                final[f"{pname}.{k}"] = v
        for proj_name, st in syn_state.items():
            for k, v in st.items():
                final[f"{proj_name}.syn.{k}"] = v
        return SimulationResult(recordings=recordings, dt=dt, steps=steps, final_state=final)

    # -- helpers ----------------------------------------------------------------------------

    def _delayed(self, hist: _Arr, t: int, d: int, batch: int) -> _Arr:
        if t - d < 0:
            return np.zeros((batch, hist.shape[2]), dtype=self.dtype)
        frame: _Arr = hist[(t - d) % hist.shape[0]]
        return frame

    def _arriving(self, comp: _Compiled, hist: _Arr, t: int, batch: int) -> _Arr:
        out: _Arr | None = None
        for group in comp.groups:
            if t - group.delay < 0:
                continue
            part = self._propagate(comp.proj, group, hist[(t - group.delay) % hist.shape[0]])
            out = part if out is None else out + part
        if out is None:
            return np.zeros((batch, comp.proj.post_size), dtype=self.dtype)
        return out

    def _propagate(self, proj: ResolvedProjection, group: _Group, x: _Arr) -> _Arr:
        """``x`` ``[B, N_pre]`` through the group's synapses: ``[B, N_post]``."""
        w = group.weights
        if group.kind == "dense":
            out: _Arr = np.asarray(x @ w.T, dtype=self.dtype)
            return out
        if group.kind == "one_to_one":
            return np.asarray(x * w, dtype=self.dtype)
        if group.kind == "sparse":
            if group.pre_idx is None or group.post_idx is None:
                raise EngineError(f"projection {proj.name!r}: sparse without indices")
            batch = x.shape[0]
            active_b, active_pre = np.nonzero(x)
            if active_pre.size * 4 < x.size and group.indptr is not None:
                return self._deliver_events(proj, group, x, active_b, active_pre)
            # One bincount over (batch, post) pairs: far faster than ufunc.at, same sums.
            flat = (np.arange(batch)[:, None] * proj.post_size + group.post_idx[None, :]).ravel()
            contrib = (x[:, group.pre_idx] * w).ravel()
            summed = np.bincount(flat, weights=contrib, minlength=batch * proj.post_size)
            return summed.reshape(batch, proj.post_size).astype(self.dtype)
        if group.kind == "conv2d":
            return self._conv2d(proj, w, x)
        raise EngineError(f"projection {proj.name!r}: unknown connectivity {group.kind!r}")

    def _deliver_events(
        self,
        proj: ResolvedProjection,
        group: _Group,
        x: _Arr,
        active_b: npt.NDArray[np.intp],
        active_pre: npt.NDArray[np.intp],
    ) -> _Arr:
        """Sparse delivery touching only the synapses of active pre-synaptic neurons (most
        neurons are silent in most steps), as event-driven simulators do."""
        indptr, post_by_pre, weights_by_pre = group.indptr, group.post_by_pre, group.weights_by_pre
        if indptr is None or post_by_pre is None or weights_by_pre is None:
            raise EngineError(f"projection {proj.name!r}: sparse group without its CSR index")
        batch = x.shape[0]
        starts = indptr[active_pre]
        counts = indptr[active_pre + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.zeros((batch, proj.post_size), dtype=self.dtype)
        # synapse indices of every active neuron, one run per neuron: start, start + 1, ...
        run_start = np.cumsum(counts) - counts
        syn = np.arange(total) + np.repeat(starts - run_start, counts)
        values = np.repeat(x[active_b, active_pre], counts) * weights_by_pre[syn]
        flat = np.repeat(active_b, counts) * proj.post_size + post_by_pre[syn]
        summed = np.bincount(flat, weights=values, minlength=batch * proj.post_size)
        return summed.reshape(batch, proj.post_size).astype(self.dtype)

    def _conv2d(self, proj: ResolvedProjection, w: _Arr, x: _Arr) -> _Arr:
        if proj.kernel_size is None:
            raise EngineError(f"projection {proj.name!r}: conv2d without a kernel size")
        c_in, h, wd = proj.pre_shape
        c_out, h_out, w_out = proj.post_shape
        kh, kw = proj.kernel_size
        sh, sw = proj.stride
        ph, pw = proj.padding
        batch = x.shape[0]
        img = x.reshape(batch, c_in, h, wd)
        if ph or pw:
            img = np.pad(img, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        windows: _Arr = np.lib.stride_tricks.sliding_window_view(
            img,
            (kh, kw),
            axis=(2, 3),  # type: ignore[call-overload]
        )
        windows = windows[:, :, : (h_out - 1) * sh + 1 : sh, : (w_out - 1) * sw + 1 : sw]
        out = np.einsum("bchwij,ocij->bohw", windows, w)
        return np.asarray(out.reshape(batch, c_out * h_out * w_out), dtype=self.dtype)

    def _probe_value(
        self,
        target: str,
        variable: str,
        outputs: Mapping[str, _Arr],
        state: Mapping[str, Mapping[str, _Arr]],
        syn_state: Mapping[str, Mapping[str, _Arr]],
    ) -> _Arr:
        if target in self._compiled:
            if variable == "weights":
                return self._compiled[target].weights.reshape(-1)
            return syn_state[target][variable.removeprefix("syn.")]
        if variable in ("spikes", "output"):
            return outputs[target]
        return state[target][variable]


def _delay_groups(proj: ResolvedProjection, w: _Arr) -> list[_Group]:
    """The projection's delay groups (:func:`neuropil.delay_groups`) with their weights."""
    return [
        _Group(
            g.delay,
            g.kind,
            w if g.select is None else w.reshape(-1)[g.select],
            g.pre_idx,
            g.post_idx,
            proj.pre_size,
        )
        for g in delay_groups(proj)
    ]


def _constrain(w: _Arr, proj: ResolvedProjection) -> _Arr:
    """Keep learned weights on their side of zero and masked synapses at zero."""
    if proj.sign == "excitatory":
        w = np.maximum(w, 0)
    elif proj.sign == "inhibitory":
        w = np.minimum(w, 0)
    if proj.mask is not None:
        w = np.where(proj.mask, w, 0)
    return w
