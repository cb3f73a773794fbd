"""The testkit's backend suite, on backend ``torch`` (float64, spike for spike)."""

from __future__ import annotations

from neuropil_testkit import Check, parametrize_with_checks


@parametrize_with_checks(backends=["torch"])
def test_conformance(check: Check) -> None:
    check()
