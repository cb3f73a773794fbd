"""The torch-backend workload on neuropil-jax, against neuropil-torch and Spyx.

Workload (that of ``bench_torch.py``, same draws): 700 input channels -> 256 ``lif`` (dense) ->
20 ``li`` (dense), batch 64, 100 steps at dt = 1 ms, float32, Poisson input (p = 0.05 per
step); ``integration = "add_after_decay"`` (``v' = beta v + input``), reset to 0, tau_mem 20 ms
hidden and 10 ms readout, delay 1.

Timed, for each library: the forward pass alone (the whole time loop, recordings back on the
host), and forward + backward (the loss ``sum(out.v ** 2)`` and its gradient with respect to
both weight matrices, through the surrogate gradient of the spikes, gradients back on the
host). neuropil runs through its public API: ``Simulator.run`` and ``loss_and_grad``, which
include checking the input and copying it to the device. Spyx (``spyx.nn.LIF`` / ``LI``, flax
``nnx.Linear`` without bias, ``spyx.nn.run`` under ``jax.jit``) runs the same shapes with its own
LIF (snnTorch-style ``beta = exp(-dt / tau_mem)``, reset by subtraction), so its numbers are of
the same work, not of the same spikes. Compilation is done in the warm-up and not timed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.harness import Context, Implementation, Metrics, benchmark

__all__ = ["jax_train", "network"]

N_IN, N_HIDDEN, N_OUT = 700, 256, 20
DT, TAU_HID, TAU_OUT = 1e-3, 20e-3, 10e-3


def network(w1: Any, w2: Any) -> Any:
    """The 700-256-20 network of the torch benchmark (``add_after_decay``: ``v' = beta v +
    input``, reset to 0), with weights ``w1`` ``[256, 700]`` and ``w2`` ``[20, 256]``."""
    import neuropil

    net = neuropil.Network(dt=DT, name="bench-700-256-20")
    inp = net.input("in", N_IN)
    hid = net.population("hidden", N_HIDDEN, "lif", tau_mem=TAU_HID, integration="add_after_decay")
    out = net.population("out", N_OUT, "li", tau_mem=TAU_OUT, integration="add_after_decay")
    net.connect(inp, hid, weights=w1)
    net.connect(hid, out, weights=w2)
    net.probe(out, "v")
    return net


def _loss(ops: Any, recordings: Mapping[str, Any]) -> Any:
    v = recordings["out.v"]
    return ops.sum(v * v)


def _neuropil(
    backend: str, net: Any, x: Any, impls: dict[str, Implementation], ctx: Context
) -> None:
    import numpy as np

    import neuropil

    try:
        sim: Any = neuropil.compile(net, backend=backend, dtype="float32")
    except Exception as exc:  # a missing plugin is reported, not fatal
        ctx.skip(f"neuropil-{backend}-forward", f"{type(exc).__name__}: {exc}")
        ctx.skip(f"neuropil-{backend}-train", f"{type(exc).__name__}: {exc}")
        return

    def forward() -> Metrics:
        v = sim.run({"in": x})["out.v"]
        return {"mean_v": float(np.mean(v))}

    def train() -> Metrics:
        loss, _ = sim.loss_and_grad({"in": x}, _loss)
        return {"loss": float(loss)}

    impls[f"neuropil-{backend}-forward"] = forward
    if hasattr(sim, "loss_and_grad"):
        impls[f"neuropil-{backend}-train"] = train
    else:
        ctx.skip(f"neuropil-{backend}-train", "the simulator has no loss_and_grad")


def _spyx(x: Any, w1: Any, w2: Any, impls: dict[str, Implementation], ctx: Context) -> None:
    if importlib.util.find_spec("spyx") is None:
        reason = "spyx is not installed (the bench session installs it: BENCH_PEERS)"
        ctx.skip("spyx-forward", reason)
        ctx.skip("spyx-train", reason)
        return
    import jax
    import jax.numpy as jnp
    import numpy as np
    import spyx  # type: ignore[import-not-found]
    from flax import nnx  # type: ignore[import-not-found]

    rngs = nnx.Rngs(0)
    first = nnx.Linear(N_IN, N_HIDDEN, use_bias=False, rngs=rngs)
    second = nnx.Linear(N_HIDDEN, N_OUT, use_bias=False, rngs=rngs)
    first.kernel = nnx.Param(jnp.asarray(w1.T))
    second.kernel = nnx.Param(jnp.asarray(w2.T))
    model = spyx.nn.Sequential(
        first,
        spyx.nn.LIF((N_HIDDEN,), beta=float(np.exp(-DT / TAU_HID)), rngs=rngs),
        second,
        spyx.nn.LI((N_OUT,), beta=float(np.exp(-DT / TAU_OUT)), rngs=rngs),
    )
    graphdef, params = nnx.split(model)
    xs = jnp.asarray(x, dtype=jnp.float32)

    def outputs(p: Any, data: Any) -> Any:
        out, _ = spyx.nn.run(nnx.merge(graphdef, p), data)
        return out

    def loss(p: Any, data: Any) -> Any:
        v = outputs(p, data)
        return jnp.sum(v * v)

    fwd: Callable[..., Any] = jax.jit(outputs)
    grad: Callable[..., Any] = jax.jit(jax.value_and_grad(loss))

    def forward() -> Metrics:
        return {"mean_v": float(np.mean(np.asarray(fwd(params, xs))))}

    def train() -> Metrics:
        value, g = grad(params, xs)
        jax.tree_util.tree_map(np.asarray, g)
        return {"loss": float(value)}

    impls["spyx-forward"] = forward
    impls["spyx-train"] = train


@benchmark(
    "jax-train",
    baseline="neuropil-jax-train",
    subject="neuropil-jax-train",
    peers=("jax", "jaxlib", "torch", "spyx", "flax"),
    threads=2,
)
def jax_train(ctx: Context) -> dict[str, Implementation]:
    """700 -> 256 lif -> 20 li, dense, batch 64, 100 steps, float32, CPU: forward, and forward
    + backward (sum(out.v ** 2) and its gradient), on neuropil-jax, neuropil-torch and Spyx."""
    import numpy as np

    steps, batch = (20, 8) if ctx.quick else (100, 64)
    ctx.params.update(
        {
            "inputs": N_IN,
            "hidden": N_HIDDEN,
            "outputs": N_OUT,
            "batch": batch,
            "steps": steps,
            "dtype": "float32",
            "input_p": 0.05,
            "tau_mem": [TAU_HID, TAU_OUT],
        }
    )
    # the torch benchmark's draws, in its order
    rng = np.random.default_rng(0)
    x = (rng.random((steps, batch, N_IN)) < 0.05).astype(np.float32)
    w1 = rng.normal(0.0, 0.06, (N_HIDDEN, N_IN)).astype(np.float32)
    w2 = rng.normal(0.0, 0.2, (N_OUT, N_HIDDEN)).astype(np.float32)
    net = network(w1, w2)
    impls: dict[str, Implementation] = {}
    _neuropil("jax", net, x, impls, ctx)
    if importlib.util.find_spec("neuropil_torch") is None:
        ctx.skip("neuropil-torch-forward", "neuropil-torch is not installed")
        ctx.skip("neuropil-torch-train", "neuropil-torch is not installed")
    else:
        _neuropil("torch", net, x, impls, ctx)
    _spyx(x, w1, w2, impls, ctx)
    return impls
