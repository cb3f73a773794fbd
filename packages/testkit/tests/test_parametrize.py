"""``parametrize_with_checks`` ids and xfails, the fixtures, and a plugin author's test file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from neuropil import Registry, get_registry
from neuropil_testkit import Check, networks, parametrize_with_checks


def _params(mark: pytest.MarkDecorator) -> list[Any]:
    argname, params = mark.args
    assert argname == "check"
    return list(params)


def test_ids_read_component_dash_check() -> None:
    params = _params(parametrize_with_checks(neurons=["lif"], synapses=["delta"]))
    ids = [p.id for p in params]
    assert ids == [
        "lif-check_schema_is_valid",
        "lif-check_step_is_pure",
        "lif-check_step_is_traceable",
        "lif-check_spikes_use_ops_spike",
        "lif-check_dtype_preserved",
        "lif-check_heterogeneous_params",
        "lif-check_runs_on_reference",
        # delta has no parameter, so nothing heterogeneous to check
        "delta-check_schema_is_valid",
        "delta-check_step_is_pure",
        "delta-check_step_is_traceable",
        "delta-check_dtype_preserved",
        "delta-check_runs_on_reference",
    ]
    assert all(isinstance(p.values[0], Check) for p in params)


def test_rules_get_no_heterogeneity_check() -> None:
    ids = [p.id for p in _params(parametrize_with_checks(rules=["stdp"]))]
    assert "stdp-check_heterogeneous_params" not in ids
    assert "stdp-check_step_is_traceable" in ids


def test_backends_get_one_agreement_check_per_case() -> None:
    ids = [p.id for p in _params(parametrize_with_checks(backends=["numpy"]))]
    cases = networks.reference_cases()
    assert [i for i in ids if "check_matches_reference" in i] == [
        f"numpy-check_matches_reference-{c}" for c in cases
    ]
    assert {"lif-exponential", "conn-conv2d", "delay-per_synapse", "stdp-sparse"} <= set(cases)
    assert ids[-4:] == [
        "numpy-check_gradients_finite_nonzero",
        "numpy-check_gradients_match_reference",
        "numpy-check_parameters_round_trip",
        "numpy-check_deterministic_with_seed",
    ]


def test_a_known_gap_is_a_strict_xfail() -> None:
    params = _params(
        parametrize_with_checks(
            backends=["numpy"],
            xfail={
                ("numpy", "check_matches_reference-conn-conv2d"): "conv2d not yet supported",
                ("numpy", "check_deterministic_with_seed"): "seeds ignored",
            },
        )
    )
    marked = {p.id: p.marks[0] for p in params if p.marks}
    assert set(marked) == {
        "numpy-check_matches_reference-conn-conv2d",
        "numpy-check_deterministic_with_seed",
    }
    mark = marked["numpy-check_matches_reference-conn-conv2d"]
    assert mark.name == "xfail"
    assert mark.kwargs == {"strict": True, "reason": "conv2d not yet supported"}


def test_an_xfail_for_a_whole_check_covers_its_cases() -> None:
    params = _params(
        parametrize_with_checks(
            backends=["numpy"], xfail={("numpy", "check_matches_reference"): "no agreement yet"}
        )
    )
    marked = [p.id for p in params if p.marks]
    assert len(marked) == len(networks.reference_cases())


def test_an_xfail_matching_nothing_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"xfail entries \[\('lif', 'check_step_is_pur'\)\] "
        "match no check",
    ):
        parametrize_with_checks(neurons=["lif"], xfail={("lif", "check_step_is_pur"): "typo"})


def test_an_unknown_kind_is_refused() -> None:
    from neuropil_testkit import checks_for

    with pytest.raises(ValueError, match="no conformance checks for kind 'backnd'"):
        checks_for("backnd", "numpy")


def test_the_registry_fixture_holds_only_the_builtins(neuropil_registry: Registry) -> None:
    assert get_registry() is neuropil_registry
    assert neuropil_registry.names("backend") == ["numpy"]
    assert neuropil_registry.names("target") == []
    assert "lif" in neuropil_registry.names("neuron")


def test_register_plugin_adds_and_removes(
    neuropil_registry: Registry, register_plugin: Callable[..., str]
) -> None:
    lif = neuropil_registry.neuron("lif")
    import dataclasses

    name = register_plugin({"neuron": [dataclasses.replace(lif, name="lif2")]})
    assert "lif2" in neuropil_registry.names("neuron")
    assert neuropil_registry.neuron("lif2").step is lif.step
    assert name.startswith("testkit_plugin_")


def test_a_refused_temporary_plugin_says_why(register_plugin: Callable[..., str]) -> None:
    lif = get_registry().neuron("lif")
    with pytest.raises(AssertionError, match=r"temporary plugin 'dupe' was refused: .*'lif'"):
        register_plugin({"neuron": [lif]}, "dupe")


def test_a_plugin_authors_test_file_runs(tmp_path: Path) -> None:
    # What `neuropil new-plugin` generates, plus a known gap.
    (tmp_path / "test_conformance.py").write_text(
        textwrap.dedent(
            """
            from neuropil_testkit import parametrize_with_checks

            @parametrize_with_checks(neurons=["lif"])
            def test_conformance(check):
                check()

            @parametrize_with_checks(
                synapses=["exponential"],
                xfail={("exponential", "check_runs_on_reference"): "demonstrates a strict xfail"},
            )
            def test_gap(check):
                if "runs_on_reference" in repr(check):
                    raise AssertionError("the gap")
                check()
            """
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rA",
            "-k",
            "check_step_is_pure or runs_on_reference",
            "test_conformance.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 9 deselected, 1 xfailed" in done.stdout, done.stdout
    assert "PASSED test_conformance.py::test_conformance[lif-check_step_is_pure]" in done.stdout
    assert "XFAIL test_conformance.py::test_gap[exponential-check_runs_on_reference]" in done.stdout
