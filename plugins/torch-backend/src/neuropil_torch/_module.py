"""A resolved network as a ``torch.nn.Module``: parameters, the time loop, probes.

The module runs the time-step semantics of ``docs/concepts/time.md`` exactly as the reference
engine does (same order of populations, delays from the history of each source, synapse models,
plasticity after every population has stepped, probes after the step). The work is split into
*groups* of populations: the strongly connected components of the projection graph, in a
topological order consistent with the network's update order. Every population of a group only
reads sources of earlier groups (complete sequences ``[T, B, N]``) and of its own group, so a
group can run its whole time loop before the next one starts; that is what lets a
feed-forward layer run fused (:mod:`neuropil_torch._fast`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional

import neuropil
from neuropil._models import SynapseView
from neuropil._ops import StepContext
from neuropil._resolve_types import ResolvedNetwork, ResolvedPopulation, ResolvedProjection
from neuropil.errors import EngineError
from neuropil.models import DELTA
from neuropil_torch._fast import LayerSpec, fast_supported, run_fused
from neuropil_torch._ops import TorchOps

__all__ = ["TorchNetwork"]

_Tensor = torch.Tensor
# Sparse projections with more synapses than this deliver through torch's CSR kernel when no
# gradient is recorded; smaller ones (and every differentiated run) use index_add.
_CSR_MIN_NNZ = 4096


def param_key(ir_key: str) -> str:
    """The ``nn.ParameterDict`` key of IR key ``ir_key`` (torch refuses ``.`` in names)."""
    return ir_key.replace(".", ":")


@dataclass
class _DelayGroup:
    """The synapses of a projection with one delay: all of them in the projection's layout
    (``flat is None``), or a ``sparse`` subset given by flat indices into the weights."""

    delay: int
    kind: str
    flat: _Tensor | None = None
    pre_idx: _Tensor | None = None
    post_idx: _Tensor | None = None


@dataclass
class _Group:
    """Populations that run their time loop together, in update order."""

    pops: list[str]
    fast: bool = False
    why_not_fast: str = ""


@dataclass
class _RunState:
    """Everything one run builds: sequences of every source and what the probes recorded."""

    batch: int
    steps: int
    seq: dict[str, Any] = field(default_factory=dict)  # name -> [T, B, N] tensor or list
    record: dict[str, list[_Tensor] | _Tensor] = field(default_factory=dict)
    final: dict[str, _Tensor] = field(default_factory=dict)


class TorchNetwork(nn.Module):
    """A resolved network compiled for torch.

    Every parameter is an ``nn.Parameter`` in :attr:`params`, under its IR name with ``.``
    written ``:`` (``"in->hidden:weights"``, ``"hidden:tau_mem"``); ``requires_grad`` is set for
    what the network marks trainable. Delays and masks are buffers. State is created per run,
    ``[B, N]``.

    Args:
        resolved: The network, resolved.
        dtype: ``torch.float32`` or ``torch.float64``.
        device: Where parameters and state live.
        seed: Seed of the random keys passed to stochastic models.
        fast: Let feed-forward layers run fused (see :mod:`neuropil_torch._fast`); ``False``
            forces the portable path everywhere.
    """

    def __init__(
        self,
        resolved: ResolvedNetwork,
        dtype: torch.dtype,
        device: torch.device,
        seed: int,
        *,
        fast: bool = True,
    ) -> None:
        super().__init__()
        self.resolved = resolved
        self.ops = TorchOps(dtype, device)
        self.dtype = dtype
        self.device = device
        self.seed = seed
        self.params = nn.ParameterDict()
        self.ir_keys: list[str] = []
        for pop in resolved.populations:
            for k, v in pop.params.items():
                self._add(f"{pop.name}.{k}", v, k in pop.trainable)
        self._masks: dict[str, _Tensor] = {}
        self._delay_groups: dict[str, list[_DelayGroup]] = {}
        self._views: dict[str, SynapseView] = {}
        for proj in resolved.projections:
            w = np.asarray(proj.weights, dtype=np.float64)
            if proj.mask is not None:
                w = np.where(proj.mask, w, 0.0)
                self._masks[proj.name] = torch.as_tensor(proj.mask, dtype=dtype, device=device)
            trainable = proj.trainable_weights and proj.plasticity is None
            self._add(f"{proj.name}.weights", w, trainable)
            self.register_buffer(
                param_key(f"{proj.name}.delay").replace(":", "__"),
                torch.as_tensor(np.asarray(proj.delay, dtype=np.int64), device=device),
            )
            for k, v in proj.synapse_params.items():
                self._add(f"{proj.name}.{k}", v, False)
            self._delay_groups[proj.name] = self._make_delay_groups(proj)
            if proj.plasticity is not None:
                self._views[proj.name] = neuropil.synapse_view(
                    proj, lambda idx: torch.as_tensor(idx, device=self.device)
                )
        self._incoming = {pop.name: resolved.incoming(pop.name) for pop in resolved.populations}
        self._pops = {pop.name: pop for pop in resolved.populations}
        self._pop_index = {pop.name: i for i, pop in enumerate(resolved.populations)}
        self._proj_index = {p.name: i for i, p in enumerate(resolved.projections)}
        self._sizes = {i.name: i.size for i in resolved.inputs}
        self._sizes.update({p.name: p.size for p in resolved.populations})
        self.groups = self._plan(fast)
        #: Truncated BPTT window in steps (``None``: full BPTT): gradients do not flow through
        #: neuron and synapse state from a step that is a multiple of it back to the step
        #: before; the forward pass is unchanged. Set by the training loop.
        self.tbptt: int | None = None

    # -- construction ---------------------------------------------------------------------

    def _add(self, key: str, value: Any, trainable: bool) -> None:
        tensor = torch.as_tensor(np.asarray(value, dtype=np.float64), device=self.device)
        self.params[param_key(key)] = nn.Parameter(
            tensor.to(self.dtype), requires_grad=bool(trainable)
        )
        self.ir_keys.append(key)

    def _make_delay_groups(self, proj: ResolvedProjection) -> list[_DelayGroup]:
        dev = self.device

        def idx(a: Any) -> _Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=dev)

        return [
            _DelayGroup(
                g.delay,
                g.kind,
                None if g.select is None else idx(g.select),
                None if g.pre_idx is None else idx(g.pre_idx),
                None if g.post_idx is None else idx(g.post_idx),
            )
            for g in neuropil.delay_groups(proj)
        ]

    def _plan(self, fast: bool) -> list[_Group]:
        """Groups of populations (strongly connected components) in a valid run order."""
        net = self.resolved
        order = list(net.order)
        if any(p.plasticity is not None for p in net.projections):
            # rules step after every population of a step: one loop over the whole network
            return [_Group(order, False, "the network has plasticity")]
        succ: dict[str, set[str]] = {p: set() for p in order}
        for proj in net.projections:
            if proj.pre in succ:
                succ[proj.pre].add(proj.post)

        def reach(start: str) -> set[str]:
            seen: set[str] = set()
            todo = [start]
            while todo:
                for nxt in succ[todo.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            return seen

        reachable = {p: reach(p) for p in order}
        comp_of: dict[str, int] = {}
        comps: list[list[str]] = []
        for p in order:
            if p in comp_of:
                continue
            members = [q for q in order if q == p or (q in reachable[p] and p in reachable[q])]
            for q in members:
                comp_of[q] = len(comps)
            comps.append(members)
        # Kahn's algorithm, always taking the ready component that comes first in `order`
        deps: dict[int, set[int]] = {i: set() for i in range(len(comps))}
        for proj in net.projections:
            if proj.pre in comp_of and comp_of[proj.pre] != comp_of[proj.post]:
                deps[comp_of[proj.post]].add(comp_of[proj.pre])
        done: set[int] = set()
        groups: list[_Group] = []
        while len(done) < len(comps):
            ready = next(i for i in range(len(comps)) if i not in done and deps[i] <= done)
            done.add(ready)
            members = comps[ready]
            why = self._why_not_fast(members) if fast else "fast=False"
            groups.append(_Group(members, why is None, why or ""))
        return groups

    def _why_not_fast(self, members: list[str]) -> str | None:
        if len(members) != 1:
            return "recurrent populations " + ", ".join(members)
        pop = self._pops[members[0]]
        why = fast_supported(pop)
        if why is not None:
            return why
        for proj in self._incoming[pop.name]:
            if proj.pre == pop.name:
                return f"it has the recurrent projection {proj.name!r}"
            if proj.kind != "dense" or proj.synapse.step is not DELTA.step:
                return f"projection {proj.name!r} is not a dense delta projection"
            if np.ndim(proj.delay) != 0:
                return f"projection {proj.name!r} has per-synapse delays"
        for probe in self.resolved.probes:
            if probe.target == pop.name and probe.variable in ("i", "b"):
                return f"probe {probe.key!r} records state the fused kernel does not differentiate"
        return None

    # -- parameters -----------------------------------------------------------------------

    def parameter(self, ir_key: str) -> nn.Parameter:
        """The ``nn.Parameter`` of IR name ``ir_key`` (``"in->hidden.weights"``)."""
        param: nn.Parameter = self.params[param_key(ir_key)]
        return param

    def named_ir_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """``(IR name, parameter)`` pairs, in the order of the network."""
        return [(k, self.parameter(k)) for k in self.ir_keys]

    def delay(self, proj: str) -> _Tensor:
        """The int64 delay buffer of projection ``proj`` (``()`` or the weights' layout)."""
        buf: _Tensor = getattr(self, param_key(f"{proj}.delay").replace(":", "__"))
        return buf

    def effective_weights(self, proj: ResolvedProjection) -> _Tensor:
        """The weights with the mask applied, differentiable."""
        w = self.parameter(f"{proj.name}.weights")
        mask = self._masks.get(proj.name)
        return w if mask is None else w * mask

    def _values(self, prefix: str, names: Mapping[str, Any]) -> dict[str, Any]:
        """Parameter values as a step expects them: Python floats for fixed scalars (as the
        reference engine passes them), tensors otherwise."""
        out: dict[str, Any] = {}
        for k in names:
            p = self.parameter(f"{prefix}.{k}")
            if p.requires_grad:
                out[k] = p
            elif p.dim() == 0:
                out[k] = float(p.detach().cpu())
            else:
                out[k] = p.detach()
        return out

    # -- simulation -----------------------------------------------------------------------

    def forward(
        self, inputs: Mapping[str, _Tensor], steps: int, batch: int
    ) -> tuple[dict[str, _Tensor], dict[str, _Tensor]]:
        """Simulate ``steps`` steps from the initial state.

        Args:
            inputs: Input name to ``[T, B, size]`` tensors of the module's dtype and device
                (``T >= steps``); missing inputs are zero.
            steps: Steps to simulate.
            batch: The batch size ``B``.

        Returns:
            ``(recordings, final_state)``: probe key to ``[T, B, n]`` (``weights`` probes
            ``[T, n_synapses]``), differentiable where autograd records; and the final state
            by ``"population.variable"`` / ``"projection.syn.variable"``, ``[B, N]``.
        """
        run = _RunState(batch, steps)
        for inp in self.resolved.inputs:
            x = inputs.get(inp.name)
            if x is None:
                x = torch.zeros((steps, batch, inp.size), dtype=self.dtype, device=self.device)
            run.seq[inp.name] = x[:steps]
        pop_params = {
            pop.name: self._values(pop.name, pop.params) for pop in self.resolved.populations
        }
        syn_params = {
            proj.name: self._values(proj.name, proj.synapse_params)
            for proj in self.resolved.projections
        }
        weights = {p.name: self.effective_weights(p) for p in self.resolved.projections}
        for group in self.groups:
            if group.fast and steps > 0:
                self._run_fused(group.pops[0], run, pop_params, weights)
            else:
                self._run_portable(group, run, pop_params, syn_params, weights)
        recordings: dict[str, _Tensor] = {}
        for probe in self.resolved.probes:
            frames = run.record.get(probe.key)
            if frames is None:
                frames = self._sequence(probe.target, probe.variable, run)
            value = torch.stack(frames) if isinstance(frames, list) else frames
            if value.shape[0] == 0 and isinstance(frames, list):
                value = self._empty_record(probe.target, probe.variable, run)
            if probe.index is not None:
                value = value[..., torch.as_tensor(probe.index, device=self.device)]
            recordings[probe.key] = value
        return recordings, run.final

    def _empty_record(self, target: str, variable: str, run: _RunState) -> _Tensor:
        if variable == "weights":
            n = int(np.prod(self.parameter(f"{target}.weights").shape))
            return torch.zeros((0, n), dtype=self.dtype, device=self.device)
        size = self._sizes.get(target)
        if size is None:
            size = next(p.post_size for p in self.resolved.projections if p.name == target)
        return torch.zeros((0, run.batch, size), dtype=self.dtype, device=self.device)

    def _sequence(self, target: str, variable: str, run: _RunState) -> Any:
        """A recording that a group left as a whole sequence (inputs, fused layers)."""
        if target in run.seq and variable in ("spikes", "output"):
            return run.seq[target]
        key = f"{target}.{variable}"
        if key in run.record:
            return run.record[key]
        raise EngineError(f"probe {key!r}: nothing recorded it (this is a bug in neuropil-torch)")

    def _initial(self, pop: ResolvedPopulation, batch: int) -> dict[str, _Tensor]:
        return {
            k: torch.as_tensor(v, device=self.device)
            .to(self.dtype)
            .broadcast_to((batch, pop.size))
            .clone()
            for k, v in pop.initial_state.items()
        }

    def _run_fused(
        self,
        name: str,
        run: _RunState,
        pop_params: Mapping[str, dict[str, Any]],
        weights: Mapping[str, _Tensor],
    ) -> None:
        pop = self._pops[name]
        steps, batch = run.steps, run.batch
        # each projection's current from its first step with input on: the matmul of every
        # step at once, the delay d shifting it (no input in the first d steps)
        parts: list[tuple[int, _Tensor]] = []
        for proj in self._incoming[name]:
            src = run.seq[proj.pre]
            x = torch.stack(src) if isinstance(src, list) else src
            d = int(proj.delay)
            if d >= steps:
                continue
            w = weights[proj.name].t()
            if x.requires_grad and pop.size <= x.shape[-1] and 4 * d <= steps:
                # slicing a differentiable input pads its (larger) gradient back with zeros:
                # slice the product instead, at the price of d more rows of matmul
                parts.append((d, torch.matmul(x, w)[: steps - d]))
            else:
                parts.append((d, torch.matmul(x[: steps - d], w)))
        offset = min((d for d, _ in parts), default=steps)
        current: _Tensor | None = None
        for d, part in parts:
            if d > offset:
                pad = torch.zeros(
                    (d - offset, batch, pop.size), dtype=self.dtype, device=self.device
                )
                part = torch.cat((pad, part), dim=0)
            current = part if current is None else current + part
        if current is None:
            current = torch.zeros((0, batch, pop.size), dtype=self.dtype, device=self.device)
        spec = LayerSpec.build(pop, pop_params[name], self.ops, self.resolved.dt, self.tbptt)
        init = self._initial(pop, batch)
        seqs = run_fused(spec, current, init, offset)
        run.seq[name] = seqs["output"]
        for var in pop.model.state:
            if var in seqs or var == "s":
                seq = seqs.get(var, seqs["output"])
                run.record[f"{name}.{var}"] = seq
                run.final[f"{name}.{var}"] = seq[-1]
                continue
            # ref: no refractory period on the fast path; a sequence of zeros only if probed
            run.final[f"{name}.{var}"] = torch.zeros_like(seqs["v"][-1])
            if any(p.target == name and p.variable == var for p in self.resolved.probes):
                run.record[f"{name}.{var}"] = torch.zeros_like(seqs["v"])

    def _run_portable(
        self,
        group: _Group,
        run: _RunState,
        pop_params: Mapping[str, dict[str, Any]],
        syn_params: Mapping[str, dict[str, Any]],
        weights: Mapping[str, _Tensor],
    ) -> None:
        net = self.resolved
        ops = self.ops
        dt = net.dt
        batch, steps = run.batch, run.steps
        members = set(group.pops)
        projs = [p for name in group.pops for p in self._incoming[name]]
        state = {name: self._initial(self._pops[name], batch) for name in group.pops}
        syn_state: dict[str, dict[str, _Tensor]] = {}
        for proj in projs:
            syn_state[proj.name] = {
                k: torch.full(
                    (batch, proj.post_size),
                    float(sv.initial(syn_params[proj.name])),
                    dtype=self.dtype,
                    device=self.device,
                )
                for k, sv in proj.synapse.state.items()
            }
        plastic = [p for p in projs if p.plasticity is not None]
        current_w = dict(weights)
        traces: dict[str, dict[str, _Tensor]] = {}
        for proj in plastic:
            assert proj.plasticity is not None  # narrowed for mypy: filtered just above
            current_w[proj.name] = weights[proj.name].detach().clone()
            rule, rp = proj.plasticity.rule, proj.plasticity.params
            traces[proj.name] = {
                **{
                    k: torch.full(
                        (batch, proj.pre_size),
                        float(sv.initial(rp)),
                        dtype=self.dtype,
                        device=self.device,
                    )
                    for k, sv in rule.pre_state.items()
                },
                **{
                    k: torch.full(
                        (batch, proj.post_size),
                        float(sv.initial(rp)),
                        dtype=self.dtype,
                        device=self.device,
                    )
                    for k, sv in rule.post_state.items()
                },
            }
        for name in group.pops:
            run.seq[name] = []
        probes = [
            p for p in net.probes if p.target in members or any(p.target == q.name for q in projs)
        ]
        frames: dict[str, list[_Tensor]] = {p.key: [] for p in probes}
        csr = self._csr_cache(projs, current_w)
        n_pops = len(net.populations)
        window = self.tbptt
        for t in range(steps):
            if window is not None and t > 0 and t % window == 0:
                state = {n: {k: v.detach() for k, v in st.items()} for n, st in state.items()}
                syn_state = {
                    n: {k: v.detach() for k, v in st.items()} for n, st in syn_state.items()
                }
            arrived: dict[str, _Tensor] = {}
            outputs: dict[str, _Tensor] = {}
            for name in group.pops:
                pop = self._pops[name]
                current: _Tensor | None = None
                for proj in self._incoming[name]:
                    arriving = self._arriving(proj, run.seq[proj.pre], t, batch, current_w, csr)
                    if proj.plasticity is not None:
                        d = int(proj.delay)
                        arrived[proj.name] = (
                            run.seq[proj.pre][t - d]
                            if t - d >= 0
                            else torch.zeros(
                                (batch, proj.pre_size), dtype=self.dtype, device=self.device
                            )
                        )
                    ctx = StepContext(
                        dt=dt, key=(self.seed, t, n_pops + self._proj_index[proj.name])
                    )
                    new_syn, syn_current = proj.synapse.step(
                        ops,
                        syn_params[proj.name],
                        proj.synapse_options,
                        syn_state[proj.name],
                        arriving,
                        ctx,
                    )
                    syn_state[proj.name] = new_syn
                    current = syn_current if current is None else current + syn_current
                if current is None:
                    current = torch.zeros((batch, pop.size), dtype=self.dtype, device=self.device)
                ctx = StepContext(
                    dt=dt, surrogate=pop.surrogate, key=(self.seed, t, self._pop_index[name])
                )
                new_state, out = pop.model.step(
                    ops, pop_params[name], pop.options, state[name], current, ctx
                )
                state[name] = new_state
                out = ops.asarray(out)
                outputs[name] = out
                run.seq[name].append(out)
            if plastic:
                with torch.no_grad():
                    for proj in plastic:
                        assert proj.plasticity is not None  # narrowed for mypy
                        new_traces, new_w = proj.plasticity.rule.step(
                            ops,
                            proj.plasticity.params,
                            proj.plasticity.options,
                            traces[proj.name],
                            current_w[proj.name],
                            arrived[proj.name],
                            outputs[proj.post],
                            self._views[proj.name],
                            StepContext(dt=dt),
                        )
                        traces[proj.name] = new_traces
                        current_w[proj.name] = self._constrain(ops.asarray(new_w), proj)
                csr = self._csr_cache(projs, current_w) if csr else csr
            for probe in probes:
                frames[probe.key].append(
                    self._probe_value(
                        probe.target, probe.variable, outputs, state, syn_state, current_w
                    )
                )
        for key, values in frames.items():
            run.record[key] = values
        for name, st in state.items():
            for k, v in st.items():
                run.final[f"{name}.{k}"] = v
        for proj_name, st in syn_state.items():
            for k, v in st.items():
                run.final[f"{proj_name}.syn.{k}"] = v
        if plastic:
            with torch.no_grad():
                for proj in plastic:
                    self.parameter(f"{proj.name}.weights").copy_(current_w[proj.name])

    def _csr_cache(
        self, projs: list[ResolvedProjection], w: Mapping[str, _Tensor]
    ) -> dict[tuple[str, int], _Tensor]:
        """CSR matrices of large sparse groups, for runs that record no gradient."""
        cache: dict[tuple[str, int], _Tensor] = {}
        if torch.is_grad_enabled():
            return cache
        for proj in projs:
            for k, g in enumerate(self._delay_groups[proj.name]):
                if g.kind != "sparse" or g.pre_idx is None or g.post_idx is None:
                    continue
                if g.pre_idx.numel() < _CSR_MIN_NNZ:
                    continue
                values = w[proj.name] if g.flat is None else w[proj.name].reshape(-1)[g.flat]
                coo = torch.sparse_coo_tensor(
                    torch.stack((g.post_idx, g.pre_idx)),
                    values.detach(),
                    (proj.post_size, proj.pre_size),
                )
                cache[(proj.name, k)] = coo.coalesce().to_sparse_csr()
        return cache

    def _arriving(
        self,
        proj: ResolvedProjection,
        hist: Any,
        t: int,
        batch: int,
        w: Mapping[str, _Tensor],
        csr: Mapping[tuple[str, int], _Tensor],
    ) -> _Tensor:
        out: _Tensor | None = None
        for k, group in enumerate(self._delay_groups[proj.name]):
            if t - group.delay < 0:
                continue
            x = hist[t - group.delay]
            gw = w[proj.name] if group.flat is None else w[proj.name].reshape(-1)[group.flat]
            part = self._propagate(proj, group, gw, x, csr.get((proj.name, k)))
            out = part if out is None else out + part
        if out is None:
            return torch.zeros((batch, proj.post_size), dtype=self.dtype, device=self.device)
        return out

    def _propagate(
        self,
        proj: ResolvedProjection,
        group: _DelayGroup,
        w: _Tensor,
        x: _Tensor,
        csr: _Tensor | None,
    ) -> _Tensor:
        """``x`` ``[B, N_pre]`` through the group's synapses: ``[B, N_post]``."""
        if group.kind == "dense":
            return torch.matmul(x, w.t())
        if group.kind == "one_to_one":
            return x * w
        if group.kind == "sparse":
            if group.pre_idx is None or group.post_idx is None:
                raise EngineError(f"projection {proj.name!r}: sparse without indices")
            if csr is not None:
                return torch.matmul(csr, x.t()).t()
            out = torch.zeros((x.shape[0], proj.post_size), dtype=self.dtype, device=self.device)
            return out.index_add(1, group.post_idx, x[:, group.pre_idx] * w)
        if group.kind == "conv2d":
            c_in, h, wd = proj.pre_shape
            img = x.reshape(x.shape[0], c_in, h, wd)
            y = functional.conv2d(img, w, stride=proj.stride, padding=proj.padding)
            return y.reshape(x.shape[0], -1)
        raise EngineError(f"projection {proj.name!r}: unknown connectivity {group.kind!r}")

    @staticmethod
    def _constrain(w: _Tensor, proj: ResolvedProjection) -> _Tensor:
        """Keep learned weights on their side of zero and masked synapses at zero."""
        if proj.sign == "excitatory":
            w = torch.clamp(w, min=0)
        elif proj.sign == "inhibitory":
            w = torch.clamp(w, max=0)
        if proj.mask is not None:
            w = torch.where(torch.as_tensor(proj.mask, device=w.device), w, torch.zeros_like(w))
        return w

    def _probe_value(
        self,
        target: str,
        variable: str,
        outputs: Mapping[str, _Tensor],
        state: Mapping[str, Mapping[str, _Tensor]],
        syn_state: Mapping[str, Mapping[str, _Tensor]],
        w: Mapping[str, _Tensor],
    ) -> _Tensor:
        if target in self._delay_groups:
            if variable == "weights":
                return w[target].reshape(-1)
            return syn_state[target][variable.removeprefix("syn.")]
        if variable in ("spikes", "output"):
            return outputs[target]
        return state[target][variable]
