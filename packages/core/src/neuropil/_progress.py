"""Progress of the experiment runner: one line per stage, a spinner while it works."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

__all__ = ["Stages"]


class Stages:
    """Shows each stage of a run while it works and how long it took; silent when ``quiet``.

    Example::

        stages = Stages(console, quiet=False)
        with stages.stage("simulate", "1000 steps on numpy"):
            result = sim.run(inputs)
        stages.timings            # {"simulate": 0.81}
    """

    def __init__(self, console: Console, *, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        """Time the ``with`` block as stage ``name``; show a spinner, then a done line."""
        label = f"{name}: {detail}" if detail else name
        start = time.perf_counter()
        if self.quiet:
            yield
        else:
            with self.console.status(Text(label), spinner="dots"):
                yield
        elapsed = time.perf_counter() - start
        self.timings[name] = elapsed
        if not self.quiet:
            line = (
                Text("  done ", style="green")
                + Text(label)
                + Text(f"  ({elapsed:.2f} s)", style="dim")
            )
            self.console.print(line, soft_wrap=True)
