"""Shared fixtures: a tiny, learnable dataset and a small network to train on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from neuropil import Network
from neuropil.protocols import DatasetInfo

STEPS = 20
CHANNELS = 12
CLASSES = 3


class PatternDataset:
    """Three classes; class ``c`` fires channels ``4c .. 4c + 3`` more often (Poisson)."""

    def __init__(self, n_train: int = 24, n_test: int = 12, seed: int = 0) -> None:
        self.info = DatasetInfo(
            name="patterns",
            shape=(CHANNELS,),
            classes=tuple(str(c) for c in range(CLASSES)),
            dt=1e-3,
            steps=STEPS,
            size={"train": n_train, "test": n_test},
            licence="CC0",
            citation="",
        )
        rng = np.random.default_rng(seed)
        self._splits = {
            "train": self._make(rng, n_train),
            "test": self._make(rng, n_test),
        }

    @staticmethod
    def _make(rng: np.random.Generator, n: int) -> list[tuple[npt.NDArray[Any], int]]:
        out = []
        for i in range(n):
            label = i % CLASSES
            p = np.full(CHANNELS, 0.05)
            p[4 * label : 4 * label + 4] = 0.5
            out.append(((rng.random((STEPS, CHANNELS)) < p).astype(np.float64), label))
        return out

    def split(self, name: str) -> list[tuple[npt.NDArray[Any], int]]:
        return self._splits[name]


def classifier(neuron: str = "lif", hidden: int = 16) -> Network:
    """``in`` (12) -> ``hidden`` (lif) -> ``out`` (3, li), dense, drawn weights."""
    net = Network(dt=1e-3, name="classifier")
    inp = net.input("in", CHANNELS)
    hid = net.population("hidden", hidden, neuron)
    out = net.population("out", CLASSES, "li")
    rng = np.random.default_rng(3)
    net.connect(inp, hid, weights=rng.uniform(0.0, 0.6, (hidden, CHANNELS)))
    net.connect(hid, out, weights=rng.normal(0.0, 0.5, (CLASSES, hidden)))
    net.probe(out, "v")
    return net


@pytest.fixture
def dataset() -> PatternDataset:
    """A fresh :class:`PatternDataset`."""
    return PatternDataset()


@pytest.fixture(name="classifier")
def classifier_fixture() -> Callable[..., Network]:
    """The :func:`classifier` network builder."""
    return classifier
