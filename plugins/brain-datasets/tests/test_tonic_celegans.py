"""The Tonic adapter (against the real tonic) and the C. elegans connectome (real cect)."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import tonic  # type: ignore[import-untyped]

from neuropil import simulate
from neuropil.errors import DatasetError
from neuropil_datasets import celegans, from_tonic


def test_from_tonic_wraps_a_real_tonic_dataset(formats: Any, tmp_path: Path) -> None:
    folder = tmp_path / "SHD"
    folder.mkdir()
    formats.heidelberg(
        folder / "shd_train.h5",
        [[0.0, 0.0031], [0.002]],
        [[4, 699], [1]],
        [7, 12],
        keys=[f"c{i}" for i in range(20)],
    )
    (folder / "shd_train.h5.zip").write_bytes(b"present")  # tonic only checks it exists
    train = tonic.datasets.SHD(save_to=str(tmp_path), train=True)
    ds = from_tonic(train, dt=1e-3, steps=5)
    assert ds.info.name == "shd"
    assert ds.info.shape == (700,)
    assert ds.info.size == {"train": 2}
    assert ds.info.classes[7] == "c7"
    x, label = ds.split("train")[0]
    assert label == 7
    assert x.shape == (5, 700)
    assert x[0, 4] == 1
    assert x[3, 699] == 1
    assert x.sum() == 2


def test_from_tonic_camera_layout_and_errors() -> None:
    class Fake:
        sensor_size = (4, 3, 2)
        classes: ClassVar[list[str]] = ["a", "b"]

        def __len__(self) -> int:
            return 1

        def __getitem__(self, k: int) -> tuple[Any, int]:
            ev = np.zeros(1, dtype=[("x", int), ("y", int), ("t", int), ("p", int)])
            ev[0] = (3, 2, 1500, 1)
            return ev, 1

    ds = from_tonic({"test": Fake()}, dt=1e-3, steps=2, name="fake")
    x, label = ds.split("test")[0]
    assert ds.info.shape == (2, 3, 4)
    assert x[1, 1, 2, 3] == 1
    assert label == 1

    class Frames(Fake):
        def __getitem__(self, k: int) -> tuple[Any, int]:
            return np.zeros((2, 3)), 0

    with pytest.raises(DatasetError, match="expected a structured array with at least 't'"):
        from_tonic(Frames(), dt=1e-3, steps=2).split("train")[0]

    class NoClasses(Fake):
        classes: ClassVar[list[str]] = []

    with pytest.raises(DatasetError, match=r"pass classes=\[\.\.\.\] to from_tonic"):
        from_tonic(NoClasses(), dt=1e-3, steps=2)


@pytest.fixture(scope="module")
def wiring() -> celegans.Connectome:
    return celegans.connectome("varshney")


def test_connectome_arrays(wiring: celegans.Connectome) -> None:
    n = len(wiring.names)
    assert 270 <= n <= 302
    assert wiring.chemical.shape == wiring.electrical.shape == (n, n)
    assert np.array_equal(wiring.electrical, wiring.electrical.T)
    assert set(wiring.classes) == {"sensory", "interneuron", "motor"}
    ava, avb = wiring.index("AVAL"), wiring.index("AVBL")
    assert wiring.classes[ava] == "interneuron"
    assert wiring.classes[wiring.index("ASHL")] == "sensory"
    assert wiring.chemical.sum() > 4000
    assert wiring.chemical[:, ava].sum() > 0
    assert "Varshney" in wiring.citation
    assert avb != ava
    with pytest.raises(KeyError, match="no cell named 'XYZ'"):
        wiring.index("XYZ")


def test_connectome_network_builds_and_runs(wiring: celegans.Connectome) -> None:
    net = celegans.connectome_network(wiring, tau_mem=20e-3)
    net.validate()
    pop = net.population_by_name("neurons")
    assert pop.metadata["names"][:3] == list(wiring.names[:3])
    chem = net.projection_by_name("chemical")
    pre, post, weights = chem.connectivity.pre, chem.connectivity.post, chem.weights
    assert isinstance(weights, np.ndarray)
    assert pre is not None
    assert post is not None
    assert len(weights) == int((wiring.chemical > 0).sum())
    k = 0
    assert weights[k] == pytest.approx(0.1 * wiring.chemical[pre[k], post[k]])
    drive = np.zeros((20, 1, len(wiring.names)))
    drive[:, 0, wiring.index("ASHL")] = 1.0
    result = simulate(net, {"stimulus": drive}, backend="numpy")
    assert result["neurons.spikes"].shape == (20, 1, len(wiring.names))


def test_missing_cect_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def blocked(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "cect" or name.startswith("cect."):
            raise ImportError("No module named 'cect'")
        return real_import(name, *args, **kwargs)

    import importlib
    import sys

    monkeypatch.setattr(builtins, "__import__", blocked)
    for mod in [m for m in sys.modules if m == "cect" or m.startswith("cect.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(importlib, "import_module", lambda name: blocked(name))
    with pytest.raises(DatasetError, match=r"pip install 'neuropil-datasets\[celegans\]'"):
        celegans.connectome()


def test_unknown_connectome_source() -> None:
    with pytest.raises(DatasetError, match=r"no C\. elegans connectome source 'nope'; sources: "):
        celegans.connectome("nope")
