"""neuropil-datasets: the field's spiking datasets, spike encoders and event transforms.

Registered through the ``neuropil`` entry point (create them by name:
``neuropil.get_registry().create("dataset", "shd")``) and importable directly:

* datasets: :class:`Digits` (``digits``, offline, shipped), :class:`DigitsStatic`,
  :class:`SHD`, :class:`SSC`, :class:`NMNIST`, :class:`DVSGesture`; any Tonic dataset through
  :func:`from_tonic`; the C. elegans connectome in :mod:`neuropil_datasets.celegans`;
* encoders: :class:`RateEncoder`, :class:`PoissonEncoder`, :class:`LatencyEncoder`,
  :class:`DeltaEncoder`, :class:`CurrentEncoder`, :class:`PopulationEncoder`;
* event transforms: :func:`bin_events`, :func:`downsample`, :func:`time_jitter`,
  :func:`crop_time`; readers :func:`read_nmnist`, :func:`read_aedat`, :func:`read_heidelberg`;
* batching (the core's, re-exported): :func:`pad_batch`, :func:`iterate_batches`;
* the cache: :func:`data_home`, :func:`fetch`, :class:`Resource`, :func:`extract`.

Data is cached in ``$NEUROPIL_DATA`` (default: the platform's user cache folder);
``NEUROPIL_OFFLINE=1`` forbids downloads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from neuropil import iterate_batches, pad_batch

if TYPE_CHECKING:
    from neuropil_datasets._cache import DATA_ENV, OFFLINE_ENV, data_home, is_offline
    from neuropil_datasets._digits import Digits, DigitsStatic, load_digits
    from neuropil_datasets._download import Resource, checksum_of, fetch, verify
    from neuropil_datasets._dvs_gesture import DVSGesture, read_aedat, read_gesture_labels
    from neuropil_datasets._encoders import (
        CurrentEncoder,
        DeltaEncoder,
        LatencyEncoder,
        PoissonEncoder,
        PopulationEncoder,
        RateEncoder,
    )
    from neuropil_datasets._events import (
        EVENT_DTYPE,
        bin_events,
        crop_time,
        downsample,
        make_events,
        time_jitter,
    )
    from neuropil_datasets._extract import extract, gunzip
    from neuropil_datasets._heidelberg import SHD, SSC, HeidelbergDataset, read_heidelberg
    from neuropil_datasets._nmnist import NMNIST, read_nmnist
    from neuropil_datasets._split import Split
    from neuropil_datasets._tonic import TonicDataset, from_tonic

__version__ = "0.1.0"

__all__ = [
    "DATA_ENV",
    "EVENT_DTYPE",
    "NMNIST",
    "OFFLINE_ENV",
    "SHD",
    "SSC",
    "CurrentEncoder",
    "DVSGesture",
    "DeltaEncoder",
    "Digits",
    "DigitsStatic",
    "HeidelbergDataset",
    "LatencyEncoder",
    "PoissonEncoder",
    "PopulationEncoder",
    "RateEncoder",
    "Resource",
    "Split",
    "TonicDataset",
    "__version__",
    "bin_events",
    "checksum_of",
    "crop_time",
    "data_home",
    "downsample",
    "extract",
    "fetch",
    "from_tonic",
    "gunzip",
    "is_offline",
    "iterate_batches",
    "load_digits",
    "make_events",
    "pad_batch",
    "read_aedat",
    "read_gesture_labels",
    "read_heidelberg",
    "read_nmnist",
    "time_jitter",
    "verify",
]

# The registry imports ``neuropil_datasets.plugin`` to list components; everything else is
# imported on first use, so that listing plugins imports no dataset module.
_WHERE = {
    "CurrentEncoder": "_encoders",
    "DATA_ENV": "_cache",
    "DVSGesture": "_dvs_gesture",
    "DeltaEncoder": "_encoders",
    "Digits": "_digits",
    "DigitsStatic": "_digits",
    "EVENT_DTYPE": "_events",
    "HeidelbergDataset": "_heidelberg",
    "LatencyEncoder": "_encoders",
    "NMNIST": "_nmnist",
    "OFFLINE_ENV": "_cache",
    "PoissonEncoder": "_encoders",
    "PopulationEncoder": "_encoders",
    "RateEncoder": "_encoders",
    "Resource": "_download",
    "SHD": "_heidelberg",
    "SSC": "_heidelberg",
    "Split": "_split",
    "TonicDataset": "_tonic",
    "bin_events": "_events",
    "checksum_of": "_download",
    "crop_time": "_events",
    "data_home": "_cache",
    "downsample": "_events",
    "extract": "_extract",
    "fetch": "_download",
    "from_tonic": "_tonic",
    "gunzip": "_extract",
    "is_offline": "_cache",
    "load_digits": "_digits",
    "make_events": "_events",
    "read_aedat": "_dvs_gesture",
    "read_gesture_labels": "_dvs_gesture",
    "read_heidelberg": "_heidelberg",
    "read_nmnist": "_nmnist",
    "time_jitter": "_events",
    "verify": "_download",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'neuropil_datasets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neuropil_datasets.{where}"), name)
    globals()[name] = value
    return value
