"""The registry: discovery, checks on plugins, conflicts, unknown names and lazy loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import neuropil
from neuropil import Component, NeuronModel, Param, Registry, StateVar, hookimpl
from neuropil import _registry as registry_module
from neuropil.errors import (
    IncompatiblePluginError,
    NeuropilError,
    PluginConflictError,
    PluginLoadError,
    UnknownComponentError,
)

# -- helpers ------------------------------------------------------------------------------------


def make_plugin(
    name: str,
    *,
    api: object = (1, 0),
    neurons: list[Component] | None = None,
    backends: list[Component] | None = None,
) -> types.ModuleType:
    """A plugin module made on the fly, with hook implementations for the kinds given."""
    module = types.ModuleType(name)
    if api is not None:
        module.NEUROPIL_PLUGIN_API = api  # type: ignore[attr-defined]
    if neurons is not None:
        found = list(neurons)

        @hookimpl
        def neuropil_neuron_models() -> list[Component]:
            return found

        module.neuropil_neuron_models = neuropil_neuron_models  # type: ignore[attr-defined]
    if backends is not None:
        engines = list(backends)

        @hookimpl
        def neuropil_backends() -> list[Component]:
            return engines

        module.neuropil_backends = neuropil_backends  # type: ignore[attr-defined]
    return module


@pytest.fixture
def target_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real importable module holding component targets; its name is yielded."""
    name = f"fake_targets_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from neuropil import NeuronModel, Param, StateVar

            IMPORTS = 1


            def _step(ops, params, options, state, current, ctx):
                return dict(state), current


            GOOD = NeuronModel(
                name="good",
                params={"tau": Param(1e-2, "s", "time constant")},
                state={"v": StateVar("V", "potential")},
                step=_step,
                doc="Discrete update: v' = v",
            )
            NOT_A_MODEL = "just a string"


            class Engine:
                name = "fake"
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Write a fake installed distribution (``.dist-info`` + module) into a folder on
    ``sys.path``, so that ``importlib.metadata.entry_points`` finds it."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def make(dist: str, version: str, module: str, source: str, entry_point: str = "") -> None:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[neuropil]\n{entry_point or module} = {module}\n")
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        modules.append(module)

    yield make
    for module in modules:
        sys.modules.pop(module, None)


GOOD_PLUGIN = """
    import neuropil

    NEUROPIL_PLUGIN_API = (1, 0)


    @neuropil.hookimpl
    def neuropil_neuron_models():
        return [neuropil.Component("{name}", "nowhere_at_all:MODEL", "a fake neuron")]
"""


def lif_like(name: str = "fake") -> NeuronModel:
    return NeuronModel(
        name=name,
        params={"tau": Param(1e-2, "s", "time constant")},
        state={"v": StateVar("V", "potential")},
        step=lambda ops, params, options, state, current, ctx: (dict(state), current),
        doc="Discrete update: v' = v",
    )


# -- hand registration and queries --------------------------------------------------------------


def test_hand_registered_plugin_is_listed_with_its_owner() -> None:
    reg = Registry(discover=False)
    plugin = make_plugin(
        "mine",
        neurons=[Component("qif", "mod:QIF", "quadratic"), Component("adex", "mod:ADEX")],
        backends=[Component("fast", "mod:Fast", "a fast engine")],
    )
    problems = reg.register_plugin(plugin, "mine", distribution="neuropil-mine", version="0.3")

    assert problems == []
    assert reg.kinds() == ["neuron", "backend"]
    assert reg.names("neuron") == ["adex", "qif"]
    assert [(e.kind, e.name) for e in reg.entries()] == [
        ("neuron", "adex"),
        ("neuron", "qif"),
        ("backend", "fast"),
    ]
    entry = reg.entry("neuron", "qif")
    assert entry == neuropil.RegistryEntry(
        "neuron", "qif", "mod:QIF", "quadratic", "mine", "neuropil-mine", "0.3"
    )
    assert entry.owner == "neuropil-mine 0.3"
    assert reg.entries("backend")[0].summary == "a fast engine"
    assert reg.problems == []


def test_listing_imports_no_target() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("lazy", backends=[Component("ghost", "module_that_does_not_exist:Engine")]),
        "lazy",
    )
    # Listing works although the target cannot even be imported: nothing was imported.
    assert reg.names("backend") == ["ghost"]
    assert "module_that_does_not_exist" not in sys.modules
    with pytest.raises(PluginLoadError, match="could not import backend 'ghost'"):
        reg.load("backend", "ghost")


def test_register_plugin_twice_under_one_name_is_refused() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(make_plugin("a", neurons=[]), "same")
    with pytest.raises(ValueError, match="a plugin named 'same' is already registered"):
        reg.register_plugin(make_plugin("b", neurons=[]), "same")


def test_unknown_kind_suggests_the_right_one() -> None:
    reg = Registry(discover=False)
    with pytest.raises(UnknownComponentError, match="no kind named 'backends'; did you mean "):
        reg.names("backends")


def test_builtins_come_in_through_the_entry_point() -> None:
    reg = Registry()
    entry = reg.entry("backend", "numpy")
    assert entry.plugin == "builtins"
    assert entry.distribution == "neuropil"
    assert entry.version == neuropil.__version__
    assert entry.target == "neuropil.reference:NumpyBackend"
    assert {"lif", "li", "alif"} <= set(reg.names("neuron"))
    assert not [p for p in reg.problems if p.distribution == "neuropil"]


# -- discovery through entry points -------------------------------------------------------------


def test_entry_point_discovery_reports_distribution_and_version(
    make_dist: Callable[..., None],
) -> None:
    make_dist("fake-plugin", "1.0", "fake_plugin_good", GOOD_PLUGIN.replace("{name}", "fk"))
    reg = Registry()
    entry = reg.entry("neuron", "fk")
    assert (entry.plugin, entry.distribution, entry.version) == (
        "fake_plugin_good",
        "fake-plugin",
        "1.0",
    )
    assert entry.target == "nowhere_at_all:MODEL"
    assert "nowhere_at_all" not in sys.modules


def test_a_plugin_that_fails_to_import_is_recorded_and_the_others_keep_working(
    make_dist: Callable[..., None],
) -> None:
    make_dist("fake-good", "1.0", "fake_plugin_ok", GOOD_PLUGIN.replace("{name}", "fine"))
    make_dist("fake-broken", "2.1", "fake_plugin_broken", "import a_dependency_not_installed\n")
    reg = Registry()

    assert reg.entry("neuron", "fine").distribution == "fake-good"
    (problem,) = [p for p in reg.problems if p.plugin == "fake_plugin_broken"]
    assert problem.status == "broken"
    assert (problem.distribution, problem.version) == ("fake-broken", "2.1")
    assert isinstance(problem.error, PluginLoadError)
    assert str(problem.error) == (
        "could not import plugin 'fake_plugin_broken' (fake-broken 2.1) from "
        "'fake_plugin_broken': ModuleNotFoundError: No module named 'a_dependency_not_installed'"
    )
    assert isinstance(problem.error.__cause__, ModuleNotFoundError)


def test_missing_api_declaration_says_which_line_to_add(make_dist: Callable[..., None]) -> None:
    source = GOOD_PLUGIN.replace("NEUROPIL_PLUGIN_API = (1, 0)", "").replace("{name}", "undecl")
    make_dist("fake-undeclared", "0.1", "fake_plugin_undeclared", source)
    reg = Registry()

    (problem,) = [p for p in reg.problems if p.plugin == "fake_plugin_undeclared"]
    assert problem.status == "refused"
    message = str(problem.error)
    assert "does not declare the neuropil plugin API" in message
    assert (
        "add this line to module 'fake_plugin_undeclared': NEUROPIL_PLUGIN_API = (1, 0)" in message
    )
    assert "undecl" not in reg.names("neuron")
    # Asking for one of its components explains the refusal rather than "no neuron named".
    with pytest.raises(PluginLoadError, match="neuron 'undecl' is refused: plugin "):
        reg.entry("neuron", "undecl")


@pytest.mark.parametrize(
    ("declared", "needs", "fix"),
    [
        ((2, 0), "2.0", "upgrade neuropil"),
        ((1, 7), "1.7", "upgrade neuropil"),
        ((0, 3), "0.3", "install a release of fake-old built for plugin API 1.0"),
    ],
)
def test_incompatible_api_is_refused_with_both_versions_named(
    make_dist: Callable[..., None], declared: tuple[int, int], needs: str, fix: str
) -> None:
    source = GOOD_PLUGIN.replace("(1, 0)", repr(declared)).replace("{name}", "oldie")
    make_dist("fake-old", "3.2", "fake_plugin_old", source)
    reg = Registry()

    (problem,) = [p for p in reg.problems if p.plugin == "fake_plugin_old"]
    assert problem.status == "refused"
    assert isinstance(problem.error, IncompatiblePluginError)
    assert str(problem.error).startswith(
        f"plugin 'fake_plugin_old' (fake-old 3.2) needs neuropil plugin API {needs}, "
        "but this core provides plugin API 1.0; it is refused."
    )
    assert fix in str(problem.error)
    assert problem.error.required == declared
    # Its components are known (listed as refused) but not offered.
    assert [(e.name, type(err)) for e, err in reg.refused("neuron")] == [
        ("oldie", IncompatiblePluginError)
    ]
    with pytest.raises(IncompatiblePluginError, match=f"needs neuropil plugin API {needs}"):
        reg.entry("neuron", "oldie")


def test_an_older_minor_api_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "PLUGIN_API_VERSION", (1, 4))
    reg = Registry(discover=False)
    assert reg.register_plugin(make_plugin("p", api=(1, 2), neurons=[]), "p") == []
    problems = reg.register_plugin(make_plugin("q", api=(1, 5), neurons=[]), "q")
    assert [type(p.error) for p in problems] == [IncompatiblePluginError]


@pytest.mark.parametrize("declared", ["1.0", (1,), (1, 0, 0), (True, 0), [1, "0"]])
def test_a_malformed_api_declaration_is_refused(declared: object) -> None:
    reg = Registry(discover=False)
    (problem,) = reg.register_plugin(make_plugin("m", api=declared, neurons=[]), "m")
    assert isinstance(problem.error, PluginLoadError)
    assert f"declares NEUROPIL_PLUGIN_API = {declared!r}" in str(problem.error)
    assert "write in module 'm': NEUROPIL_PLUGIN_API = (1, 0)" in str(problem.error)


def test_a_list_api_declaration_is_accepted() -> None:
    reg = Registry(discover=False)
    assert reg.register_plugin(make_plugin("m", api=[1, 0], neurons=[]), "m") == []


# -- broken hooks -------------------------------------------------------------------------------


def test_a_hook_that_raises_breaks_only_its_plugin() -> None:
    reg = Registry(discover=False)
    bad = make_plugin("bad")

    @hookimpl
    def neuropil_neuron_models() -> list[Component]:
        raise RuntimeError("boom")

    bad.neuropil_neuron_models = neuropil_neuron_models  # type: ignore[attr-defined]
    reg.register_plugin(make_plugin("good", neurons=[Component("ok", "m:OK")]), "good")
    (problem,) = reg.register_plugin(bad, "bad", distribution="bad-dist", version="1")

    assert problem.status == "broken"
    assert str(problem.error) == (
        "plugin 'bad' (bad-dist 1) is broken: its hook neuropil_neuron_models raised "
        "RuntimeError: boom"
    )
    assert isinstance(problem.error.__cause__, RuntimeError)
    assert reg.names("neuron") == ["ok"]


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("lif", "returned a str; it must return a list of neuropil.Component"),
        (["lif"], "returned 'lif', which is not a neuropil.Component"),
        ([Component("My-LIF", "m:LIF")], "returned the neuron name 'My-LIF'; names use only"),
        ([Component("lif", "m.LIF")], "returned neuron 'lif' with target 'm.LIF'; a target is"),
        ([Component("lif", "m:A"), Component("lif", "m:B")], "returns neuron 'lif' more than once"),
    ],
)
def test_a_hook_returning_bad_components_is_broken(returned: object, message: str) -> None:
    reg = Registry(discover=False)
    plugin = make_plugin("p")

    @hookimpl
    def neuropil_neuron_models() -> object:
        return returned

    plugin.neuropil_neuron_models = neuropil_neuron_models  # type: ignore[attr-defined]
    (problem,) = reg.register_plugin(plugin, "p")
    assert message in str(problem.error)
    assert reg.entries() == []


def test_an_unknown_hook_name_is_reported_with_a_suggestion() -> None:
    reg = Registry(discover=False)
    plugin = make_plugin("typo")

    @hookimpl
    def neuropil_neuron_model() -> list[Component]:
        return []

    plugin.neuropil_neuron_model = neuropil_neuron_model  # type: ignore[attr-defined]
    (problem,) = reg.register_plugin(plugin, "typo")
    assert (
        "implements 'neuropil_neuron_model', which is not a neuropil hook; did you mean "
        "'neuropil_neuron_models'?" in str(problem.error)
    )
    # It was unregistered from pluggy too, so a corrected plugin can come in under a new name.
    assert reg.register_plugin(make_plugin("fixed", neurons=[]), "fixed") == []


# -- conflicts ----------------------------------------------------------------------------------


def test_two_plugins_claiming_one_name_are_both_refused() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("a", neurons=[Component("qif", "a:QIF"), Component("only_a", "a:X")]),
        "a",
        distribution="fake-a",
        version="1.0",
    )
    problems = reg.register_plugin(
        make_plugin("b", neurons=[Component("qif", "b:QIF")]),
        "b",
        distribution="fake-b",
        version="2.0",
    )

    message = (
        "neuron 'qif' is provided by more than one plugin (fake-a 1.0 and fake-b 2.0); both are "
        "refused. Uninstall one of them, or ask its author to rename the component."
    )
    assert [str(p.error) for p in problems] == [message]
    assert sorted(p.plugin for p in reg.problems) == ["a", "b"]
    assert all(p.status == "refused" for p in reg.problems)
    assert reg.names("neuron") == ["only_a"]
    assert [(e.plugin, str(err)) for e, err in reg.refused()] == [("a", message), ("b", message)]
    with pytest.raises(PluginConflictError) as info:
        reg.entry("neuron", "qif")
    assert str(info.value) == message
    assert info.value.owners == ["fake-a 1.0", "fake-b 2.0"]

    reg.unregister_plugin("b")
    assert reg.entry("neuron", "qif").plugin == "a"
    assert reg.problems == []


def test_conflict_between_discovered_distributions(make_dist: Callable[..., None]) -> None:
    make_dist("fake-one", "1.0", "fake_plugin_one", GOOD_PLUGIN.replace("{name}", "twin"))
    make_dist("fake-two", "0.5", "fake_plugin_two", GOOD_PLUGIN.replace("{name}", "twin"))
    reg = Registry()
    with pytest.raises(PluginConflictError, match=r"\(fake-one 1.0 and fake-two 0.5\); both"):
        reg.load("neuron", "twin")


# -- unknown names ------------------------------------------------------------------------------


def test_unknown_name_suggests_close_matches_and_lists_installed() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("p", backends=[Component("torch", "m:T"), Component("numpy", "m:N")]), "p"
    )
    with pytest.raises(UnknownComponentError) as info:
        reg.create("backend", "troch")
    assert str(info.value) == (
        "no backend named 'troch'; did you mean 'torch'? installed: numpy, torch"
    )
    assert (info.value.kind, info.value.name, info.value.suggestions) == (
        "backend",
        "troch",
        ["torch"],
    )


def test_a_first_party_name_gives_the_pip_install_line() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(make_plugin("core", backends=[Component("numpy", "m:N")]), "core")
    with pytest.raises(UnknownComponentError) as info:
        reg.entry("backend", "jax")
    assert str(info.value) == (
        "no backend named 'jax'; installed: numpy. 'jax' is provided by a plugin: "
        "pip install neuropil-jax"
    )
    with pytest.raises(UnknownComponentError, match="pip install neuropil-loihi"):
        reg.entry("target", "loihi2")
    with pytest.raises(UnknownComponentError, match="pip install neuropil-datasets"):
        reg.entry("dataset", "shd")
    # a misspelt first-party name that is not installed: suggested, with its install line
    with pytest.raises(UnknownComponentError) as typo:
        reg.entry("backend", "troch")
    assert str(typo.value) == (
        "no backend named 'troch'; did you mean 'torch'? installed: numpy. "
        "'torch' is provided by a plugin: pip install neuropil-torch"
    )
    with pytest.raises(UnknownComponentError) as info:
        reg.entry("analysis", "raster")
    assert info.value.install_hint is None


def test_no_pip_hint_when_the_first_party_plugin_is_installed() -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("loihi", neurons=[]), "loihi", distribution="neuropil-loihi", version="0.1"
    )
    with pytest.raises(UnknownComponentError) as info:
        reg.entry("target", "loihi2")
    assert info.value.install_hint is None
    assert "pip install" not in str(info.value)


def test_a_first_party_name_whose_plugin_is_broken_says_so(
    make_dist: Callable[..., None],
) -> None:
    make_dist("neuropil-jax", "0.1.0", "fake_neuropil_jax", "import jax_is_not_here\n", "jax")
    reg = Registry()
    with pytest.raises(PluginLoadError) as info:
        reg.entry("backend", "jax")
    assert str(info.value).startswith(
        "backend 'jax' is unavailable: its plugin 'jax' (neuropil-jax 0.1.0) failed to load: "
        "could not import plugin 'jax'"
    )
    assert isinstance(info.value.__cause__, PluginLoadError)


# -- loading ------------------------------------------------------------------------------------


def test_load_imports_once_and_caches(target_module: str) -> None:
    reg = Registry(discover=False)
    reg.register_plugin(make_plugin("p", neurons=[Component("good", f"{target_module}:GOOD")]), "p")
    assert target_module not in sys.modules
    first = reg.load("neuron", "good")
    assert target_module in sys.modules
    assert reg.load("neuron", "good") is first
    assert isinstance(reg.neuron("good"), NeuronModel)
    assert reg.create("neuron", "good") is first


def test_create_makes_a_fresh_engine_each_time(target_module: str) -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("p", backends=[Component("fake", f"{target_module}:Engine")]), "p"
    )
    one, two = reg.create("backend", "fake"), reg.create("backend", "fake")
    assert type(one).__name__ == "Engine"
    assert one is not two


def test_create_refuses_a_target_that_cannot_be_called(target_module: str) -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("p", backends=[Component("text", f"{target_module}:NOT_A_MODEL")]), "p"
    )
    with pytest.raises(PluginLoadError, match="is a str, which cannot be called"):
        reg.create("backend", "text")


@pytest.mark.parametrize(
    ("target", "cause"),
    [("neuropil_no_such_module:Engine", ModuleNotFoundError), ("{mod}:Missing", AttributeError)],
)
def test_a_failing_load_names_the_component_and_chains_the_cause(
    target_module: str, target: str, cause: type[Exception]
) -> None:
    target = target.replace("{mod}", target_module)
    reg = Registry(discover=False)
    reg.register_plugin(make_plugin("p", backends=[Component("torch", target)]), "p")
    with pytest.raises(PluginLoadError) as info:
        reg.load("backend", "torch")
    assert str(info.value).startswith(
        f"could not import backend 'torch' from {target!r}: {cause.__name__}: "
    )
    assert isinstance(info.value.__cause__, cause)
    assert (info.value.kind, info.value.name, info.value.plugin) == ("backend", "torch", "p")


def test_typed_helpers_check_the_loaded_type(target_module: str) -> None:
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("p", neurons=[Component("wrong", f"{target_module}:NOT_A_MODEL")]), "p"
    )
    with pytest.raises(PluginLoadError) as info:
        reg.neuron("wrong")
    assert str(info.value).startswith(
        f"neuron 'wrong' from '{target_module}:NOT_A_MODEL' is a str, not a neuropil.NeuronModel"
    )
    with pytest.raises(UnknownComponentError, match="no synapse named 'wrong'"):
        reg.synapse("wrong")


def test_typed_helpers_return_definitions(monkeypatch: pytest.MonkeyPatch) -> None:
    holder = types.ModuleType("fake_definitions_for_registry_test")
    holder.MODEL = lif_like("qif")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, holder.__name__, holder)
    reg = Registry(discover=False)
    reg.register_plugin(
        make_plugin("p", neurons=[Component("qif", f"{holder.__name__}:MODEL")]), "p"
    )
    assert reg.neuron("qif") is holder.MODEL


# -- the process-wide registry ------------------------------------------------------------------


def test_use_registry_swaps_and_restores() -> None:
    outer = neuropil.get_registry()
    assert neuropil.get_registry() is outer
    mine = Registry(discover=False)
    with neuropil.use_registry(mine) as active:
        assert active is mine
        assert neuropil.get_registry() is mine
        inner = Registry(discover=False)
        with neuropil.use_registry(inner):
            assert neuropil.get_registry() is inner
        assert neuropil.get_registry() is mine
    assert neuropil.get_registry() is outer


def test_use_registry_restores_after_an_error() -> None:
    outer = neuropil.get_registry()
    with pytest.raises(NeuropilError), neuropil.use_registry(Registry(discover=False)):
        raise NeuropilError("inside")
    assert neuropil.get_registry() is outer


# -- listing imports nothing heavy (fresh interpreter) ------------------------------------------


def test_listing_in_a_fresh_process_imports_no_target(
    make_dist: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "site" / "fake_heavy_target.py").write_text("raise RuntimeError('imported')\n")
    make_dist(
        "fake-heavy",
        "1.0",
        "fake_plugin_heavy",
        GOOD_PLUGIN.replace("nowhere_at_all:MODEL", "fake_heavy_target:MODEL").replace(
            "{name}", "heavy"
        ),
    )
    script = textwrap.dedent(
        """
        import json, sys
        import neuropil
        before = set(sys.modules)
        entries = neuropil.get_registry().entries()
        from neuropil.cli import main
        code = main(["plugins"])
        code_json = main(["plugins", "--json"])
        new = sorted(set(sys.modules) - before)
        print(json.dumps({
            "code": [code, code_json],
            "targets": sorted({e.target.split(":")[0] for e in entries}),
            "names": [e.name for e in entries],
            "new": new,
            "heavy": [m for m in ("torch", "jax", "jaxlib") if m in sys.modules],
        }))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == [0, 0]
    assert "heavy" in report["names"]
    assert "fake_heavy_target" in report["targets"]
    assert {"neuropil.reference", "neuropil.models._neurons"} <= set(report["targets"])
    assert report["heavy"] == []
    imported_targets = [
        m for m in report["new"] if m in report["targets"] or m.startswith("neuropil.models")
    ]
    assert imported_targets == []


def test_every_builtin_loads_with_the_right_type() -> None:
    reg = Registry()
    builtins = [e for e in reg.entries() if e.distribution == "neuropil"]
    assert {e.kind for e in builtins} == {"neuron", "synapse", "rule", "surrogate", "backend"}
    for entry in builtins:
        loaded = reg.create(entry.kind, entry.name)
        if entry.kind == "backend":
            assert isinstance(loaded, neuropil.protocols.Backend)
        else:
            assert loaded.name == entry.name


def test_two_distributions_with_one_entry_point_name_both_load(
    make_dist: Callable[..., None],
) -> None:
    make_dist("fake-first", "1.0", "fake_plugin_first", GOOD_PLUGIN.replace("{name}", "n1"), "same")
    make_dist(
        "fake-second", "1.0", "fake_plugin_second", GOOD_PLUGIN.replace("{name}", "n2"), "same"
    )
    reg = Registry()
    assert reg.entry("neuron", "n1").plugin == "same"
    assert reg.entry("neuron", "n2").plugin == "fake-second:same"


def test_a_plugin_cannot_switch_off_a_built_in() -> None:
    import neuropil._builtins as builtins

    reg = Registry(discover=False)
    reg.register_plugin(builtins, "builtins", distribution="neuropil", version="0.1.0")
    reg.register_plugin(
        make_plugin("mine", neurons=[Component("lif", "m:LIF"), Component("qif", "m:QIF")]),
        "mine",
        distribution="neuropil-mine",
        version="0.2.0",
    )
    entry = reg.entry("neuron", "lif")
    assert (entry.distribution, entry.plugin) == ("neuropil", "builtins")
    assert reg.entry("neuron", "qif").distribution == "neuropil-mine"  # the rest still works
    (problem,) = [p for p in reg.problems if p.plugin == "mine"]
    assert problem.status == "refused"
    assert str(problem.error) == (
        "neuron 'lif' is a built-in of neuropil 0.1.0; the neuron of the same name from "
        "neuropil-mine 0.2.0 is refused. Ask its author to rename it."
    )
    assert [(e.plugin, e.name) for e, _ in reg.refused("neuron")] == [("mine", "lif")]
