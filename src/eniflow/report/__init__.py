"""One self-contained HTML report of resolved flows: open it anywhere, no network needed.

``data.py`` computes the tables in SQL, ``charts.py`` draws inline SVG, ``page.py``
assembles the escaped document with its inline style and script.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["report"]


def report(data, html: str | Path | None = None, *, inventory=None, stats=None, title: str = "eniflow report",
           sources: list[str] | None = None, aws=None) -> str:
    """Build the report; write it to ``html`` when given; return the document.

    ``data`` is a :class:`eniflow.Resolved` (give the read's ``stats`` to show them), the
    :class:`eniflow.Flows` of a read, or flow log sources; the last two are resolved with
    ``inventory``.
    """
    from ..resolve import resolve
    from .data import collect
    from .page import render_page

    if not (hasattr(data, "relation") and hasattr(data, "con")):
        from ..read import read

        sources = sources or ([str(data)] if isinstance(data, (str, Path)) else [str(s) for s in data])
        data = read(data, aws=aws)
    if "local_ip" not in data.relation.columns:  # the Flows of a read: resolve them here
        stats = stats or data.stats
        data = resolve(data, inventory=inventory)
    document = render_page(collect(data, stats, inventory), title=title, sources=sources or [])
    if html is not None:
        Path(html).write_text(document, encoding="utf-8")
    return document
