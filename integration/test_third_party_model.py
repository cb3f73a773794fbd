"""A third-party neuron model, installed as its own distribution, works everywhere at once.

The plugin is written to disk as a real package with a ``.dist-info`` (entry point group
``neuropil``), discovered by a fresh :class:`neuropil.Registry`, and then used by the builder,
validation, JSON/TOML files, the reference engine, the experiment runner and the testkit.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import neuropil as npl
from neuropil._experiment import run_experiment
from neuropil_testkit import checks_for

PLUGIN_MODULE = textwrap.dedent(
    '''
    """A third-party plugin: the exponential integrate-and-fire neuron."""

    from neuropil import Component, hookimpl

    NEUROPIL_PLUGIN_API = (1, 0)


    @hookimpl
    def neuropil_neuron_models():
        return [Component("acme_eif", "acme_eif.model:EIF", "exponential integrate-and-fire")]
    '''
)

MODEL_MODULE = textwrap.dedent(
    '''
    """Exponential integrate-and-fire (Fourcaud-Trocme et al. 2003), forward Euler.

    Discrete update:
        v1 = v + dt / tau_mem * (v_rest - v + delta_t * exp((v - v_t) / delta_t) + r * current)
        s' = spike(v1 - v_th)
        v' = (1 - s') * v1 + s' * v_reset
        output = s'
    """

    from neuropil import NeuronModel, Param, StateVar


    def _step(ops, params, options, state, current, ctx):
        v = state["v"]
        tau = ops.asarray(params["tau_mem"])
        v_rest = ops.asarray(params["v_rest"])
        delta_t = ops.asarray(params["delta_t"])
        v_t = ops.asarray(params["v_t"])
        v_th = ops.asarray(params["v_th"])
        v_reset = ops.asarray(params["v_reset"])
        r = ops.asarray(params["r"])
        # the exponential is capped at v_th so that a spike step cannot overflow
        upswing = delta_t * ops.exp((ops.minimum(v, v_th) - v_t) / delta_t)
        v1 = v + ctx.dt / tau * (v_rest - v + upswing + r * current)
        s = ops.spike(v1 - v_th, ctx.surrogate)
        return {"v": (1 - s) * v1 + s * v_reset}, s


    EIF = NeuronModel(
        name="acme_eif",
        params={
            "tau_mem": Param(20e-3, "s", "membrane time constant", low=0.0, high=10.0,
                             low_inclusive=False),
            "v_rest": Param(-65e-3, "V", "resting potential", low=-10.0, high=10.0),
            "v_t": Param(-50e-3, "V", "soft threshold", low=-10.0, high=10.0),
            "delta_t": Param(2e-3, "V", "slope factor", low=0.0, high=10.0,
                             low_inclusive=False),
            "v_th": Param(-30e-3, "V", "spike cut-off", low=-10.0, high=10.0),
            "v_reset": Param(-68e-3, "V", "reset potential", low=-10.0, high=10.0),
            "r": Param(1.0, "ohm", "input resistance", low=0.0, low_inclusive=False),
        },
        state={"v": StateVar("V", "membrane potential", "v_rest")},
        step=_step,
        doc=__doc__,
    )
    '''
)


@pytest.fixture
def acme_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[npl.Registry]:
    """Install the plugin as a distribution on sys.path and make a registry that finds it."""
    pkg = tmp_path / "acme_eif"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    (pkg / "model.py").write_text(MODEL_MODULE, encoding="utf-8")
    dist = tmp_path / "acme_eif-2.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-eif\nVersion: 2.1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text("[neuropil]\nacme = acme_eif\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = npl.Registry()
    with npl.use_registry(registry):
        yield registry
    for name in [m for m in sys.modules if m == "acme_eif" or m.startswith("acme_eif.")]:
        del sys.modules[name]


def _network() -> npl.Network:
    net = npl.Network(dt=1e-4, name="eif")
    net.input("drive", 3)
    net.population("n", 3, "acme_eif", v_t=np.array([-52e-3, -50e-3, -48e-3]))
    net.connect("drive", "n", weights=np.full(3, 25e-3), connectivity="one_to_one", delay=0)
    net.probe("n", "spikes")
    net.probe("n", "v")
    return net


def test_discovered_with_its_distribution(acme_plugin: npl.Registry) -> None:
    entry = acme_plugin.entry("neuron", "acme_eif")
    assert (entry.distribution, entry.version) == ("acme-eif", "2.1.0")
    assert "neuron" in acme_plugin.kinds()
    assert isinstance(acme_plugin.neuron("acme_eif"), npl.NeuronModel)


def test_validation_uses_the_plugin_schema(acme_plugin: npl.Registry) -> None:
    net = _network()
    net.populations[0].params["tau_mem"] = 20.0
    with pytest.raises(npl.errors.NetworkValidationError, match=r"did you mean 20e-3\?"):
        net.validate()


def test_simulates_and_matches_hand_computed_first_step(acme_plugin: npl.Registry) -> None:
    drive = np.ones((2000, 1, 3))
    res = npl.simulate(_network(), {"drive": drive})
    v0 = res["n.v"][0, 0]
    v_t = np.array([-52e-3, -50e-3, -48e-3])
    expected = -65e-3 + 1e-4 / 20e-3 * (2e-3 * np.exp((-65e-3 - v_t) / 2e-3) + 25e-3)
    np.testing.assert_allclose(v0, expected, rtol=1e-12)
    spikes = res["n.spikes"][:, 0]
    first = [int(np.argmax(spikes[:, k] > 0)) for k in range(3)]
    # a lower soft threshold fires earlier; all three fire under a 25 mV drive
    assert all(spikes[f, k] == 1.0 for k, f in enumerate(first))
    assert first[0] < first[1] < first[2]


def test_round_trips_through_files(acme_plugin: npl.Registry, tmp_path: Path) -> None:
    net = _network()
    drive = np.ones((200, 2, 3))
    before = npl.simulate(net, {"drive": drive})["n.v"]
    for suffix in (".json", ".toml"):
        path = tmp_path / f"net{suffix}"
        net.save(path)
        after = npl.simulate(npl.Network.load(path), {"drive": drive})["n.v"]
        np.testing.assert_array_equal(before, after)


def test_experiment_runner_uses_the_plugin(acme_plugin: npl.Registry, tmp_path: Path) -> None:
    net_file = tmp_path / "eif.toml"
    _network().save(net_file)
    exp = tmp_path / "exp.toml"
    exp.write_text(
        textwrap.dedent(
            """
            [experiment]
            name = "eif"
            seed = 3

            [network]
            file = "eif.toml"

            [stimulus]
            kind = "constant"
            value = 1.0
            duration = 0.05
            """
        ),
        encoding="utf-8",
    )
    run = run_experiment(exp, out_dir=tmp_path / "runs", quiet=True)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    pop = metrics["populations"]["n"]
    assert pop["model"] == "acme_eif"
    assert pop["neurons"] == 3
    with np.load(run / "recordings.npz", allow_pickle=False) as rec:
        spikes = rec["n.spikes"]
    assert spikes.shape == (500, 1, 3)
    assert spikes.sum() > 0
    assert math.isclose(pop["rate_hz"], spikes.sum() / 3 / 0.05, rel_tol=1e-9)


def test_passes_every_testkit_check_that_applies(acme_plugin: npl.Registry) -> None:
    # checks_for picks the checks from what the model declares (here: a spiking neuron), so
    # checks added to the kit later apply here without editing this test
    checks = checks_for("neuron", "acme_eif")
    names = {check.func.__name__ for check in checks}
    assert {"check_step_is_pure", "check_step_is_traceable", "check_spikes_use_ops_spike"} <= names
    for check in checks:
        check()
