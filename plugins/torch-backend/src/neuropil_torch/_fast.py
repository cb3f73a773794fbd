"""The fused fast path: a whole layer's time loop in one autograd node.

For a population of ``lif``, ``cuba_lif``, ``alif`` or ``li`` fed only feed-forward (no
projection from itself or from anything downstream), the engine computes the input current of
every step at once (one matmul per incoming projection, ``[T * B, N_pre] @ [N_pre, N]``) and hands
it to :class:`FusedLayer`, which runs the time loop without autograd and differentiates it with
a hand-written backward through time (BPTT, the spike's derivative being the population's
surrogate). The forward computes every value with the same floating-point operations, in the same
order, as the portable ``step`` of the model (the test suite checks spikes for equality in
float64), so choosing the fast path changes the speed, never the numbers.

Supported (anything else runs on the portable path): every ``integration``; ``reset`` ``value``,
``subtract`` or ``none``; ``reset_timing="immediate"`` and no refractory period (``tau_ref = 0``
and ``ref = 0`` initially) for ``lif`` and ``cuba_lif``; parameters that are not trained (the
gradient reaches the input currents, hence the weights, not the neuron parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neuropil._models import BoundSurrogate
from neuropil._resolve_types import ResolvedPopulation
from neuropil.models import ALIF, ARCTAN, CUBA_LIF, FAST_SIGMOID, LI, LIF, TRIANGLE
from neuropil_torch._ops import TorchOps

__all__ = ["FAST_MODELS", "FusedLayer", "LayerSpec", "fast_supported", "run_fused"]

#: The neuron models with a fused kernel, by name, and the definitions they must be.
FAST_MODELS = {"lif": LIF, "cuba_lif": CUBA_LIF, "alif": ALIF, "li": LI}

_Tensor = torch.Tensor


def fast_supported(pop: ResolvedPopulation) -> str | None:
    """Why ``pop`` cannot run fused (``None`` when it can), judged from the model alone."""
    model = FAST_MODELS.get(pop.model.name)
    if model is None or pop.model.step is not model.step:
        return f"model {pop.model.name!r} has no fused kernel"
    if pop.trainable:
        return "its neuron parameters are trained"
    if pop.model.name in ("lif", "cuba_lif"):
        if pop.options.get("reset_timing", "immediate") != "immediate":
            return "reset_timing='deferred'"
        if np.any(np.asarray(pop.params["tau_ref"]) != 0) or np.any(pop.initial_state["ref"] != 0):
            return "it has a refractory period"
    return None


@dataclass
class LayerSpec:
    """A fused layer: the model, its options and its constants as tensors (0-d or ``[N]``).

    ``consts`` holds exactly what the portable step computes from the parameters: ``decay``
    (``exp(-dt / tau_mem)``), ``k`` (``dt / tau_mem``), ``alpha`` (``exp(-dt / tau_syn)``),
    ``rho`` (``exp(-dt / tau_adapt)``) and the parameters themselves.
    """

    model: str
    integration: str
    reset: str
    consts: dict[str, _Tensor]
    surrogate: BoundSurrogate
    ops: TorchOps
    window: int | None = None
    #: Parameters given as Python floats: ``r = 1``, ``bias = 0`` and ``v_rest = 0`` let the
    #: update skip operations whose result is exactly their input (``x * 1``, ``x + 0``).
    plain: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        pop: ResolvedPopulation,
        params: dict[str, Any],
        ops: TorchOps,
        dt: float,
        window: int | None = None,
    ) -> LayerSpec:
        """The spec of ``pop`` with parameter values ``params`` (floats or tensors);
        ``window``: truncate the backward pass through the state every this many steps."""
        c = {k: ops.asarray(v) for k, v in params.items()}
        consts = dict(c)
        consts["decay"] = ops.exp(-dt / c["tau_mem"])
        consts["k"] = dt / c["tau_mem"]
        if "tau_syn" in c:
            consts["alpha"] = ops.exp(-dt / c["tau_syn"])
        if "tau_adapt" in c:
            consts["rho"] = ops.exp(-dt / c["tau_adapt"])
        return cls(
            pop.model.name,
            str(pop.options.get("integration", "exact")),
            str(pop.options.get("reset", "value")),
            consts,
            pop.surrogate,
            ops,
            window,
            frozenset(
                k
                for k, unit in (("r", 1.0), ("bias", 0.0), ("v_rest", 0.0))
                if isinstance(params.get(k), float) and params[k] == unit
            ),
        )

    def cut(self, t: int) -> bool:
        """Whether the gradient stops flowing from step ``t`` back to step ``t - 1``."""
        return self.window is not None and t % self.window == 0

    # -- the model's update, written as the portable step writes it --------------------------

    def drive(self, current: _Tensor) -> _Tensor:
        """``r * (current + bias)`` for every step at once (``cuba_lif``: of ``i'``)."""
        c = self.consts
        if "r" in self.plain and "bias" in self.plain:
            return current
        return c["r"] * (current + c["bias"])

    def integrate(self, v: _Tensor, drive: _Tensor) -> _Tensor:
        """``v1`` from ``v`` and the step's drive (any shape that broadcasts)."""
        c = self.consts
        if "v_rest" in self.plain and self.integration != "euler":
            if self.integration == "exact":
                return drive + (v - drive) * c["decay"]
            if self.integration == "add_after_decay":
                return c["decay"] * v + drive
            return c["decay"] * (v + drive)
        if self.integration == "exact":
            v_inf = c["v_rest"] + drive
            return v_inf + (v - v_inf) * c["decay"]
        if self.integration == "euler":
            return v + c["k"] * (c["v_rest"] - v + drive)
        if self.integration == "add_after_decay":
            return c["v_rest"] + c["decay"] * (v - c["v_rest"]) + drive
        return c["v_rest"] + c["decay"] * (v - c["v_rest"] + drive)

    def partials(self) -> tuple[_Tensor, _Tensor]:
        """``(d v1 / d v, d v1 / d drive)`` of :meth:`integrate`."""
        c = self.consts
        one = torch.ones((), dtype=self.ops.dtype, device=self.ops.device)
        if self.integration == "exact":
            return c["decay"], one - c["decay"]
        if self.integration == "euler":
            return one - c["k"], c["k"]
        if self.integration == "add_after_decay":
            return c["decay"], one
        return c["decay"], c["decay"]

    def threshold(self, b: _Tensor | None) -> _Tensor:
        """The threshold of a step: ``v_th`` (``alif``: ``v_th + beta * b``)."""
        c = self.consts
        if b is None:
            return c["v_th"]
        return c["v_th"] + c["beta"] * b


def _surrogate_grad(spec: LayerSpec, v1: _Tensor, threshold: _Tensor) -> _Tensor:
    """``d spike / d x`` at ``x = v1 - threshold`` for every step, in one fresh tensor.

    The built-in surrogates are evaluated in place (one pass over memory per operation, no
    temporaries); any other goes through its ``derivative`` on the ops.
    """
    x = torch.sub(v1, threshold)
    definition, values = spec.surrogate.definition, spec.surrogate.values
    if definition is FAST_SIGMOID:  # 1 / (1 + slope |x|) ** 2
        x.abs_().mul_(values["slope"]).add_(1.0)
        return x.mul_(x).reciprocal_()
    if definition is ARCTAN:  # (slope / 2) / (1 + (pi / 2 * slope * x) ** 2)
        x.mul_(math.pi / 2 * values["slope"])
        return x.mul_(x).add_(1.0).reciprocal_().mul_(values["slope"] / 2)
    if definition is TRIANGLE:  # slope * max(0, 1 - slope |x|)
        x.abs_().mul_(-values["slope"]).add_(1.0)
        return x.clamp_(min=0.0).mul_(values["slope"])
    return torch.as_tensor(spec.surrogate.derivative(spec.ops, x), dtype=v1.dtype)


def _loop_drive(spec: LayerSpec, drive: _Tensor) -> _Tensor:
    """What :func:`_integrate_into` adds each step: the drive (``exact`` integration with a
    ``v_rest``: ``v_inf = v_rest + drive``, computed for every step at once)."""
    if spec.integration == "exact" and "v_rest" not in spec.plain:
        return spec.consts["v_rest"] + drive
    return drive


def _integrate_into(
    spec: LayerSpec, v: _Tensor, drive: _Tensor, out: _Tensor, tmp: _Tensor
) -> _Tensor:
    """:meth:`LayerSpec.integrate` of one step written into ``out`` (``tmp``: scratch of the
    same shape), with the same operations in the same order; ``drive`` from :func:`_loop_drive`."""
    decay = spec.consts["decay"]
    if spec.integration == "exact":  # v_inf + (v - v_inf) * decay
        torch.sub(v, drive, out=tmp)
        torch.mul(tmp, decay, out=tmp)
        return torch.add(drive, tmp, out=out)
    if "v_rest" in spec.plain and spec.integration == "add_after_decay":
        torch.mul(decay, v, out=tmp)
        return torch.add(tmp, drive, out=out)
    if "v_rest" in spec.plain and spec.integration == "add_before_decay":
        torch.add(v, drive, out=tmp)
        return torch.mul(decay, tmp, out=out)
    return out.copy_(spec.integrate(v, drive))


def _reset_into(
    spec: LayerSpec, v1: _Tensor, fired: _Tensor, shift: _Tensor, out: _Tensor, tmp: _Tensor
) -> _Tensor:
    """``v'`` of a step into ``out``, as the portable ``reset`` gives it (``reset`` ``value``
    or ``subtract``; ``shift`` is ``threshold - v_reset``)."""
    if spec.reset == "value":
        # (1 - z) * x + z * v_reset is exactly x or exactly v_reset, as is this.
        return torch.where(fired, spec.consts["v_reset"], v1, out=out)
    torch.sub(v1, shift, out=tmp)
    return torch.where(fired, tmp, v1, out=out)


def _current_steps(current: _Tensor, offset: int, t0: int, t1: int) -> _Tensor:
    """The input current of steps ``t0 <= t < t1``, ``[t1 - t0, B, N]``, from ``current``
    ``[T - offset, B, N]`` that starts at step ``offset`` (zero before)."""
    if t0 >= offset:
        return current[t0 - offset : t1 - offset]
    part = current.new_zeros((t1 - t0, *current.shape[1:]))
    if t1 > offset:
        part[offset - t0 :] = current[: t1 - offset]
    return part


def _forward(
    spec: LayerSpec, current: _Tensor, init: dict[str, _Tensor], offset: int = 0
) -> dict[str, _Tensor]:
    """Run the layer from ``init`` over ``offset`` steps without input then ``current``
    ``[T - offset, B, N]``; every sequence ``[T, B, N]``.

    Keys: ``v`` (after the step), ``i`` (``cuba_lif``), ``b`` (``alif``), ``spikes``
    (spiking models).
    """
    c = spec.consts
    steps = offset + current.shape[0]
    shape = (steps, *current.shape[1:])
    out: dict[str, _Tensor] = {}
    v_seq = current.new_empty(shape)
    tmp = current.new_empty(shape[1:])
    silent = current.new_zeros(shape[1:])  # the input current of the first `offset` steps
    if spec.model == "cuba_lif":
        i_seq = current.new_empty(shape)
        i = init["i"]
        alpha = c["alpha"]
        jumps = (c["w_in"] * silent,) * offset + torch.unbind(c["w_in"] * current)
        for jump, i_t in zip(jumps, torch.unbind(i_seq), strict=True):
            torch.mul(i, alpha, out=tmp)
            i = torch.add(tmp, jump, out=i_t)
        out["i"] = i_seq
        drives = torch.unbind(_loop_drive(spec, spec.drive(i_seq)))
    else:
        drives = (_loop_drive(spec, spec.drive(silent)),) * offset + torch.unbind(
            _loop_drive(spec, spec.drive(current))
        )
    v_steps = torch.unbind(v_seq)
    v = init["v"]
    out["v"] = v_seq
    if spec.model == "li":
        for d, v_t in zip(drives, v_steps, strict=True):
            v = _integrate_into(spec, v, d, v_t, tmp)
        return out
    fired_seq = torch.empty(shape, dtype=torch.bool, device=current.device)
    fired_steps = torch.unbind(fired_seq)
    # the membrane before the reset goes to scratch (reset "none": it is v' itself)
    v1_steps = v_steps if spec.reset == "none" else (torch.empty_like(tmp),) * steps
    scratch = torch.empty_like(tmp)
    if spec.model == "alif":
        b = init["b"]
        b_seq = current.new_empty(shape)
        for d, v_t, v1_t, fired_t, b_t in zip(
            drives, v_steps, v1_steps, fired_steps, torch.unbind(b_seq), strict=True
        ):
            v1 = _integrate_into(spec, v, d, v1_t, tmp)
            threshold = spec.threshold(b)
            fired = torch.gt(v1, threshold, out=fired_t)
            if spec.reset != "none":
                v = _reset_into(spec, v1, fired, threshold - c["v_reset"], v_t, scratch)
            else:
                v = v1
            b = torch.add(c["rho"] * b, fired.to(current.dtype), out=b_t)
        out["b"] = b_seq
    else:
        threshold = c["v_th"]
        shift = threshold - c["v_reset"]
        for d, v_t, v1_t, fired_t in zip(drives, v_steps, v1_steps, fired_steps, strict=True):
            v1 = _integrate_into(spec, v, d, v1_t, tmp)
            fired = torch.gt(v1, threshold, out=fired_t)
            v = _reset_into(spec, v1, fired, shift, v_t, scratch) if spec.reset != "none" else v1
    out["spikes"] = fired_seq.to(current.dtype)
    return out


#: Bytes of one step block of the backward's elementwise work: a few such blocks stay in
#: cache, and no temporary as large as a whole sequence is allocated (and paged in).
_BLOCK_BYTES = 1 << 20


def _recur(spec: LayerSpec, g: _Tensor, factor: _Tensor) -> _Tensor:
    """``g[t] += factor * g[t + 1]`` from the last step back, in place (``factor``
    broadcasts against one step); a cut at step ``t + 1`` stops the gradient there."""
    g_steps = torch.unbind(g)
    for t in range(g.shape[0] - 2, -1, -1):
        if not spec.cut(t + 1):
            torch.addcmul(g_steps[t], g_steps[t + 1], factor, out=g_steps[t])
    return g


def _to_current(spec: LayerSpec, g_v1: _Tensor) -> _Tensor:
    """The gradient reaching the input current of every step from that of every step's
    ``v1`` (``g_v1`` ``[T, B, N]`` is overwritten: it is this function's to use)."""
    c = spec.consts
    if spec.integration != "add_after_decay":  # d v1 / d drive is 1 there
        g_v1.mul_(spec.partials()[1])
    if "r" not in spec.plain:
        g_v1.mul_(c["r"])
    if spec.model == "cuba_lif":  # i' = alpha * i + w_in * current
        _recur(spec, g_v1, c["alpha"])
        g_v1.mul_(c["w_in"])
    return g_v1


def _v1(spec: LayerSpec, saved: dict[str, _Tensor], offset: int, t0: int, t1: int) -> _Tensor:
    """The membrane before the reset, ``v1``, of steps ``t0 <= t < t1``, recomputed (the same
    operations as the forward) from ``v`` of the step before and the drive."""
    v_seq = saved["v"]
    if t0 > 0:
        v_prev = v_seq[t0 - 1 : t1 - 1]
    else:
        v_prev = torch.cat((saved["v0"].unsqueeze(0), v_seq[: t1 - 1]))
    if spec.model == "cuba_lif":
        source = saved["i"][t0:t1]
    else:
        source = _current_steps(saved["current"], offset, t0, t1)
    return spec.integrate(v_prev, spec.drive(source))


def _backward_spiking(
    spec: LayerSpec,
    saved: dict[str, _Tensor],
    offset: int,
    g_s: _Tensor | None,
    g_v: _Tensor | None,
) -> _Tensor:
    """The gradient of the input current ``[T, B, N]`` of a ``lif`` or ``cuba_lif`` layer,
    BPTT by hand, from those of the spikes and of ``v`` (``None``: zero).

    ``saved``: ``v``, ``spikes`` (``[T, B, N]``), ``v0`` (``v`` before step 0), ``current``
    and (``cuba_lif``) ``i``. Per step, ``g_v1[t] = g_s[t] sg[t] + (g_v[t] + p g_v1[t + 1])
    gain[t]``, where ``sg`` is the surrogate's derivative, ``p = d v1 / d v`` and ``gain =
    d v' / d v1 = keep + jump sg`` (``keep`` at a fixed spike, ``jump = d v' / d s``); all but
    the recurrence is computed a block of steps at a time.
    """
    c = spec.consts
    v_seq, spikes = saved["v"], saved["spikes"]
    steps = v_seq.shape[0]
    p = spec.partials()[0]
    g = torch.empty_like(v_seq)
    g_steps = torch.unbind(g)
    block = max(1, _BLOCK_BYTES // max(1, v_seq[0].numel() * v_seq.element_size()))
    for t1 in range(steps, 0, -block):
        t0 = max(0, t1 - block)
        v1 = _v1(spec, saved, offset, t0, t1)
        sg = _surrogate_grad(spec, v1, c["v_th"])
        gain: _Tensor | None
        if spec.reset == "value":
            gain = torch.sub(c["v_reset"], v1).mul_(sg).sub_(spikes[t0:t1]).add_(1.0)
        elif spec.reset == "subtract":
            gain = torch.mul(sg, c["v_reset"] - c["v_th"]).add_(1.0)
        else:
            gain = None
        g_block = g[t0:t1]
        if g_s is not None:
            torch.mul(g_s[t0:t1], sg, out=g_block)
            if g_v is not None and gain is not None:
                g_block.addcmul_(g_v[t0:t1], gain)
            elif g_v is not None:
                g_block.add_(g_v[t0:t1])
        elif g_v is not None and gain is not None:
            torch.mul(g_v[t0:t1], gain, out=g_block)
        elif g_v is not None:
            g_block.copy_(g_v[t0:t1])
        factors = torch.unbind(gain.mul_(p)) if gain is not None else (p,) * (t1 - t0)
        for t in range(t1 - 1, t0 - 1, -1):
            if t + 1 < steps and not spec.cut(t + 1):
                torch.addcmul(g_steps[t], g_steps[t + 1], factors[t - t0], out=g_steps[t])
    return _to_current(spec, g)


def _backward_alif(
    spec: LayerSpec,
    saved: dict[str, _Tensor],
    offset: int,
    g_s: _Tensor | None,
    g_v: _Tensor | None,
) -> _Tensor:
    """:func:`_backward_spiking` of ``alif``, whose threshold ``v_th + beta * b`` (``b``
    carried from step to step) carries gradient too; ``saved`` also holds ``b`` and ``b0``."""
    c = spec.consts
    spikes = saved["spikes"]
    steps = spikes.shape[0]
    v1 = _v1(spec, saved, offset, 0, steps)
    threshold = spec.threshold(_shift(saved["b"], saved["b0"]))
    sg = _surrogate_grad(spec, v1, threshold)
    rho, beta = c["rho"], c["beta"]
    p = spec.partials()[0]
    zero = torch.zeros_like(v1[0])
    # v' = reset(v1, s): d v' / d v1 at a fixed s (keep) and d v' / d s (jump)
    if spec.reset == "value":
        keep, jump = 1 - spikes, c["v_reset"] - v1
    elif spec.reset == "subtract":
        keep, jump = torch.ones_like(v1), c["v_reset"] - threshold
    else:
        keep, jump = torch.ones_like(v1), torch.zeros_like(v1)
    # subtract: v' = v1 - s * (A - v_reset) also depends on the threshold A directly
    dv_da = -spikes if spec.reset == "subtract" else torch.zeros_like(v1)
    g_v1 = torch.empty_like(v1)
    carry_v, carry_b = zero, zero
    for t in range(steps - 1, -1, -1):
        gv = carry_v if g_v is None else g_v[t] + carry_v
        g_s_total = gv * jump[t] + carry_b
        if g_s is not None:
            g_s_total = g_s_total + g_s[t]
        g = torch.add(gv * keep[t], g_s_total * sg[t], out=g_v1[t])
        g_a = gv * dv_da[t] - g_s_total * sg[t]
        carry_v = g * p
        carry_b = carry_b * rho + g_a * beta
        if spec.cut(t):
            carry_v, carry_b = zero, zero
    return _to_current(spec, g_v1)


class FusedLayer(torch.autograd.Function):
    """``(current [T - offset, B, N], spec, init, extra, offset) -> (output, v)`` sequences
    ``[T, B, N]``, differentiated by a hand-written BPTT; the layer gets no input current in
    its first ``offset`` steps.

    ``output`` is the spikes (``li``: a copy of ``v``). The other state sequences (``i`` of
    ``cuba_lif``, ``b`` of ``alif``) are put into the dict ``extra``, outside the graph.
    """

    @staticmethod
    def forward(
        ctx: Any,
        current: _Tensor,
        spec: LayerSpec,
        init: dict[str, _Tensor],
        extra: dict[str, _Tensor],
        offset: int = 0,
    ) -> tuple[_Tensor, _Tensor]:
        with torch.no_grad():
            seqs = _forward(spec, current, init, offset)
        # an output that gets no gradient stays None rather than a tensor of zeros
        ctx.set_materialize_grads(False)
        ctx.spec = spec
        ctx.offset = offset
        extra.update({k: v for k, v in seqs.items() if k in ("i", "b")})
        v = seqs["v"]
        if spec.model == "li":
            ctx.keys = ()
            return v.clone(), v
        saved = {"current": current, "v": v, "spikes": seqs["spikes"], "v0": init["v"]}
        for key in ("i", "b"):
            if key in seqs:
                saved[key] = seqs[key]
        if "b" in init:
            saved["b0"] = init["b"]
        ctx.keys = tuple(saved)
        ctx.save_for_backward(*saved.values())
        return seqs["spikes"], v

    @staticmethod
    def backward(
        ctx: Any, g_first: _Tensor | None, g_v: _Tensor | None
    ) -> tuple[_Tensor | None, None, None, None, None]:
        spec: LayerSpec = ctx.spec
        offset: int = ctx.offset
        if g_first is None and g_v is None:
            return None, None, None, None, None
        with torch.no_grad():
            if spec.model == "li":
                given = [g for g in (g_first, g_v) if g is not None]
                total = given[0] + given[1] if len(given) == 2 else given[0].clone()
                g = _to_current(spec, _recur(spec, total, spec.partials()[0]))
            else:
                saved = dict(zip(ctx.keys, ctx.saved_tensors, strict=True))
                backward = _backward_alif if spec.model == "alif" else _backward_spiking
                g = backward(spec, saved, offset, g_first, g_v)
        return g[offset:], None, None, None, None


def _shift(seq: _Tensor, first: _Tensor) -> _Tensor:
    """``[first, seq[0], ..., seq[T-2]]``: each step's value before the step."""
    return torch.cat((first.unsqueeze(0), seq[:-1]), dim=0)


def run_fused(
    spec: LayerSpec, current: _Tensor, init: dict[str, _Tensor], offset: int = 0
) -> dict[str, _Tensor]:
    """The layer's sequences ``[T, B, N]`` by state name, and ``"output"``, from ``offset``
    steps without input current then ``current`` ``[T - offset, B, N]``: differentiable
    through :class:`FusedLayer` when autograd records ``current``."""
    if current.requires_grad and torch.is_grad_enabled():
        extra: dict[str, _Tensor] = {}
        first, v = FusedLayer.apply(current, spec, init, extra, offset)
        return {**extra, "v": v, "output": first}
    with torch.no_grad():
        seqs = _forward(spec, current, init, offset)
    seqs["output"] = seqs.get("spikes", seqs["v"])
    return seqs
