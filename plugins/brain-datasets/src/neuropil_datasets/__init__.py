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

from neuropil import iterate_batches, pad_batch
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
