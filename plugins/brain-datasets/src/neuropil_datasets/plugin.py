"""The neuropil plugin module of ``neuropil-datasets``: hook implementations only.

It imports neither h5py nor cect nor tonic: the registry imports a dataset's module the first
time the dataset is created.
"""

from __future__ import annotations

from neuropil import Component, hookimpl

__all__ = ["NEUROPIL_PLUGIN_API", "neuropil_datasets", "neuropil_encoders"]

NEUROPIL_PLUGIN_API = (1, 0)

_PKG = "neuropil_datasets"


@hookimpl
def neuropil_datasets() -> list[Component]:
    """Datasets: the offline digits, SHD, SSC, N-MNIST and DVS128 Gesture."""
    return [
        Component(
            "digits",
            f"{_PKG}._digits:Digits",
            "UCI handwritten digits 8x8 as rate-coded spikes [50, 64]; shipped, no download",
        ),
        Component(
            "digits_static",
            f"{_PKG}._digits:DigitsStatic",
            "UCI handwritten digits 8x8 as intensities [1, 64]; use with an encoder",
        ),
        Component(
            "shd",
            f"{_PKG}._heidelberg:SHD",
            "Spiking Heidelberg Digits, 700 channels, 20 classes, 1 ms bins (download)",
        ),
        Component(
            "ssc",
            f"{_PKG}._heidelberg:SSC",
            "Spiking Speech Commands, 700 channels, 35 classes, 1 ms bins (download)",
        ),
        Component(
            "nmnist",
            f"{_PKG}._nmnist:NMNIST",
            "N-MNIST event camera digits [300, 2, 34, 34], 1 ms bins (download)",
        ),
        Component(
            "dvs_gesture",
            f"{_PKG}._dvs_gesture:DVSGesture",
            "DVS128 Gesture, 11 classes [300, 2, 32, 32], 10 ms bins (manual download)",
        ),
    ]


@hookimpl
def neuropil_encoders() -> list[Component]:
    """Encoders: rate, poisson, latency, delta, current and population codes."""
    return [
        Component("rate", f"{_PKG}._encoders:RateEncoder", "Bernoulli rate code, 200 Hz max"),
        Component("poisson", f"{_PKG}._encoders:PoissonEncoder", "Poisson spike counts"),
        Component("latency", f"{_PKG}._encoders:LatencyEncoder", "time to first spike"),
        Component("delta", f"{_PKG}._encoders:DeltaEncoder", "threshold-crossing (delta) code"),
        Component("current", f"{_PKG}._encoders:CurrentEncoder", "direct current input"),
        Component(
            "population",
            f"{_PKG}._encoders:PopulationEncoder",
            "Gaussian population code, 8 neurons per value ([steps, ..., 8])",
        ),
    ]
