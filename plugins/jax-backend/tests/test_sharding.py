"""Data-parallel training over devices (item 5), on two forced host CPU devices.

XLA fixes the number of host devices when jax starts, so the check runs in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=2``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from conftest import PatternDataset, classifier
    from neuropil import TrainingConfig
    from neuropil_jax import JaxBackend
    from neuropil_jax._training import _Trainer, _mesh

    assert len(jax.devices()) == 2, jax.devices()
    cfg = TrainingConfig.from_table(
        {"loss": "ce_max_membrane", "epochs": 2, "batch_size": 8, "lr": 0.05}
    )
    data = PatternDataset()
    out = {}
    for mode in (True, False):
        m = JaxBackend(data_parallel=mode).train(classifier(), data, cfg)
        out[str(mode)] = {
            "devices": m["devices"],
            "loss": m["loss"],
            "parameters": {k: v.tolist() for k, v in m["parameters"].items()},
        }
    # the batch really is split over the two devices
    sim = JaxBackend().compile(classifier())
    trainer = _Trainer(sim, cfg, _mesh(True, 8))
    x, _ = trainer.place(np.zeros((5, 8, 12)), np.zeros(8, dtype=np.int64))
    out["shards"] = sorted(s.data.shape[1] for s in x.addressable_shards)
    out["initial"] = sim.get_parameters()["in->hidden.weights"].tolist()
    print(json.dumps(out))
    """
)


def test_sharded_training_equals_unsharded() -> None:
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    sharded, single = out["True"], out["False"]
    assert sharded["devices"] == 2
    assert single["devices"] == 1
    assert out["shards"] == [4, 4]
    np.testing.assert_allclose(sharded["loss"], single["loss"], rtol=1e-5)
    for key, value in single["parameters"].items():
        np.testing.assert_allclose(
            sharded["parameters"][key], value, rtol=1e-5, atol=1e-6, err_msg=key
        )
    moved = np.abs(np.subtract(sharded["parameters"]["in->hidden.weights"], out["initial"]))
    assert moved.max() > 1e-3  # training happened, so the agreement means something
