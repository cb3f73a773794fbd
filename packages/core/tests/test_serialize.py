"""Network files: exact round trips through dicts, JSON and TOML (+ the .npz sidecar)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neuropil import (
    Connectivity,
    Input,
    Network,
    Plasticity,
    Population,
    Probe,
    Projection,
    WeightInit,
)
from neuropil._serialize import INLINE_MAX, json_data, sidecar_path
from neuropil.errors import SerializationError

# -- comparison ---------------------------------------------------------------------------------


def assert_same(a: Any, b: Any, where: str = "network") -> None:
    """Field by field: arrays by value, dtype and shape; scalars by type and bits."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        assert np.array_equal(a, b), f"{where}: values differ"
        if a.dtype.kind == "f":
            assert np.array_equal(np.signbit(a), np.signbit(b)), f"{where}: signs of zero differ"
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        # TOML writes a table's plain values before its sub-tables: order is not data.
        assert sorted(a) == sorted(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{where}: lengths differ"
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, float):
        assert a.hex() == b.hex(), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


# -- strategies ---------------------------------------------------------------------------------

_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=6)
_floats = st.floats(allow_nan=False, allow_infinity=False)
_ints = st.integers(-(2**63), 2**63 - 1)
_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)


def _json_values(allow_null: bool) -> st.SearchStrategy[Any]:
    leaves: st.SearchStrategy[Any] = st.booleans() | _ints | _floats | _text
    if allow_null:
        leaves = leaves | st.none()
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
        max_leaves=8,
    )


def _metadata(allow_null: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_text, _json_values(allow_null), max_size=3)


def _farray(shape: tuple[int, ...], dtype: Any = np.float64) -> st.SearchStrategy[Any]:
    return hnp.arrays(
        dtype,
        shape,
        elements=st.floats(
            allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8
        ),
    )


def _iarray(shape: tuple[int, ...], high: int = 50) -> st.SearchStrategy[Any]:
    return hnp.arrays(np.int64, shape, elements=st.integers(0, high))


_options = st.dictionaries(_names, st.booleans() | _ints | _text, max_size=3)


@st.composite
def networks(draw: st.DrawFn, allow_null: bool = True) -> Network:
    n_in, n_pop = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    names = draw(st.lists(_names, min_size=n_in + n_pop, max_size=n_in + n_pop, unique=True))
    meta = _metadata(allow_null)
    inputs = []
    for name in names[:n_in]:
        size = draw(st.integers(1, 30))
        inputs.append(Input(name, size, draw(st.none() | st.just((size,))), draw(meta)))
    pops = []
    for name in names[n_in:]:
        size = draw(st.integers(1, 30))

        def values(size: int = size) -> dict[str, Any]:
            return draw(st.dictionaries(_names, _floats | _farray((size,)), max_size=3))

        pops.append(
            Population(
                name=name,
                size=size,
                model=draw(_names),
                params=values(),
                options=draw(_options),
                initial_state=values(),
                trainable=draw(st.dictionaries(_names, st.booleans())),
                surrogate=draw(_names),
                surrogate_params=draw(st.dictionaries(_names, _floats, max_size=2)),
                shape=draw(st.none() | st.just((1, size))),
                metadata=draw(meta),
            )
        )
    nodes: list[Input | Population] = [*inputs, *pops]
    sizes = {n.name: n.size for n in nodes}
    projections = []
    for k in range(draw(st.integers(0, 4))):
        pre = draw(st.sampled_from(sorted(sizes)))
        post = draw(st.sampled_from([p.name for p in pops]))
        kind: Any = draw(
            st.sampled_from(["dense", "sparse", "list", "one_to_one", "conv2d", "random"])
        )
        conn = Connectivity(kind)
        if kind in ("sparse", "list"):
            nnz = draw(st.integers(0, 25))
            conn = Connectivity(kind, draw(_iarray((nnz,))), draw(_iarray((nnz,))))
            shape: tuple[int, ...] = (nnz,)
        elif kind == "conv2d":
            kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            conn = Connectivity.conv2d((kh, kw), draw(st.integers(1, 2)), draw(st.integers(0, 1)))
            shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), kh, kw)
        elif kind == "random":
            conn = Connectivity.random(
                draw(st.floats(0, 1)),
                draw(st.integers(0, 2**32)),
                allow_autapses=draw(st.booleans()),
            )
            shape = (draw(st.integers(0, 20)),)
        elif kind == "one_to_one":
            shape = (sizes[post],)
        else:
            shape = (sizes[post], sizes[pre])
        weights = draw(
            _farray(shape, draw(st.sampled_from([np.float64, np.float32])))
            | st.builds(
                WeightInit,
                st.sampled_from(["normal", "uniform", "constant"]),
                st.dictionaries(_names, _floats, max_size=2),
                st.integers(0, 2**32),
            )
        )
        delay = draw(
            st.integers(0, 5) if kind == "conv2d" else st.integers(0, 5) | _iarray(shape, 5)
        )
        projections.append(
            Projection(
                name=f"{pre}->{post}#{k}",
                pre=pre,
                post=post,
                synapse=draw(_names),
                synapse_params=draw(
                    st.dictionaries(_names, _floats | _farray((sizes[post],)), max_size=2)
                ),
                synapse_options=draw(_options),
                connectivity=conn,
                weights=weights,
                delay=delay,
                plasticity=draw(
                    st.none()
                    | st.builds(
                        Plasticity, _names, st.dictionaries(_names, _floats, max_size=2), _options
                    )
                ),
                sign=draw(st.sampled_from([None, "excitatory", "inhibitory"])),
                mask=draw(st.none() | hnp.arrays(np.bool_, shape)),
                trainable_weights=draw(st.booleans()),
                trainable_delays=draw(st.booleans()),
                metadata=draw(meta),
            )
        )
    targets = sorted(sizes) + [p.name for p in projections]
    probes = draw(
        st.lists(
            st.builds(Probe, st.sampled_from(targets), _names, st.none() | _iarray((3,))),
            max_size=3,
        )
    )
    return Network(
        dt=draw(st.floats(1e-6, 0.1)),
        inputs=inputs,
        populations=pops,
        projections=projections,
        probes=probes,
        name=draw(_names),
        metadata=draw(meta),
    )


_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@_SETTINGS
@given(networks())
def test_dict_round_trip_is_exact(net: Network) -> None:
    assert_same(Network.from_dict(net.to_dict()), net)
    arrays: dict[str, Any] = {}
    data = net.to_dict(arrays)
    json.dumps(data, allow_nan=False)  # the dict is plain JSON data
    assert_same(Network.from_dict(data, arrays), net)


@_SETTINGS
@given(networks())
def test_json_file_round_trip_is_exact(tmp_path: Path, net: Network) -> None:
    path = tmp_path / "net.json"
    net.save(path)
    assert_same(Network.load(path), net)


@_SETTINGS
@given(networks(allow_null=False))
def test_toml_file_round_trip_is_exact(tmp_path: Path, net: Network) -> None:
    path = tmp_path / "net.toml"
    net.save(path)
    assert_same(Network.load(path), net)


# -- the schema ---------------------------------------------------------------------------------


def _small() -> Network:
    net = Network(dt=1e-3, name="demo", metadata={"paper": "x"})
    net.input("in", 40)
    net.population("h", 20, "lif", tau_mem=np.linspace(0.01, 0.02, 20), reset="subtract", steps=3)
    net.connect("in", "h", weights=WeightInit("normal", {"std": 0.1}, seed=7), tau_syn=5e-3)
    pairs = [(i, i % 20) for i in range(40)]
    net.connect(
        "in",
        "h",
        connectivity=Connectivity.from_list(pairs),
        weights=np.linspace(0, 1, 40),
        delay=np.ones(40, np.int64),
        name="listed",
    )
    net.probe("h", "v", index=[0, 1])
    return net


def test_schema_of_the_dict() -> None:
    arrays: dict[str, Any] = {}
    data = _small().to_dict(arrays)
    assert (data["format"], data["version"], data["dt"], data["name"]) == (
        "neuropil-network",
        1,
        1e-3,
        "demo",
    )
    pop = data["populations"][0]
    assert pop["params"]["tau_mem"] == {
        "npz": "populations[0].params.tau_mem",
        "dtype": "float64",
        "shape": [20],
    }
    assert pop["params"]["steps"] == 3.0
    assert pop["options"] == {"reset": "subtract"}
    assert "shape" not in pop  # None fields are left out
    dense, listed = data["projections"]
    assert dense["weights"] == {"init": "normal", "params": {"std": 0.1}, "seed": 7}
    assert "plasticity" not in dense
    assert "sign" not in dense
    assert "mask" not in dense
    assert listed["connectivity"]["pairs"][:2] == [[0, 0], [1, 1]]
    assert "pre" not in listed["connectivity"]
    assert listed["weights"]["dtype"] == "float64"
    assert len(listed["weights"]["array"]) == 40  # inline although large: humans edit lists
    assert len(listed["delay"]["array"]) == 40
    assert data["probes"][0]["index"] == {"array": [0, 1], "dtype": "int64"}
    assert set(arrays) == {"populations[0].params.tau_mem"}
    inline = _small().to_dict()
    assert inline["populations"][0]["params"]["tau_mem"]["array"][0] == 0.01


def test_small_arrays_are_inline_and_empty_ones_keep_their_shape() -> None:
    net = Network()
    net.population("p", INLINE_MAX, "lif", v_th=np.ones(INLINE_MAX))
    net.connect("p", "p", connectivity=Connectivity.sparse([], []), weights=np.zeros(0))
    arrays: dict[str, Any] = {}
    data = net.to_dict(arrays)
    assert arrays == {}
    assert data["populations"][0]["params"]["v_th"]["array"] == [1.0] * INLINE_MAX
    assert data["projections"][0]["weights"] == {"array": [], "dtype": "float64", "shape": [0]}


def test_files_and_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    _small().save(path)
    assert sidecar_path(path).name == "net.json.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "net.json.npz"]
    with np.load(sidecar_path(path), allow_pickle=False) as npz:
        assert npz.files == ["populations[0].params.tau_mem"]
    assert_same(Network.load(path), _small())
    small = Network()
    small.population("p", 2, "lif")
    small.save(path)  # no large arrays now: the stale sidecar goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]
    toml_path = tmp_path / "net.toml"
    _small().save(toml_path)
    text = toml_path.read_text()
    assert 'format = "neuropil-network"' in text
    assert tomllib.loads(text)["projections"][1]["connectivity"]["pairs"][3] == [3, 3]


def test_hand_written_toml_without_format(tmp_path: Path) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(
        'dt = 0.001\n[[inputs]]\nname = "in"\nsize = 2\n'
        '[[populations]]\nname = "out"\nsize = 2\nmodel = "lif"\nparams = {tau_mem = 0.01}\n'
        '[[projections]]\nname = "in->out"\npre = "in"\npost = "out"\n'
        'connectivity = {kind = "list", pairs = [[0, 1], [1, 0]]}\n'
        'weights = {array = [0.5, 0.25], dtype = "float64"}\n'
    )
    net = Network.load(path)
    net.validate()
    proj = net.projections[0]
    assert (proj.delay, proj.synapse, proj.connectivity.kind) == (1, "delta", "list")
    np.testing.assert_array_equal(proj.connectivity.post, [1, 0])
    assert net.populations[0].params == {"tau_mem": 0.01}


# -- errors -------------------------------------------------------------------------------------


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(
        SerializationError,
        match=r"unknown network file type '\.yaml'; name the "
        r"file 'net\.json' or 'net\.toml'",
    ):
        Network().save(tmp_path / "net.yaml")
    with pytest.raises(SerializationError, match="unknown network file type"):
        Network.load(tmp_path / "net.yaml")


def test_unwritable_place(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="cannot write the network"):
        Network().save(tmp_path / "no" / "such" / "net.json")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="no such network file") as info:
        Network.load(tmp_path / "nope.json")
    assert info.value.path == str(tmp_path / "nope.json")


def test_bad_json_and_toml_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "dt": 0.001,\n  "name": \n}\n')
    with pytest.raises(SerializationError, match="invalid JSON at line 4, column 1"):
        Network.load(bad)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("dt = 0.001\nname = \n")
    with pytest.raises(SerializationError, match=r"invalid TOML: .*line 2"):
        Network.load(bad_toml)


def test_format_and_version(tmp_path: Path) -> None:
    data = Network().to_dict()
    with pytest.raises(SerializationError, match="not a neuropil network file"):
        Network.from_dict({**data, "format": "nir"})
    with pytest.raises(
        SerializationError,
        match=r"the file is format version 2, this neuropil "
        r"reads up to version 1; upgrade neuropil \(pip install -U neuropil\)",
    ):
        Network.from_dict({**data, "version": 2})


def test_missing_sidecar_and_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    _small().save(path)
    moved = tmp_path / "other.json"
    path.rename(moved)
    with pytest.raises(
        SerializationError,
        match=r"its arrays are in other\.json\.npz, which is "
        "missing",
    ) as info:
        Network.load(moved)
    assert info.value.path == str(sidecar_path(moved))
    np.savez(sidecar_path(moved), unrelated=np.zeros(3))
    with pytest.raises(
        SerializationError,
        match=r"the sidecar other\.json\.npz does not belong to other\.json \(it was written "
        r"by another save\); save the network again",
    ):
        Network.load(moved)
    # A hand-written file has no hash: the missing array is then what is reported.
    data = json.loads(moved.read_text())
    del data["sidecar_sha256"]
    moved.write_text(json.dumps(data))
    with pytest.raises(
        SerializationError,
        match=r"populations\[0\]\.params\.tau_mem: the sidecar "
        "has no array 'populations",
    ):
        Network.load(moved)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["populations"][0].update(size="ten"),
            r"populations\[0\]\.size: expected an integer, got 'ten'",
        ),
        (
            lambda d: d["populations"][0].update(parms={}),
            r"populations\[0\]: unknown key 'parms'; did you mean 'params'\?",
        ),
        (
            lambda d: d["projections"][0].update(delay=1.5),
            r"projections\[0\]\.delay: expected an integer, got 1\.5",
        ),
        (
            lambda d: d["projections"][0].update(weights=3),
            r"projections\[0\]\.weights: expected an array or an initialiser",
        ),
        (
            lambda d: d["projections"][0]["connectivity"].update(kind="dens"),
            r"projections\[0\]\.connectivity\.kind: unknown connectivity 'dens'; did you mean "
            r"'dense'\?",
        ),
        (
            lambda d: d["probes"][0]["index"].update(dtype="object"),
            r"probes\[0\]\.index\.dtype: unsupported dtype 'object'",
        ),
        (
            lambda d: d["projections"][1]["connectivity"].update(pairs=[[0, 1, 2]]),
            r"projections\[1\]\.connectivity\.pairs: expected rows \[pre, post\]",
        ),
        (
            lambda d: d["populations"][0]["options"].update(reset=0.5),
            r"populations\[0\]\.options\.reset: an option is a str, bool or int, got 0\.5",
        ),
        (lambda d: d.pop("dt"), r"network: missing 'dt'"),
    ],
)
def test_wrong_types_name_their_place(tmp_path: Path, edit: Any, message: str) -> None:
    data = _small().to_dict()
    edit(data)
    with pytest.raises(SerializationError, match=message):
        Network.from_dict(data)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SerializationError, match=r"net\.json: " + message):
        Network.load(path)


def test_what_has_no_file_form(tmp_path: Path) -> None:
    net = Network(metadata={"missing": None})
    with pytest.raises(
        SerializationError,
        match=r"metadata\.missing is null, which TOML cannot "
        r"store; remove it or save as \.json",
    ):
        net.save(tmp_path / "n.toml")
    net.save(tmp_path / "n.json")
    net.metadata = {"x": object()}
    with pytest.raises(SerializationError, match=r"metadata\.x: object is not JSON data"):
        net.to_dict()
    net.metadata = {"x": float("nan")}
    with pytest.raises(SerializationError, match=r"metadata\.x: nan has no JSON form"):
        net.to_dict()
    nan = Network()
    nan.population("p", 1, "lif", tau_mem=math.nan)
    with pytest.raises(SerializationError, match="holds NaN or infinity, which JSON cannot"):
        nan.save(tmp_path / "nan.json")
    bad_list = Network()
    bad_list.connect("a", "b", connectivity=Connectivity("list", np.array([0, 1]), np.array([0])))
    with pytest.raises(SerializationError, match="list connectivity has 2 pre and 1 post"):
        bad_list.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.json"]  # no temporary files left


# -- modes, damaged sidecars, pairs, unreadable files ----------------------------------------


def _big() -> Network:
    net = Network(dt=1e-3)
    net.input("in", 30)
    net.population("h", 20, "lif")
    net.connect("in", "h", weights=np.ones((20, 30)))
    return net


def test_saved_files_have_the_ordinary_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        _big().save(tmp_path / "net.json")
    finally:
        os.umask(old)
    assert (tmp_path / "net.json").stat().st_mode & 0o777 == 0o644
    assert sidecar_path(tmp_path / "net.json").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        (lambda data, p: p.write_bytes(data[: len(data) // 2]), "File is not a zip file"),
        (
            lambda data, p: (
                np.save(p.with_suffix(".tmp.npy"), np.ones(3))
                or p.write_bytes(p.with_suffix(".tmp.npy").read_bytes())
            ),
            "a single .npy array, not an .npz archive",
        ),
    ],
)
def test_a_damaged_sidecar_is_explained(tmp_path: Path, damage: Any, cause: str) -> None:
    path = tmp_path / "net.json"
    _big().save(path)
    sidecar = sidecar_path(path)
    damage(sidecar.read_bytes(), sidecar)
    with pytest.raises(SerializationError) as info:
        Network.load(path)
    assert f"net.json.npz is not a readable .npz sidecar ({cause}" in str(info.value)
    assert str(info.value).endswith(
        "it is truncated or was not written by Network.save; save the network again"
    )


def test_a_sidecar_from_another_save_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _big().save(a)
    other = _big()
    other.projections[0].weights = np.full((20, 30), 2.0)
    other.save(b)
    sidecar_path(b).replace(sidecar_path(a))
    with pytest.raises(
        SerializationError,
        match=r"the sidecar a\.json\.npz does not belong to a\.json \(it was written by another "
        r"save\); save the network again",
    ):
        Network.load(a)


def test_a_stale_sidecar_goes_after_the_file_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "net.toml"
    _big().save(path)
    small = Network(dt=1e-3)
    small.input("in", 2)

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", fail)
        with pytest.raises(SerializationError, match="cannot write the network: disk full"):
            small.save(path)
    assert Network.load(path).inputs[0].size == 30  # the old pair is intact
    small.save(path)
    assert not sidecar_path(path).exists()
    assert Network.load(path).inputs[0].size == 2


def test_unreadable_network_files_are_explained(tmp_path: Path) -> None:
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SerializationError, match=r"bin\.json is not a text file \(not UTF-8"):
        Network.load(binary)
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(SerializationError, match=r"dir\.toml is a directory; give the path"):
        Network.load(folder)


def test_json_data_strict_and_lenient() -> None:
    value = {"cv": float("nan"), "a": np.arange(2), 3: np.float32(1.5)}
    assert json_data(value, "metrics", lenient=True) == {"cv": None, "a": [0, 1], "3": 1.5}
    with pytest.raises(SerializationError, match=r"metadata\.cv: nan has no JSON form"):
        json_data({"cv": float("nan")}, "metadata")
