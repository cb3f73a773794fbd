"""neuropil-testkit: the conformance suite of the neuropil ecosystem.

One decorator runs every check that applies to a plugin's components::

    from neuropil_testkit import parametrize_with_checks

    @parametrize_with_checks(neurons=["my_neuron"], backends=["my_backend"])
    def test_conformance(check):
        check()

Each check is also a plain function (``check_step_is_pure("lif")``) that raises
:class:`AssertionError` with a message naming the component and the property it violates. The
standard stimuli and networks the checks use are in :mod:`neuropil_testkit.stimuli` and
:mod:`neuropil_testkit.networks`. The pytest plugin provides the ``neuropil_registry`` and
``register_plugin`` fixtures.
"""

from __future__ import annotations

from neuropil_testkit import networks, stimuli
from neuropil_testkit._checks_backends import (
    GradientSimulator,
    LossFn,
    check_deterministic_with_seed,
    check_gradients_finite_nonzero,
    check_gradients_match_reference,
    check_matches_reference,
    check_parameters_round_trip,
    compare_results,
)
from neuropil_testkit._checks_data import (
    check_dataset_info,
    check_emulation_deterministic,
    check_emulation_matches_reference,
    check_encoder_shape_and_determinism,
    check_export_writes_files,
    check_samples_match_info,
    check_split_deterministic,
    check_target_reports_issues,
)
from neuropil_testkit._checks_models import (
    check_dtype_preserved,
    check_heterogeneous_params,
    check_runs_on_reference,
    check_schema_is_valid,
    check_spikes_use_ops_spike,
    check_step_is_pure,
    check_step_is_traceable,
)
from neuropil_testkit._ops import TracedArray, TracingError, TracingOps
from neuropil_testkit._parametrize import Check, checks_for, parametrize_with_checks
from neuropil_testkit._plugins import PluginSpec, blocked_registry, temporary_plugin

__version__ = "0.1.1"

__all__ = [
    "Check",
    "GradientSimulator",
    "LossFn",
    "PluginSpec",
    "TracedArray",
    "TracingError",
    "TracingOps",
    "__version__",
    "blocked_registry",
    "check_dataset_info",
    "check_deterministic_with_seed",
    "check_dtype_preserved",
    "check_emulation_deterministic",
    "check_emulation_matches_reference",
    "check_encoder_shape_and_determinism",
    "check_export_writes_files",
    "check_gradients_finite_nonzero",
    "check_gradients_match_reference",
    "check_heterogeneous_params",
    "check_matches_reference",
    "check_parameters_round_trip",
    "check_runs_on_reference",
    "check_samples_match_info",
    "check_schema_is_valid",
    "check_spikes_use_ops_spike",
    "check_split_deterministic",
    "check_step_is_pure",
    "check_step_is_traceable",
    "check_target_reports_issues",
    "checks_for",
    "compare_results",
    "networks",
    "parametrize_with_checks",
    "stimuli",
    "temporary_plugin",
]
