"""The C. elegans connectome from the published reconstructions that ``cect`` ships.

``cect`` (the c302 ConnectomeToolbox) reads the original data files of each reconstruction
(Varshney et al. 2011, White et al. 1986, Cook et al. 2019, Witvliet et al. 2021...) and
gives cell names and synapse-count matrices per synapse class. :func:`connectome` turns one
into plain numpy arrays; :func:`connectome_network` builds a :class:`neuropil.Network` whose
projections are exactly its chemical and electrical synapses.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil import Connectivity, Network
from neuropil.errors import DatasetError

__all__ = ["SOURCES", "Connectome", "connectome", "connectome_network"]

#: Reconstructions by short name -> ``(cect reader module, citation)``.
SOURCES: dict[str, tuple[str, str]] = {
    "varshney": (
        "VarshneyDataReader",
        "Varshney, L. R., Chen, B. L., Paniagua, E., Hall, D. H. and Chklovskii, D. B. (2011). "
        "Structural properties of the Caenorhabditis elegans neuronal network. PLoS Comput Biol "
        "7(2), e1001066. https://doi.org/10.1371/journal.pcbi.1001066",
    ),
    "white": (
        "White_whole",
        "White, J. G., Southgate, E., Thomson, J. N. and Brenner, S. (1986). The structure of "
        "the nervous system of the nematode Caenorhabditis elegans. Phil Trans R Soc Lond B "
        "314, 1-340. https://doi.org/10.1098/rstb.1986.0056",
    ),
    "cook2019": (
        "Cook2019HermReader",
        "Cook, S. J. et al. (2019). Whole-animal connectomes of both Caenorhabditis elegans "
        "sexes. Nature 571, 63-71. https://doi.org/10.1038/s41586-019-1352-7",
    ),
    "witvliet": (
        "WitvlietDataReader8",
        "Witvliet, D. et al. (2021). Connectomes across development reveal principles of brain "
        "maturation. Nature 596, 257-261. https://doi.org/10.1038/s41586-021-03778-8",
    ),
}
_CHEMICAL, _ELECTRICAL = "Generic_CS", "Generic_GJ"
_INSTALL = "pip install 'neuropil-datasets[celegans]'"


@dataclass(frozen=True)
class Connectome:
    """A wiring diagram as numpy arrays, ``N`` cells in ``names`` order.

    Attributes:
        names: Cell names (``"AVAL"``), ``[N]``.
        classes: Each cell's class: ``"sensory"``, ``"interneuron"``, ``"motor"`` (Cook et
            al. 2019 categories), ``"muscle"`` or ``"other"``.
        chemical: Chemical synapse counts ``[N, N]``; ``chemical[i, j]`` is from cell ``i``
            (pre) to cell ``j`` (post).
        electrical: Gap-junction counts ``[N, N]``, symmetric.
        source: The reconstruction's short name.
        citation: How to cite it.
    """

    names: tuple[str, ...]
    classes: tuple[str, ...]
    chemical: npt.NDArray[np.float64] = field(repr=False)
    electrical: npt.NDArray[np.float64] = field(repr=False)
    source: str = ""
    citation: str = ""

    def index(self, name: str) -> int:
        """The position of cell ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no cell named {name!r} in the {self.source} connectome") from None


def _cect() -> Any:
    try:
        return importlib.import_module("cect")
    except ImportError as exc:
        raise DatasetError(
            f"the C. elegans connectome needs the optional package 'cect' ({exc}); install it: "
            f"{_INSTALL}"
        ) from exc


def _classify(cells: Any, name: str) -> str:
    if name in cells.SENSORY_NEURONS_COOK:
        return "sensory"
    if name in cells.INTERNEURONS_COOK:
        return "interneuron"
    if name in cells.MOTORNEURONS_COOK:
        return "motor"
    if name in cells.PREFERRED_MUSCLE_NAMES or name == cells.UNSPECIFIED_BODY_WALL_MUSCLE:
        return "muscle"
    return "other"


def connectome(source: str = "varshney", *, neurons_only: bool = True) -> Connectome:
    """Load a C. elegans reconstruction from ``cect``.

    Args:
        source: A key of :data:`SOURCES` (``"varshney"``, ``"white"``, ``"cook2019"``,
            ``"witvliet"``) or the name of any ``cect.readers`` module
            (``"WitvlietDataReader1"``).
        neurons_only: Keep neurons only (drop muscles and other cells).

    Raises:
        DatasetError: ``cect`` is not installed (with the ``pip install`` line), or the
            source is unknown (with the known ones).
    """
    _cect()
    module_name, citation = SOURCES.get(source, (source, ""))
    try:
        reader = importlib.import_module(f"cect.readers.{module_name}")
    except ImportError:
        raise DatasetError(
            f"no C. elegans connectome source {source!r}; sources: {', '.join(SOURCES)} or a "
            "cect.readers module name such as 'WitvlietDataReader1'"
        ) from None
    cells = importlib.import_module("cect.Cells")
    # cect reports its progress on stdout; keep the caller's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        data = reader.get_instance()
    names = [str(n) for n in data.nodes]
    n = len(names)
    chem = np.asarray(data.connections.get(_CHEMICAL, np.zeros((n, n))), dtype=np.float64)
    elec = np.asarray(data.connections.get(_ELECTRICAL, np.zeros((n, n))), dtype=np.float64)
    elec = np.maximum(elec, elec.T)
    classes = [_classify(cells, name) for name in names]
    keep = np.array(
        [not neurons_only or c in ("sensory", "interneuron", "motor") for c in classes], bool
    )
    idx = np.flatnonzero(keep)
    chem, elec = chem[np.ix_(idx, idx)], elec[np.ix_(idx, idx)]
    chem.setflags(write=False)
    elec.setflags(write=False)
    return Connectome(
        names=tuple(names[i] for i in idx),
        classes=tuple(classes[i] for i in idx),
        chemical=chem,
        electrical=elec,
        source=source,
        citation=citation or f"the publication behind cect.readers.{module_name}",
    )


def connectome_network(
    wiring: Connectome,
    *,
    model: str = "lif",
    chemical_weight: float = 0.1,
    electrical_weight: float = 0.05,
    delay: int = 1,
    dt: float = 1e-3,
    stimulus: bool = True,
    **params: Any,
) -> Network:
    """A network constrained by ``wiring``: one population, one projection per synapse type.

    * population ``neurons`` (``N`` cells of ``model``; ``params`` are its parameters), with
      ``metadata`` ``names``, ``classes`` and ``source``;
    * projection ``chemical``: sparse, a synapse wherever ``chemical[i, j] > 0``, initial
      weight ``chemical_weight * count``;
    * projection ``electrical``: sparse, both directions of every gap junction, weight
      ``electrical_weight * count`` (a spike-coupled stand-in for the electrical coupling);
    * with ``stimulus``, an input ``stimulus`` of ``N`` channels one-to-one onto ``neurons``
      (weight 1), and a spike probe on ``neurons``.

    Only the existing synapses are parameters, so training keeps the wiring diagram; mask
    or sign-constrain the projections afterwards as needed.
    """
    net = Network(dt=dt, name=f"celegans_{wiring.source}".replace("-", "_"))
    n = len(wiring.names)
    pop = net.population(
        "neurons",
        n,
        model,
        metadata={
            "names": list(wiring.names),
            "classes": list(wiring.classes),
            "source": wiring.source,
        },
        **params,
    )
    if stimulus:
        inp = net.input("stimulus", n)
        net.connect(inp, pop, connectivity="one_to_one", weights=np.ones(n))
    for name, matrix, scale in (
        ("chemical", wiring.chemical, chemical_weight),
        ("electrical", wiring.electrical, electrical_weight),
    ):
        pre, post = np.nonzero(matrix)
        if pre.size == 0:
            continue
        net.connect(
            pop,
            pop,
            connectivity=Connectivity.sparse(pre, post),
            weights=matrix[pre, post] * scale,
            delay=delay,
            name=name,
            metadata={"synapse_counts": "weights = count * scale", "scale": scale},
        )
    if stimulus:
        net.probe(pop)
    return net
