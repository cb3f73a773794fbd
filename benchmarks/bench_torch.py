"""neuropil-torch against snnTorch, Norse and SpikingJelly on the same network, CPU, 2 threads.

Workload (issue #3): 700 input channels -> 256 LIF -> 20 leaky-integrator readout, dense,
batch 64, 100 time steps, float32, Poisson input spikes (p = 0.05 per step). Two benchmarks:

* ``torch-train``: forward plus backward (BPTT through the surrogate) of
  ``sum(readout membrane ** 2)`` over the whole run, gradients reaching both weight matrices;
* ``torch-forward``: the forward pass alone, without autograd.

Every library runs its own idiomatic LIF with the same time constants (``beta = exp(-dt /
tau_mem)``, ``tau_mem`` 20 ms hidden and 10 ms readout, threshold 1, reset to 0): snnTorch's
``Leaky`` cell stepped from Python, Norse's ``LIF`` / ``LI`` sequence modules, SpikingJelly's
multi-step ``LIFNode`` (SpikingJelly 2.0 picks its implementation itself). neuropil runs
``Simulator.run_tensors`` on the compiled network, which picks the fused fast path. The
``matmul-bound`` row is the lower bound: the plain torch matmuls of the same shapes
(``[T * B, 700] @ [700, 256]`` and ``[T * B, 256] @ [256, 20]``; with their backward for
``torch-train``). Peers are imported only when the benchmark runs.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Context, Implementation, Metrics, benchmark

__all__ = ["torch_forward", "torch_train"]

N_IN, N_HID, N_OUT = 700, 256, 20
DT, TAU_HID, TAU_OUT = 1e-3, 20e-3, 10e-3
PEERS = ("torch", "snntorch", "norse", "spikingjelly")


def _workload(ctx: Context) -> dict[str, Any]:
    import numpy as np
    import torch

    steps, batch = (20, 8) if ctx.quick else (100, 64)
    rng = np.random.default_rng(0)
    x = torch.as_tensor((rng.random((steps, batch, N_IN)) < 0.05).astype(np.float32))
    w1 = torch.as_tensor(rng.normal(0.0, 0.06, (N_HID, N_IN)).astype(np.float32))
    w2 = torch.as_tensor(rng.normal(0.0, 0.2, (N_OUT, N_HID)).astype(np.float32))
    ctx.params.update(
        {
            "steps": steps,
            "batch": batch,
            "sizes": [N_IN, N_HID, N_OUT],
            "dtype": "float32",
            "dt": DT,
            "tau_mem": [TAU_HID, TAU_OUT],
            "input_p": 0.05,
        }
    )
    return {"x": x, "w1": w1, "w2": w2, "steps": steps}


def _neuropil(wl: dict[str, Any]) -> tuple[Any, Callable[[], tuple[Any, Any]]]:
    import neuropil

    net = neuropil.Network(dt=DT)
    inp = net.input("in", N_IN)
    # snnTorch's Leaky: v' = beta * v + input, reset to 0 (the peers' update)
    hid = net.population("hidden", N_HID, "lif", tau_mem=TAU_HID, integration="add_after_decay")
    out = net.population("out", N_OUT, "li", tau_mem=TAU_OUT, integration="add_after_decay")
    net.connect(inp, hid, weights=wl["w1"].numpy())
    net.connect(hid, out, weights=wl["w2"].numpy())
    net.probe(hid, "spikes")
    net.probe(out, "v")
    from neuropil_torch import TorchBackend

    sim = TorchBackend().compile(net, dtype="float32")
    if sim.fast_layers != ["hidden", "out"]:
        raise RuntimeError(f"the fast path was not chosen: {sim.fast_layers}")
    params = [p for p in sim.module.parameters() if p.requires_grad]

    def forward() -> tuple[Any, Any]:
        rec, _ = sim.run_tensors({"in": wl["x"]})
        return rec["hidden.spikes"], rec["out.v"]

    return params, forward


def _snntorch(wl: dict[str, Any]) -> tuple[Any, Callable[[], tuple[Any, Any]]]:
    import snntorch  # type: ignore[import-not-found]
    import torch

    fc1 = torch.nn.Linear(N_IN, N_HID, bias=False)
    fc2 = torch.nn.Linear(N_HID, N_OUT, bias=False)
    with torch.no_grad():
        fc1.weight.copy_(wl["w1"])
        fc2.weight.copy_(wl["w2"])
    lif = snntorch.Leaky(beta=math.exp(-DT / TAU_HID), reset_mechanism="zero")
    beta_out = math.exp(-DT / TAU_OUT)

    def forward() -> tuple[Any, Any]:
        mem = lif.init_leaky()
        v = torch.zeros(wl["x"].shape[1], N_OUT)
        spikes, vs = [], []
        for t in range(wl["steps"]):
            spk, mem = lif(fc1(wl["x"][t]), mem)
            v = beta_out * v + fc2(spk)
            spikes.append(spk)
            vs.append(v)
        return torch.stack(spikes), torch.stack(vs)

    return [fc1.weight, fc2.weight], forward


def _norse(wl: dict[str, Any]) -> tuple[Any, Callable[[], tuple[Any, Any]]]:
    import norse.torch as norse  # type: ignore[import-not-found]
    import torch

    fc1 = torch.nn.Linear(N_IN, N_HID, bias=False)
    fc2 = torch.nn.Linear(N_HID, N_OUT, bias=False)
    with torch.no_grad():
        fc1.weight.copy_(wl["w1"])
        fc2.weight.copy_(wl["w2"])
    lif = norse.LIF(norse.LIFParameters(tau_mem_inv=torch.tensor(1 / TAU_HID)), dt=DT)
    li = norse.LI(norse.LIParameters(tau_mem_inv=torch.tensor(1 / TAU_OUT)), dt=DT)

    def forward() -> tuple[Any, Any]:
        spikes, _ = lif(fc1(wl["x"]))
        v, _ = li(fc2(spikes))
        return spikes, v

    return [fc1.weight, fc2.weight], forward


def _spikingjelly(wl: dict[str, Any]) -> tuple[Any, Callable[[], tuple[Any, Any]]]:
    import torch
    from spikingjelly.activation_based import (  # type: ignore[import-not-found]
        layer,
        neuron,
    )

    fc1 = layer.Linear(N_IN, N_HID, bias=False, step_mode="m")
    fc2 = layer.Linear(N_HID, N_OUT, bias=False, step_mode="m")
    with torch.no_grad():
        fc1.weight.copy_(wl["w1"])
        fc2.weight.copy_(wl["w2"])
    # SpikingJelly's tau is in steps: v += (x - v) / tau
    lif = neuron.LIFNode(tau=TAU_HID / DT, decay_input=False, step_mode="m")
    out = neuron.LIFNode(
        tau=TAU_OUT / DT,
        decay_input=False,
        v_threshold=math.inf,
        step_mode="m",
        store_v_seq=True,
    )

    def forward() -> tuple[Any, Any]:
        lif.reset()
        out.reset()
        spikes = lif(fc1(wl["x"]))
        out(fc2(spikes))
        return spikes, out.v_seq

    return [fc1.weight, fc2.weight], forward


def _matmul(wl: dict[str, Any]) -> tuple[Any, Callable[[], tuple[Any, Any]]]:
    import torch

    w1 = wl["w1"].clone().requires_grad_(True)
    w2 = wl["w2"].clone().requires_grad_(True)
    steps, batch = wl["x"].shape[:2]
    flat = wl["x"].reshape(steps * batch, N_IN)
    hidden = (flat @ wl["w1"].t() > 0.5).float()

    def forward() -> tuple[Any, Any]:
        h = flat @ w1.t()
        s = hidden + 0 * h if torch.is_grad_enabled() else hidden
        return h, s @ w2.t()

    return [w1, w2], forward


_BUILDERS: dict[str, tuple[str | None, Callable[[dict[str, Any]], Any]]] = {
    "neuropil-torch": (None, _neuropil),
    "snntorch": ("snntorch", _snntorch),
    "norse": ("norse", _norse),
    "spikingjelly": ("spikingjelly", _spikingjelly),
    "matmul-bound": (None, _matmul),
}


def _implementations(ctx: Context, *, backward: bool) -> dict[str, Implementation]:
    import torch

    wl = _workload(ctx)
    out: dict[str, Implementation] = {}
    for name, (module, build) in _BUILDERS.items():
        if module is not None and importlib.util.find_spec(module) is None:
            ctx.skip(name, f"{module} is not installed (uv run nox -s bench installs it)")
            continue
        params, forward = build(wl)

        def run(params: Any = params, forward: Callable[[], Any] = forward) -> Metrics:
            if backward:
                for p in params:
                    p.grad = None
                spikes, v = forward()
                loss = (v**2).sum()
                loss.backward()
            else:
                with torch.no_grad():
                    spikes, v = forward()
                loss = (v**2).sum()
            return {
                "hidden_rate": float(spikes.detach().float().mean()),
                "loss": float(loss.detach()),
            }

        out[name] = run
    return out


@benchmark(
    "torch-train",
    baseline="matmul-bound",
    subject="neuropil-torch",
    peers=PEERS,
    threads=2,
)
def torch_train(ctx: Context) -> dict[str, Implementation]:
    """700 -> 256 LIF -> 20 LI, batch 64, 100 steps, float32, CPU: forward + BPTT backward;
    neuropil-torch (fused fast path) against snnTorch, Norse, SpikingJelly and the matmuls."""
    return _implementations(ctx, backward=True)


@benchmark(
    "torch-forward",
    baseline="matmul-bound",
    subject="neuropil-torch",
    peers=PEERS,
    threads=2,
)
def torch_forward(ctx: Context) -> dict[str, Implementation]:
    """700 -> 256 LIF -> 20 LI, batch 64, 100 steps, float32, CPU: forward pass only;
    neuropil-torch against snnTorch, Norse, SpikingJelly and the plain matmul lower bound."""
    return _implementations(ctx, backward=False)
