"""TEMPORARY placeholder (owned by the IR work)."""

from __future__ import annotations

from typing import Any


def resolve(network: Any, registry: Any = None) -> Any:
    raise RuntimeError("placeholder")
