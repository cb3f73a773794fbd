"""Digits, SHD/SSC, N-MNIST and DVS128 Gesture on tiny files in the publishers' formats."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuropil.errors import DatasetError
from neuropil_datasets import (
    NMNIST,
    SHD,
    SSC,
    Digits,
    DigitsStatic,
    DVSGesture,
    Resource,
    _digits,
    load_digits,
    read_aedat,
    read_nmnist,
)


# -- digits -------------------------------------------------------------------------------
def test_digits_shipped_file_and_splits() -> None:
    images, labels = load_digits()
    assert images.shape == (1797, 64)
    assert images.max() == 1.0
    assert images.min() == 0.0
    assert np.bincount(labels).min() >= 170
    ds = Digits()
    assert ds.info.size == {"train": 1438, "test": 359}
    assert ds.info.shape == (64,)
    assert ds.info.steps == 50
    assert ds.info.dt == 1e-3
    assert "CC BY 4.0" in ds.info.licence
    assert "Alpaydin" in ds.info.citation
    train, test = ds.split("train"), ds.split("test")
    x, _label = train[0]
    assert x.shape == (50, 64)
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x, Digits().split("train")[0][0])
    assert not np.array_equal(x, Digits(seed=1).split("train")[0][0])
    # stratified: every class is in the test split, about 20 % of it
    test_labels = np.array([test[k][1] for k in range(len(test))])
    assert np.all(np.bincount(test_labels, minlength=10) >= 30)


def test_digits_rate_follows_intensity_and_max_rate() -> None:
    ds = Digits(steps=400, max_rate=100.0)
    images, _ = load_digits()
    idx = ds._indices["train"][3]
    x, _ = ds.split("train")[3]
    rate = x.mean(axis=0)
    assert np.all(rate[images[idx] == 0] == 0)
    expected = images[idx] * 100.0 * 1e-3
    assert abs(rate.mean() - expected.mean()) < 0.005
    assert np.corrcoef(rate, expected)[0, 1] > 0.9


def test_digits_static_and_errors() -> None:
    st = DigitsStatic()
    x, label = st.split("test")[-1]
    assert x.shape == (1, 64)
    assert x.min() >= 0
    assert x.max() <= 1
    assert 0 <= label < 10
    with pytest.raises(KeyError, match="no split 'valid'; splits: train, test"):
        st.split("valid")
    with pytest.raises(DatasetError, match="max_rate > 0 Hz"):
        Digits(max_rate=0)


def test_damaged_digits_file_is_refused() -> None:
    raw = gzip.compress(b"1,2,3\n")
    with pytest.raises(DatasetError, match="damaged; reinstall it: pip install --force"):
        _digits._parse(raw, "digits.csv.gz")


# -- SHD / SSC ----------------------------------------------------------------------------
def _shd_served(formats: Any, server: Any, tmp_path: Path) -> dict[str, Resource]:
    resources = {}
    for split, n in (("train", 3), ("test", 1)):
        h5 = formats.heidelberg(
            tmp_path / f"shd_{split}.h5",
            [[0.0, 0.0004, 0.0021, 1.5]] * n,
            [[0, 0, 699, 5]] * n,
            list(range(n)),
            keys=[f"k{i}" for i in range(20)],
        )
        gz = formats.gz(server.root / f"shd_{split}.h5.gz", h5.read_bytes())
        resources[split] = Resource(gz.name, server.url(gz.name), formats.sha256(gz))
    return resources


def test_shd_downloads_unpacks_and_bins(formats: Any, server: Any, tmp_path: Path) -> None:
    res = _shd_served(formats, server, tmp_path)
    ds = SHD(tmp_path / "cache", resources=res)
    assert ds.info.size == {"train": 8156, "test": 2264}  # nothing cached yet: published
    train = ds.split("train")
    assert len(train) == 3
    x, label = train[1]
    assert x.shape == (1400, 700)
    assert label == 1
    assert x[0, 0] == 2
    assert x[2, 699] == 1
    assert x.sum() == 3
    assert (tmp_path / "cache" / "shd" / "shd_train.h5").is_file()
    again = SHD(tmp_path / "cache", resources=res, dt=2e-3, steps=10, binary=True)
    assert again.info.size == {"train": 3, "test": 2264}
    assert again.info.classes[3] == "k3"
    assert again.split("train")[0][0][0, 0] == 1
    assert again.info.dt == 2e-3


def test_shd_truncated_and_wrong_format(formats: Any, tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "shd"
    folder.mkdir(parents=True)
    good = formats.heidelberg(tmp_path / "g.h5", [[0.1]], [[1]], [0])
    (folder / "shd_train.h5").write_bytes(good.read_bytes()[:700])
    with pytest.raises(DatasetError, match=r"shd_train\.h5 is not a readable HDF5 file.*delete"):
        SHD(tmp_path / "cache")
    import h5py  # type: ignore[import-untyped]

    with h5py.File(folder / "shd_train.h5", "w") as fh:
        fh.create_dataset("labels", data=np.zeros(2))
    with pytest.raises(DatasetError, match="lacks spikes/times, spikes/units: wrong format"):
        SHD(tmp_path / "cache")


def test_shd_offline_error_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEUROPIL_OFFLINE", "1")
    ds = SHD(tmp_path / "c")
    with pytest.raises(DatasetError) as err:
        ds.split("test")
    msg = str(err.value)
    assert "shd_test.h5.gz" in msg
    assert "https://zenkelab.org/datasets/shd_test.h5.gz" in msg
    assert str(tmp_path / "c" / "shd" / "shd_test.h5.gz") in msg


def test_ssc_verifies_against_the_publishers_md5_list(
    formats: Any, server: Any, tmp_path: Path
) -> None:
    h5 = formats.heidelberg(tmp_path / "s.h5", [[0.0]], [[3]], [34])
    gz = formats.gz(server.root / "ssc_valid.h5.gz", h5.read_bytes())
    (server.root / "md5sums.txt").write_text(f"{formats.md5(gz)}  ssc_valid.h5.gz\n")
    res = {
        "valid": Resource(gz.name, server.url(gz.name), None, server.url("md5sums.txt")),
    }
    ds = SSC(tmp_path / "cache", resources=res)
    x, label = ds.split("valid")[0]
    assert x.shape == (1000, 700)
    assert x[0, 3] == 1
    assert label == 34
    assert len(ds.info.classes) == 35


# -- N-MNIST ------------------------------------------------------------------------------
def test_read_nmnist_decodes_40_bit_events(formats: Any, tmp_path: Path) -> None:
    path = tmp_path / "00001.bin"
    path.write_bytes(formats.nmnist_bytes([(3, 33, 1, 0x7FFFFF), (0, 1, 0, 70000)]))
    ev = read_nmnist(path)
    assert ev["x"].tolist() == [3, 0]
    assert ev["y"].tolist() == [33, 1]
    assert ev["p"].tolist() == [1, 0]
    assert ev["t"].tolist() == [0x7FFFFF, 70000]
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DatasetError, match="not a multiple of the 5-byte N-MNIST event"):
        read_nmnist(path)
    path.write_bytes(formats.nmnist_bytes([(40, 1, 0, 0)]))
    with pytest.raises(DatasetError, match="outside the 34 x 34 N-MNIST sensor: wrong format"):
        read_nmnist(path)


def test_nmnist_from_zip(formats: Any, server: Any, tmp_path: Path) -> None:
    members = {
        "Train/3/00002.bin": formats.nmnist_bytes([(1, 2, 1, 1500), (1, 2, 1, 1600)]),
        "Train/0/00001.bin": formats.nmnist_bytes([(33, 0, 0, 0)]),
    }
    z = formats.zip(server.root / "nmnist_train.zip", members)
    res = {"train": Resource(z.name, server.url(z.name), formats.sha256(z))}
    ds = NMNIST(tmp_path / "cache", resources=res)
    split = ds.split("train")
    assert len(split) == 2
    (x0, l0), (x1, l1) = split[0], split[1]
    assert (l0, l1) == (0, 3)
    assert x1.shape == (300, 2, 34, 34)
    assert x1[1, 1, 2, 1] == 2
    assert x1.sum() == 2
    assert x0[0, 0, 0, 33] == 1
    assert NMNIST(tmp_path / "cache", resources=res).info.size["train"] == 2


def test_nmnist_archive_with_bad_checksum(formats: Any, server: Any, tmp_path: Path) -> None:
    z = formats.zip(server.root / "nmnist_test.zip", {"Test/1/1.bin": b""})
    res = {"test": Resource(z.name, server.url(z.name), "md5:" + "f" * 32)}
    with pytest.raises(DatasetError, match=r"nmnist_test\.zip downloaded from .* has md5"):
        NMNIST(tmp_path / "cache", resources=res).split("test")
    assert not (tmp_path / "cache" / "nmnist" / "nmnist_test.zip").exists()
    assert not (tmp_path / "cache" / "nmnist" / "test").exists()


# -- DVS128 Gesture -----------------------------------------------------------------------
def test_read_aedat_polarity_packets(formats: Any, tmp_path: Path) -> None:
    path = tmp_path / "u.aedat"
    path.write_bytes(
        formats.aedat_bytes([[(127, 3, 1, 10), (5, 126, 0, 20)], [(1, 1, 1, 30)]], overflow=1)
    )
    ev = read_aedat(path)
    assert ev["x"].tolist() == [127, 5, 1]
    assert ev["y"].tolist() == [3, 126, 1]
    assert ev["p"].tolist() == [1, 0, 1]
    assert ev["t"].tolist() == [(1 << 31) + t for t in (10, 20, 30)]
    path.write_bytes(formats.aedat_bytes([[(1, 1, 1, 1)]], valid=False))
    assert len(read_aedat(path)) == 0
    path.write_bytes(formats.aedat_bytes([[(1, 1, 1, 1), (2, 2, 0, 2)]])[:-3])
    with pytest.raises(DatasetError, match="promises 16 bytes, fewer remain"):
        read_aedat(path)
    path.write_bytes(b"#!AER-DAT2.0\r\n")
    with pytest.raises(DatasetError, match=r"does not start with '#!AER-DAT3\.1'"):
        read_aedat(path)


def _gesture_archive(formats: Any, folder: Path) -> Path:
    events = [(0, 0, 1, 100), (127, 127, 0, 20_000), (64, 32, 1, 1_500_000)]
    archive: Path = formats.tar_gz(
        folder / "DvsGesture.tar.gz",
        {
            "DvsGesture/user01_led.aedat": formats.aedat_bytes([events]),
            "DvsGesture/user01_led_labels.csv": (
                b"class,startTime_usec,endTime_usec\n3,0,1000000\n10,1000000,2000000\n"
            ),
            "DvsGesture/trials_to_train.txt": b"user01_led.aedat\n",
            "DvsGesture/trials_to_test.txt": b"user01_led.aedat\n",
        },
    )
    return archive


def test_dvs_gesture_manual_download_then_samples(formats: Any, tmp_path: Path) -> None:
    ds = DVSGesture(tmp_path / "cache")
    with pytest.raises(DatasetError) as err:
        ds.split("train")
    msg = str(err.value)
    assert "DvsGesture.tar.gz" in msg
    assert "ibm.ent.box.com" in msg
    assert str(tmp_path / "cache" / "dvs_gesture" / "DvsGesture.tar.gz") in msg
    folder = tmp_path / "cache" / "dvs_gesture"
    folder.mkdir(parents=True)
    archive = _gesture_archive(formats, folder)
    res = {"archive": Resource(archive.name, "https://x", formats.sha256(archive), manual=True)}
    ds = DVSGesture(tmp_path / "cache", resources=res)
    split = ds.split("train")
    assert len(split) == 2
    assert ds.info.shape == (2, 32, 32)
    (x0, l0), (x1, l1) = split[0], split[1]
    assert (l0, l1) == (2, 9)
    assert x0.shape == (300, 2, 32, 32)
    assert x0[0, 1, 0, 0] == 1
    assert x0[2, 0, 31, 31] == 1
    assert x1[50, 1, 8, 16] == 1
    assert x1.sum() == 1
    assert DVSGesture(tmp_path / "cache", resources=res).info.size == {"train": 2, "test": 2}


def test_dvs_gesture_wrong_archive_checksum(formats: Any, tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "dvs_gesture"
    folder.mkdir(parents=True)
    _gesture_archive(formats, folder)
    with pytest.raises(DatasetError, match=r"DvsGesture\.tar\.gz has md5 .*expected 8a5c71fb"):
        DVSGesture(tmp_path / "cache").split("test")
