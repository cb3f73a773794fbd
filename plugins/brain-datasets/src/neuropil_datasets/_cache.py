"""Where downloaded data lives, and whether neuropil may go online to get it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["DATA_ENV", "OFFLINE_ENV", "data_home", "is_offline"]

#: Environment variable naming the cache folder of datasets.
DATA_ENV = "NEUROPIL_DATA"
#: Environment variable that, set to ``1`` (or ``true``/``yes``), forbids every download.
OFFLINE_ENV = "NEUROPIL_OFFLINE"


def data_home(root: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of datasets (not created).

    Args:
        root: An explicit folder; wins over everything else.

    Returns:
        ``root`` if given, else ``$NEUROPIL_DATA`` if set, else the platform's user cache
        folder for neuropil (``~/.cache/neuropil/data`` on Linux).
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return platformdirs.user_cache_path("neuropil") / "data"


def is_offline() -> bool:
    """Whether ``$NEUROPIL_OFFLINE`` forbids downloads."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
