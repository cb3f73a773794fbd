"""The whole conformance suite, run on the reference engine and the standard library itself."""

from __future__ import annotations

from collections.abc import Callable

from neuropil_testkit import blocked_registry, parametrize_with_checks

_CORE = blocked_registry()


@parametrize_with_checks(
    backends=["numpy"],
    neurons=_CORE.names("neuron"),
    synapses=_CORE.names("synapse"),
    rules=_CORE.names("rule"),
)
def test_standard_library_conforms(check: Callable[[], None]) -> None:
    check()
