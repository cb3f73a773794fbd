"""Event transforms and encoders, with the testkit's encoder checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from neuropil.errors import DatasetError
from neuropil_datasets import (
    CurrentEncoder,
    DeltaEncoder,
    LatencyEncoder,
    PoissonEncoder,
    PopulationEncoder,
    RateEncoder,
    bin_events,
    crop_time,
    downsample,
    make_events,
    time_jitter,
)
from neuropil_testkit import parametrize_with_checks


def test_bin_events_counts_crops_and_clips() -> None:
    ev = make_events([0, 999, 1000, 1000, 4999, 5000], [0, 0, 2, 2, 1, 1])
    x = bin_events(ev, (3,), dt=1e-3, steps=5)
    want = np.zeros((5, 3), np.float32)
    want[0, 0] = 2
    want[1, 2] = 2
    want[4, 1] = 1  # t = 5000 us falls in bin 5: cropped
    np.testing.assert_array_equal(x, want)
    assert bin_events(ev, (3,), dt=1e-3, steps=5, binary=True).max() == 1
    assert bin_events(ev, (3,), dt=1e-3, steps=5, t0=1000).sum() == 4


def test_bin_events_camera_layout_and_bad_address() -> None:
    ev = make_events([10, 20], x=[3, 0], y=[1, 2], p=[1, 0])
    x = bin_events(ev, (2, 3, 4), dt=1e-3, steps=1)
    assert x[0, 1, 1, 3] == 1
    assert x[0, 0, 2, 0] == 1
    assert x.sum() == 2
    with pytest.raises(DatasetError, match=r"x=3 is outside the frame shape \(2, 3, 3\)"):
        bin_events(ev, (2, 3, 3), dt=1e-3, steps=1)


def test_downsample_jitter_crop() -> None:
    ev = make_events([0, 100, 200], x=[127, 4, 3], y=[0, 5, 127])
    d = downsample(ev, 4)
    assert d["x"].tolist() == [31, 1, 0]
    assert d["y"].tolist() == [0, 1, 31]
    a = time_jitter(ev, 50.0, np.random.default_rng(1))
    b = time_jitter(ev, 50.0, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(a["t"]) >= 0)
    assert a["t"].min() >= 0
    c = crop_time(ev, 100, 200)
    assert c["t"].tolist() == [0]
    assert c["x"].tolist() == [4]


def test_rate_and_poisson_means() -> None:
    x = np.array([0.0, 0.5, 1.0])
    rate = RateEncoder(max_rate=200.0).encode(x, steps=20000, dt=1e-3, rng=np.random.default_rng(0))
    assert set(np.unique(rate)) <= {0.0, 1.0}
    np.testing.assert_allclose(rate.mean(axis=0), [0.0, 0.1, 0.2], atol=0.01)
    counts = PoissonEncoder(max_rate=900.0).encode(
        x, steps=20000, dt=1e-3, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(counts.mean(axis=0), [0.0, 0.45, 0.9], atol=0.02)
    assert counts.max() >= 2  # Poisson counts exceed one spike per step


def test_latency_linear_and_log() -> None:
    enc = LatencyEncoder()
    out = enc.encode(np.array([1.0, 0.5, 0.0]), steps=11, dt=1e-3, rng=np.random.default_rng(0))
    assert out.sum(axis=0).tolist() == [1.0, 1.0, 0.0]
    assert out[0, 0] == 1
    assert out[5, 1] == 1
    log = LatencyEncoder("log", tau=5e-3, threshold=0.2)
    steps = log.spike_steps(np.array([1.0, 0.25, 0.1]), steps=100, dt=1e-3)
    want = np.floor(5e-3 * np.log(np.array([1.0, 0.25]) / np.array([0.8, 0.05])) / 1e-3)
    assert steps.tolist() == [*want.astype(int).tolist(), -1]


def test_delta_current_population() -> None:
    delta = DeltaEncoder(threshold=0.3, off_spikes=True)
    series = np.array([[0.0], [0.5], [0.6], [0.1]])
    assert delta.encode_series(series)[:, 0].tolist() == [0.0, 1.0, 0.0, -1.0]
    onset = delta.encode(np.array([0.5, 0.1]), steps=4, dt=1e-3, rng=np.random.default_rng(0))
    assert onset[:, 0].tolist() == [1, 0, 0, 0]
    assert onset[:, 1].sum() == 0
    cur = CurrentEncoder(gain=2.0).encode(
        np.array([0.25]), steps=3, dt=1e-3, rng=np.random.default_rng(0)
    )
    assert cur.tolist() == [[0.5]] * 3
    pop = PopulationEncoder(n=5, max_rate=1000.0)
    rates = pop.rates(np.array([0.5]))
    assert rates.shape == (1, 5)
    assert int(np.argmax(rates)) == 2
    spikes = pop.encode(np.array([0.5, 0.0]), steps=7, dt=1e-3, rng=np.random.default_rng(0))
    assert spikes.shape == (7, 2, 5)
    assert spikes[:, 0, 2].sum() == 7  # the preferred neuron fires at 1000 Hz = every step


def test_encoder_errors() -> None:
    with pytest.raises(DatasetError, match="max_rate must be > 0 Hz"):
        RateEncoder(max_rate=0)
    with pytest.raises(DatasetError, match="NaN or infinite"):
        RateEncoder().encode(np.array([np.nan]), steps=2, dt=1e-3, rng=np.random.default_rng(0))
    with pytest.raises(DatasetError, match="steps >= 1"):
        CurrentEncoder().encode(np.ones(2), steps=0, dt=1e-3, rng=np.random.default_rng(0))
    with pytest.raises(DatasetError, match="'linear' or 'log'"):
        LatencyEncoder("cubic")


@parametrize_with_checks(
    encoders=["rate", "poisson", "latency", "delta", "current", "population"],
)
def test_testkit_encoders(check: Any) -> None:
    check()
