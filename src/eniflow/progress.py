"""The progress line of long work (reading, resolving): on stderr, so that it never mixes with
records written to stdout; only on a terminal, and only once the work has taken a second, so
that quick commands, pipes and logs stay quiet."""

from __future__ import annotations

import sys
import time

SHOWN_AFTER = 1.0  # seconds of work before the line appears


class ProgressLine:
    """``columns``: Rich ``TextColumn`` templates over the task's fields (set by :meth:`update`),
    or "bar" for a pulsing bar; the elapsed time follows them."""

    def __init__(self, enabled: bool, *columns: str):
        self.enabled = enabled and sys.stderr.isatty()
        self.columns = columns
        self.started = time.monotonic()
        self.fields: dict = {}
        self.bar = None

    def update(self, refresh: bool = False, **fields) -> None:
        """Set fields (``completed`` is Rich's count); draws the line once a second has passed
        (at once with ``refresh``, else at Rich's next tick)."""
        self.fields.update(fields)
        if not self.enabled or time.monotonic() - self.started < SHOWN_AFTER:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            columns = [BarColumn() if c == "bar" else TextColumn(c) for c in self.columns]
            self.bar = Progress(*columns, _elapsed_since(self.started), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("", total=None, **{k: v for k, v in self.fields.items() if k != "completed"})
        self.bar.update(self.task, refresh=refresh, **self.fields)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _elapsed_since(started: float):
    """Rich's elapsed-time column, counted from ``started`` (when the work began), not from when
    the line appeared a second later."""
    from datetime import timedelta

    from rich.progress import ProgressColumn
    from rich.text import Text

    class Elapsed(ProgressColumn):
        def render(self, task) -> Text:
            return Text(str(timedelta(seconds=int(time.monotonic() - started))), style="progress.elapsed")

    return Elapsed()
