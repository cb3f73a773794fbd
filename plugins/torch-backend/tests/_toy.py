"""Helpers of the torch backend's tests, in a module of its own so that the processes that
``torch.multiprocessing.spawn`` starts can import them."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from neuropil import Network, TrainingConfig
from neuropil.protocols import DatasetInfo
from neuropil_torch import TorchBackend


class ToyDataset:
    """Two classes of Poisson spike trains over 12 channels: class c fires channels of its half
    at 200 Hz and the rest at 20 Hz (dt = 1 ms, 30 steps)."""

    def __init__(self, n: int = 48, steps: int = 30, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self._splits: dict[str, list[tuple[npt.NDArray[Any], int]]] = {}
        for split, count in (("train", n), ("test", n // 2)):
            samples = []
            for k in range(count):
                label = k % 2
                rates = np.full(12, 0.02)
                rates[label * 6 : label * 6 + 6] = 0.2
                x = (rng.random((steps, 12)) < rates).astype(np.float32)
                samples.append((x, label))
            self._splits[split] = samples
        self.info = DatasetInfo(
            "toy", (12,), ("a", "b"), 1e-3, steps, {"train": n, "test": n // 2}, "CC0", "-"
        )

    def split(self, name: str) -> list[tuple[npt.NDArray[Any], int]]:
        return self._splits[name]


def toy_net(hidden_model: str = "lif", readout: str = "li") -> Network:
    rng = np.random.default_rng(0)
    net = Network(dt=1e-3)
    inp = net.input("in", 12)
    hid = net.population("hidden", 16, hidden_model)
    out = net.population("out", 2, readout)
    net.connect(inp, hid, weights=rng.normal(0.5, 1.5, (16, 12)))
    net.connect(hid, out, weights=rng.normal(0.0, 0.5, (2, 16)))
    return net


def toy_config(**kw: Any) -> TrainingConfig:
    table = {"loss": "ce_max_membrane", "epochs": 3, "batch_size": 8, "lr": 2e-2, **kw}
    return TrainingConfig.from_table(table)


def ddp_worker(rank: int, init: str, out: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    torch.set_num_threads(1)
    try:
        result = TorchBackend().train(
            toy_net(), ToyDataset(n=16), toy_config(epochs=2, batch_size=8), progress=False
        )
        if rank == 0:
            np.savez(out, **result["parameters"])
    finally:
        torch.distributed.destroy_process_group()
