"""The neuropil-testkit backend suite on ``jax``, in float64 (item 2 of the spec)."""

from __future__ import annotations

from neuropil_testkit import Check, parametrize_with_checks


@parametrize_with_checks(backends=["jax"])
def test_conformance(check: Check) -> None:
    check()
