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

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from neuropil._models import BoundSurrogate
from neuropil._resolve_types import ResolvedPopulation
from neuropil.models import ALIF, CUBA_LIF, LI, LIF
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

    def reset_v(
        self, v1: _Tensor, fired: _Tensor, threshold: _Tensor, out: _Tensor | None = None
    ) -> _Tensor:
        """``v'`` after the spikes ``fired`` (booleans), as the portable ``reset`` gives it;
        written into ``out`` when given."""
        c = self.consts
        if self.reset == "value":
            # (1 - z) * x + z * v_reset is exactly x or exactly v_reset, as is this.
            new = torch.where(fired, c["v_reset"], v1, out=out) if out is not None else None
            return new if new is not None else torch.where(fired, c["v_reset"], v1)
        if self.reset == "subtract":
            v2 = torch.where(fired, v1 - (threshold - c["v_reset"]), v1)
        else:
            v2 = v1
        if out is not None:
            out.copy_(v2)
        return v2


def _shift(seq: _Tensor, first: _Tensor) -> _Tensor:
    """``[first, seq[0], ..., seq[T-2]]``: each step's value before the step."""
    return torch.cat((first.unsqueeze(0), seq[:-1]), dim=0)


def _forward(spec: LayerSpec, current: _Tensor, init: dict[str, _Tensor]) -> dict[str, _Tensor]:
    """Run the layer over ``current`` ``[T, B, N]`` from ``init``; every sequence ``[T, B, N]``.

    Keys: ``v`` (after the step), ``i`` (``cuba_lif``), ``b`` (``alif``), ``spikes``
    (spiking models).
    """
    steps = current.shape[0]
    c = spec.consts
    out: dict[str, _Tensor] = {}
    v = init["v"]
    v_seq = torch.empty_like(current)
    if spec.model == "cuba_lif":
        i_seq = torch.empty_like(current)
        i = init["i"]
        jumps = c["w_in"] * current
        for t in range(steps):
            i = torch.add(i * c["alpha"], jumps[t], out=i_seq[t])
        out["i"] = i_seq
        drive = spec.drive(i_seq)
    else:
        drive = spec.drive(current)
    if spec.model == "li":
        for t in range(steps):
            v = v_seq[t].copy_(spec.integrate(v, drive[t]))
        out["v"] = v_seq
        return out
    if spec.model == "alif":
        b = init["b"]
        b_seq = torch.empty_like(current)
        for t in range(steps):
            v1 = spec.integrate(v, drive[t])
            threshold = spec.threshold(b)
            fired = v1 > threshold
            v = spec.reset_v(v1, fired, threshold)
            v_seq[t] = v
            b = torch.add(c["rho"] * b, fired.to(current.dtype), out=b_seq[t])
        out["b"] = b_seq
        out["v"] = v_seq
        v1_all = spec.integrate(_shift(v_seq, init["v"]), drive)
        out["spikes"] = (v1_all > spec.threshold(_shift(b_seq, init["b"]))).to(current.dtype)
        return out
    threshold = c["v_th"]
    fired_seq = torch.empty(current.shape, dtype=torch.bool, device=current.device)
    if spec.integration == "exact" and "v_rest" not in spec.plain:
        # v_inf of every step at once; the loop then does what integrate() does per step
        drive = c["v_rest"] + drive
        decay = c["decay"]
        for t in range(steps):
            vi = drive[t]
            v1 = vi + (v - vi) * decay
            fired = torch.gt(v1, threshold, out=fired_seq[t])
            v = spec.reset_v(v1, fired, threshold, out=v_seq[t])
    else:
        for t in range(steps):
            v1 = spec.integrate(v, drive[t])
            fired = torch.gt(v1, threshold, out=fired_seq[t])
            v = spec.reset_v(v1, fired, threshold, out=v_seq[t])
    out["v"] = v_seq
    out["spikes"] = fired_seq.to(current.dtype)
    return out


def _backward(
    spec: LayerSpec,
    current: _Tensor,
    init: dict[str, _Tensor],
    seqs: dict[str, _Tensor],
    g_spikes: _Tensor | None,
    g_v: _Tensor | None,
) -> _Tensor:
    """The gradient of the loss with respect to ``current`` ``[T, B, N]`` (BPTT by hand)."""
    c = spec.consts
    ops = spec.ops
    steps = current.shape[0]
    zeros = torch.zeros_like(current)
    g_v = zeros if g_v is None else g_v
    p, q = spec.partials()
    drive = spec.drive(seqs["i"] if spec.model == "cuba_lif" else current)
    v_prev = _shift(seqs["v"], init["v"])
    g_v1 = torch.empty_like(current)
    if spec.model == "li":
        carry = torch.zeros_like(current[0])
        for t in range(steps - 1, -1, -1):
            g = torch.add(g_v[t], carry, out=g_v1[t])
            carry = g * p if not spec.cut(t) else torch.zeros_like(g)
    else:
        g_s = zeros if g_spikes is None else g_spikes
        v1 = spec.integrate(v_prev, drive)
        spikes = seqs["spikes"]
        if spec.model == "alif":
            b_prev = _shift(seqs["b"], init["b"])
            threshold = spec.threshold(b_prev)
        else:
            threshold = c["v_th"] + torch.zeros((), dtype=current.dtype, device=current.device)
        sg = torch.as_tensor(spec.surrogate.derivative(ops, v1 - threshold), dtype=current.dtype)
        # v' = reset(v1, s): d v' / d v1 (keep) and d v' / d s (jump)
        if spec.reset == "value":
            keep, jump = 1 - spikes, c["v_reset"] - v1
        elif spec.reset == "subtract":
            keep, jump = torch.ones_like(v1), -(threshold - c["v_reset"])
        else:
            keep, jump = torch.ones_like(v1), torch.zeros_like(v1)
        if spec.model != "alif":
            # g_v1 = g_v' * (keep + jump * sg) + g_s * sg, carried back through v1 = f(v, drive)
            gain = keep + jump * sg
            direct = g_s * sg
            carry = torch.zeros_like(current[0])
            for t in range(steps - 1, -1, -1):
                g = torch.addcmul(direct[t], g_v[t] + carry, gain[t], out=g_v1[t])
                carry = g * p if not spec.cut(t) else torch.zeros_like(g)
        else:
            rho, beta = c["rho"], c["beta"]
            # subtract: v' = v1 - s * (A - v_reset) also depends on A directly
            dv_da = -spikes if spec.reset == "subtract" else torch.zeros_like(v1)
            carry_v = torch.zeros_like(current[0])
            carry_b = torch.zeros_like(current[0])
            for t in range(steps - 1, -1, -1):
                gv = g_v[t] + carry_v
                g_s_total = g_s[t] + gv * jump[t] + carry_b
                g = torch.add(gv * keep[t], g_s_total * sg[t], out=g_v1[t])
                g_a = gv * dv_da[t] - g_s_total * sg[t]
                carry_v = g * p
                carry_b = carry_b * rho + g_a * beta
                if spec.cut(t):
                    carry_v, carry_b = torch.zeros_like(g), torch.zeros_like(g)
    g_drive = g_v1 * q
    if spec.model == "cuba_lif":
        g_i_direct = g_drive * c["r"]
        g_i = torch.empty_like(current)
        carry = torch.zeros_like(current[0])
        for t in range(steps - 1, -1, -1):
            carry = torch.add(g_i_direct[t], carry * c["alpha"], out=g_i[t])
            if spec.cut(t):
                carry = torch.zeros_like(carry)
        return g_i * c["w_in"]
    return g_drive * c["r"]


class FusedLayer(torch.autograd.Function):
    """``(current [T, B, N], spec, init, extra) -> (output, v)`` sequences ``[T, B, N]``,
    differentiated by a hand-written BPTT.

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
    ) -> tuple[_Tensor, _Tensor]:
        with torch.no_grad():
            seqs = _forward(spec, current, init)
        ctx.spec = spec
        ctx.init = init
        ctx.seqs = seqs
        ctx.save_for_backward(current)
        extra.update({k: v for k, v in seqs.items() if k in ("i", "b")})
        v = seqs["v"]
        return seqs["spikes"] if "spikes" in seqs else v.clone(), v

    @staticmethod
    def backward(
        ctx: Any, g_first: _Tensor | None, g_v: _Tensor | None
    ) -> tuple[_Tensor | None, None, None, None]:
        (current,) = ctx.saved_tensors
        spec: LayerSpec = ctx.spec
        with torch.no_grad():
            if spec.model == "li":
                total = g_first if g_v is None else (g_v if g_first is None else g_first + g_v)
                g = _backward(spec, current, ctx.init, ctx.seqs, None, total)
            else:
                g = _backward(spec, current, ctx.init, ctx.seqs, g_first, g_v)
        return g, None, None, None


def run_fused(spec: LayerSpec, current: _Tensor, init: dict[str, _Tensor]) -> dict[str, _Tensor]:
    """The layer's sequences ``[T, B, N]`` by state name, and ``"output"``: differentiable
    through :class:`FusedLayer` when autograd records ``current``."""
    if current.requires_grad and torch.is_grad_enabled():
        extra: dict[str, _Tensor] = {}
        first, v = FusedLayer.apply(current, spec, init, extra)
        return {**extra, "v": v, "output": first}
    with torch.no_grad():
        seqs = _forward(spec, current, init)
    seqs["output"] = seqs.get("spikes", seqs["v"])
    return seqs
