"""``python -m neuropil``: the same as the ``neuropil`` command."""

from __future__ import annotations

from neuropil.cli import main

raise SystemExit(main())
