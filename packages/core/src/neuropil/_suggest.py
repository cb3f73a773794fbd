"""Did-you-mean suggestions for error messages, shared by every checker of user input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "suggest"]


def suggest(name: object, choices: Iterable[str]) -> list[str]:
    """The choice ``name`` most likely meant: the same name in another case, a close match
    (``difflib``, cutoff 0.6), or else the choice that ``name`` abbreviates (``'expo'``).

    Returns:
        At most one choice; empty when nothing is close.
    """
    text = str(name)
    options = list(choices)
    found = [c for c in options if c.lower() == text.lower()][:1]
    found = found or difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    if not found and len(text) >= 3:
        found = [c for c in sorted(options) if c.startswith(text)][:1]
    return found


def did_you_mean(name: object, choices: Iterable[str], template: str = "{!r}") -> str:
    """``"; did you mean 'x'?"`` for the suggestion of :func:`suggest`, or ``""``.

    ``template`` formats the suggestion (``"[{}]"`` for a TOML section).
    """
    found = suggest(name, choices)
    return f"; did you mean {template.format(found[0])}?" if found else ""
