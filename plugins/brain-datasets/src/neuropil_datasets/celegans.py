"""The C. elegans connectome (needs the ``celegans`` extra: ``pip install
'neuropil-datasets[celegans]'``).

Example::

    from neuropil_datasets import celegans

    wiring = celegans.connectome("varshney")      # ~280 neurons, chemical + electrical
    net = celegans.connectome_network(wiring, tau_mem=20e-3)
"""

from __future__ import annotations

from neuropil_datasets._celegans import SOURCES, Connectome, connectome, connectome_network

__all__ = ["SOURCES", "Connectome", "connectome", "connectome_network"]
