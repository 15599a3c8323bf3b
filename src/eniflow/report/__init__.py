"""One self-contained HTML report of resolved flows: open it anywhere, no network needed.

``data.py`` computes the tables in SQL, ``charts.py`` draws inline SVG, ``page.py``
assembles the escaped document with its inline style and script.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["report"]


def _stats(data):
    for candidate in (data, getattr(data, "flows", None)):
        stats = getattr(candidate, "stats", None)
        if stats is not None:
            return stats
    return None


def report(data, html: str | Path | None = None, *, inventory=None, stats=None, title: str = "eniflow report",
           sources: list[str] | None = None, aws=None) -> str:
    """Build the report; write it to ``html`` when given; return the document.

    ``data`` is a :class:`eniflow.Resolved` (read statistics are taken from it when it
    carries them, else give ``stats``) or flow log sources to read and resolve.
    """
    from .data import collect
    from .page import render_page

    if not (hasattr(data, "relation") and hasattr(data, "con")):
        from ..read import read
        from ..resolve import resolve

        sources = sources or ([str(data)] if isinstance(data, (str, Path)) else [str(s) for s in data])
        flows = read(data, aws=aws)
        stats = stats or flows.stats
        data = resolve(flows, inventory=inventory)
    document = render_page(collect(data, stats or _stats(data), inventory), title=title, sources=sources or [])
    if html is not None:
        Path(html).write_text(document, encoding="utf-8")
    return document
