"""The progress line of long reads and resolves: on a terminal's stderr only, never on stdout
(where records go), and silent when stderr is no terminal."""

from __future__ import annotations

import io
import re
import sys

import eniflow
from eniflow import progress

SEED = "tests/data/resolve/seed.log"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _shown(monkeypatch, capsys, work) -> str:
    """What ``work`` writes to a terminal's stderr when the line shows at once; stdout stays empty."""
    monkeypatch.setattr(progress, "SHOWN_AFTER", 0.0)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    work()
    assert capsys.readouterr().out == ""
    return terminal.getvalue()


def test_reading_shows_its_progress_on_stderr_not_stdout(monkeypatch, capsys):
    """It used to go to stdout's console: nothing at all when stdout was piped, on the records'
    stream otherwise."""
    shown = _shown(monkeypatch, capsys, lambda: eniflow.read(SEED, progress=True))
    assert "reading" in shown and "1 sources" in shown and "9 records" in shown


def test_resolving_names_each_step_on_stderr(monkeypatch, capsys):
    flows = eniflow.read(SEED)
    shown = _shown(monkeypatch, capsys, lambda: eniflow.resolve(flows, progress=True))
    steps = ["numbering sources, ENIs and addresses", "reading the records", "finding each ENI's primary address",
             "telling each record's direction", "pairing the two sides of each flow",
             "single-address ENIs and forwarders", "inferring from resolved flows", "listing candidates",
             "putting the resolution in record order"]
    assert "resolving:" in shown
    assert [step for step in steps if step in shown] == steps
    assert sorted(steps, key=shown.index) == steps


def test_no_progress_without_a_terminal_or_when_not_asked(monkeypatch, capsys):
    monkeypatch.setattr(progress, "SHOWN_AFTER", 0.0)
    eniflow.resolve(eniflow.read(SEED, progress=True), progress=True)  # stderr is pytest's capture: no terminal
    monkeypatch.setattr(sys, "stderr", _Terminal())
    eniflow.resolve(eniflow.read(SEED))
    assert sys.stderr.getvalue() == ""
    assert capsys.readouterr() == ("", "")


def test_the_elapsed_time_counts_from_when_the_work_began(monkeypatch):
    """The line appears after SHOWN_AFTER seconds; its clock used to start then, one second late."""
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    line = progress.ProgressLine(True, "resolving:", "{task.fields[step]}")
    clock[0] += 65.0  # a minute of work before the first step is named
    line.update(refresh=True, step="pairing")
    line.close()
    assert "resolving: pairing 0:01:05" in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # colours off
