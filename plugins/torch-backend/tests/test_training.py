"""Training: losses, optimisers, schedules, regularisers, checkpoints and resume, DDP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import neuropil
from neuropil import NeuronModel, Param, StateVar
from neuropil.errors import ExperimentError, SerializationError
from neuropil_testkit import temporary_plugin
from neuropil_torch import TorchBackend

sys.path.insert(0, str(Path(__file__).parent))
from _toy import ToyDataset, ddp_worker, toy_config, toy_net


def test_training_learns_and_reports_metrics() -> None:
    data = ToyDataset()
    result = TorchBackend().train(toy_net(), data, toy_config(epochs=4), progress=False)
    assert len(result["loss"]) == len(result["accuracy"]) == 4
    assert result["loss"][-1] < result["loss"][0]
    assert result["final_accuracy"] >= 0.9
    assert result["steps"] == 4 * 6
    assert set(result["parameters"]) >= {"in->hidden.weights", "hidden->out.weights"}
    assert isinstance(result["parameters"]["in->hidden.weights"], np.ndarray)


@pytest.mark.parametrize(
    "table",
    [
        {"loss": "ce_count", "optimizer": "sgd", "optimizer_params": {"momentum": 0.9}},
        {"loss": "ce_mean_membrane", "optimizer": "rmsprop", "grad_clip": 0.5},
        {"loss": "mse_rate", "optimizer": "adamw", "optimizer_params": {"decay": 0.1}},
        {
            "loss": "ce_max_membrane",
            "tbptt": 10,
            "weight_decay": 1e-3,
            "rate_targets": {"hidden": {"target_hz": 20.0, "weight": 0.1}},
        },
    ],
)
def test_losses_optimisers_and_regularisers_run(table: dict[str, Any]) -> None:
    readout = "lif" if table["loss"] in ("ce_count", "mse_rate") else "li"
    net = toy_net(readout=readout)
    result = TorchBackend().train(
        net, ToyDataset(n=16), toy_config(epochs=2, **table), progress=False
    )
    assert all(np.isfinite(result["loss"]))
    before = neuropil.compile(net, backend="torch").get_parameters()["in->hidden.weights"]
    assert not np.allclose(result["parameters"]["in->hidden.weights"], before)


def test_schedule_sets_the_learning_rate_each_epoch() -> None:
    cfg = toy_config(epochs=3, schedule="step", schedule_params={"step_epochs": 1, "gamma": 0.5})
    result = TorchBackend().train(toy_net(), ToyDataset(n=8), cfg, progress=False)
    assert result["lr"] == pytest.approx([2e-2, 1e-2, 5e-3])


def test_seeded_training_is_deterministic() -> None:
    a = TorchBackend().train(toy_net(), ToyDataset(n=16), toy_config(epochs=2), progress=False)
    b = TorchBackend().train(toy_net(), ToyDataset(n=16), toy_config(epochs=2), progress=False)
    for key, value in a["parameters"].items():
        np.testing.assert_array_equal(value, b["parameters"][key])


def test_sign_and_mask_hold_after_training() -> None:
    net = toy_net()
    mask = np.ones((2, 16), dtype=bool)
    mask[:, :4] = False
    net.projections[1].sign = "excitatory"
    net.projections[1].weights = np.abs(np.asarray(net.projections[1].weights))
    net.projections[1].mask = mask
    result = TorchBackend().train(
        net, ToyDataset(n=16), toy_config(epochs=2, lr=0.2), progress=False
    )
    w = result["parameters"]["hidden->out.weights"]
    assert np.all(w >= 0)
    assert np.all(w[:, :4] == 0)


def test_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    data = ToyDataset(n=16)
    full = TorchBackend().train(
        toy_net(), data, toy_config(epochs=4), run_dir=str(tmp_path / "a"), progress=False
    )
    TorchBackend().train(
        toy_net(),
        data,
        toy_config(epochs=4, checkpoint_every=2),
        run_dir=str(tmp_path / "b"),
        progress=False,
    )
    ckpt = neuropil.checkpoint_path(tmp_path / "b", 2)
    meta = neuropil.read_checkpoint_metadata(ckpt)
    assert meta["epoch"] == 2
    assert meta["backend"] == "torch"
    assert not list((tmp_path / "b" / "checkpoints").glob("*.tmp"))
    resumed = TorchBackend().train(
        toy_net(),
        data,
        toy_config(epochs=4, resume=str(ckpt)),
        run_dir=str(tmp_path / "c"),
        progress=False,
    )
    assert resumed["loss"] == pytest.approx(full["loss"])
    for key, value in full["parameters"].items():
        np.testing.assert_array_equal(value, resumed["parameters"][key])
    from safetensors.numpy import load_file

    assert full["checkpoint"] == "checkpoints/epoch-4.safetensors"  # relative to the run
    saved = load_file(tmp_path / "a" / full["checkpoint"])
    np.testing.assert_array_equal(
        saved["in->hidden.weights"], full["parameters"]["in->hidden.weights"]
    )
    assert any(k.startswith("optimizer/") for k in saved)


def _adagrad(params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=0.1)


def test_any_torch_optimiser_trains_checkpoints_and_resumes(tmp_path: Path) -> None:
    data = ToyDataset(n=16)
    config = toy_config(epochs=4, lr=0.1)
    full = TorchBackend().train(
        toy_net(), data, config, run_dir=str(tmp_path / "a"), progress=False, optimizer=_adagrad
    )
    assert full["loss"][-1] < full["loss"][0]
    default = TorchBackend().train(toy_net(), data, config, progress=False)
    assert full["loss"] != default["loss"]  # Adagrad was used, not the config's Adam
    TorchBackend().train(
        toy_net(),
        data,
        toy_config(epochs=4, lr=0.1, checkpoint_every=2),
        run_dir=str(tmp_path / "b"),
        progress=False,
        optimizer=_adagrad,
    )
    ckpt = str(neuropil.checkpoint_path(tmp_path / "b", 2))
    resumed = TorchBackend().train(
        toy_net(),
        data,
        toy_config(epochs=4, lr=0.1, resume=ckpt),
        progress=False,
        optimizer=_adagrad,
    )
    for key, value in full["parameters"].items():
        np.testing.assert_array_equal(value, resumed["parameters"][key])
    with pytest.raises(
        SerializationError, match="a checkpoint of a Adagrad run, resumed with Adam"
    ):
        TorchBackend().train(toy_net(), data, toy_config(epochs=4, resume=ckpt), progress=False)
    with pytest.raises(ExperimentError, match=r"must return a torch.optim.Optimizer, got list"):
        TorchBackend().train(
            toy_net(),
            data,
            config,
            progress=False,
            optimizer=lambda ps: list(ps),  # type: ignore[arg-type,return-value]
        )


def test_config_errors_name_the_fix() -> None:
    with pytest.raises(ExperimentError, match="does not spike; use ce_max_membrane"):
        TorchBackend().train(
            toy_net(), ToyDataset(n=4), toy_config(loss="ce_count"), progress=False
        )


def test_parameters_exchange_with_the_reference_engine() -> None:
    data = ToyDataset(n=16)
    trained = TorchBackend().train(toy_net(), data, toy_config(epochs=1), progress=False)[
        "parameters"
    ]
    x = np.stack([s[0] for s in data.split("test")[:4]], axis=1).astype(np.float64)
    net = toy_net()
    net.probe("out", "v")
    ref = neuropil.compile(net, backend="numpy", dtype="float64")
    ref.set_parameters({k: v for k, v in trained.items() if not k.endswith(".delay")})
    sim = TorchBackend().compile(net, dtype="float64")
    sim.set_parameters({k: v for k, v in trained.items() if not k.endswith(".delay")})
    np.testing.assert_allclose(sim.run({"in": x})["out.v"], ref.run({"in": x})["out.v"], rtol=1e-9)


def _quad_step(ops: Any, params: Any, options: Any, state: Any, current: Any, ctx: Any) -> Any:
    """A third-party quadratic integrate-and-fire neuron, written against ops only."""
    v = state["v"] + ctx.dt / params["tau"] * (state["v"] * state["v"] + current * 50.0)
    s = ops.spike(v - params["v_peak"], ctx.surrogate)
    return {"v": (1 - s) * ops.clip(v, -1.0, None)}, s


QIF = NeuronModel(
    name="quad_if",
    params={
        "tau": Param(10e-3, "s", "time constant", low=0.0, low_inclusive=False),
        "v_peak": Param(1.0, "V", "spike peak"),
    },
    state={"v": StateVar("V", "membrane", 0.0)},
    step=_quad_step,
    doc="Quadratic IF (test model).",
)


def test_third_party_model_trains_on_torch() -> None:
    with temporary_plugin({"neuron": [QIF]}):
        result = TorchBackend().train(
            toy_net(hidden_model="quad_if"), ToyDataset(n=16), toy_config(epochs=3), progress=False
        )
        sim = TorchBackend().compile(toy_net(hidden_model="quad_if"))
        assert sim.fast_layers == ["out"]  # the third-party layer runs portable
    assert result["loss"][-1] < result["loss"][0]


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, neuropil; import neuropil_torch.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ddp_two_processes_equal_one(tmp_path: Path) -> None:
    out = str(tmp_path / "ddp.npz")
    init = f"file://{tmp_path / 'rendezvous'}"
    spawn = torch.multiprocessing.spawn  # type: ignore[attr-defined]
    spawn(ddp_worker, args=(init, out), nprocs=2, join=True)  # type: ignore[no-untyped-call]
    single = TorchBackend().train(
        toy_net(), ToyDataset(n=16), toy_config(epochs=2, batch_size=8), progress=False
    )
    with np.load(out, allow_pickle=False) as ddp:
        for key, value in single["parameters"].items():
            np.testing.assert_allclose(ddp[key], value, rtol=1e-4, atol=1e-5)
