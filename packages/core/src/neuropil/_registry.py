"""TEMPORARY placeholder (owned by the registry work): replaced by the real registry."""

from __future__ import annotations

from typing import Any


class Registry:
    def create(self, kind: str, name: str) -> Any:
        raise RuntimeError("placeholder")


class RegistryEntry:
    pass


class PluginProblem:
    pass


def get_registry() -> Registry:
    return Registry()


def use_registry(registry: Registry) -> Any:
    raise RuntimeError("placeholder")
