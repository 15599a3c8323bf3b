"""eniflow demo (what `make demo` runs): the seed story, its numbers and its report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from eniflow.demo import demo


def test_demo_tells_the_seed_story(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, err = cli("demo", "--out", tmp_path)
    assert code == 0 and err == ""
    assert "\x1b[" not in out
    lines = out.splitlines()
    client = lines.index(next(l for l in lines if l.startswith("client ENI eni-0a1b2c3d4e5f60002")))
    server = lines.index(next(l for l in lines if l.startswith("server ENI eni-0a1b2c3d4e5f60001: the same flows")))
    # The client's log shows the secondary IP, the server's log the primary, for the same flows.
    assert "│ 10.0.2.30 │ 10.0.1.20 │   49711 │      80 │" in "\n".join(lines[client:server])
    assert "│ 10.0.2.30 │ 10.0.1.10 │   49711 │      80 │" in "\n".join(lines[server:server + 12])
    assert "│ 10.0.2.30 │ 10.0.1.10 │ 10.0.2.30 │ 10.0.1.20 │ 10.0.1.20 │ peer       │ eni-0a1b2c3d4e5f60002 │" in out
    assert "resolution of all 46 records: peer 42, none 4" in out
    assert "checked against the simulator's ground truth: 42 of 42 records have the right local address." in out
    assert "│10.0.1.20 │ 104548 │     116 │      21 │     3 │ 100.0│" in out
    command = next(l for l in lines if l.startswith("$ aws ec2 create-flow-logs"))
    assert "--resource-ids eni-0a1b2c3d4e5f60001" in command
    assert "${pkt-srcaddr} ${pkt-dstaddr}" in command and "--log-format '${version} ${account-id}" in command
    assert f"6. Report. Open {tmp_path / 'report.html'} in a browser" in out
    assert (tmp_path / "report.html").read_text().count("<table") >= 5


def test_demo_function_returns_what_it_wrote(tmp_path):
    console = Console(file=open(os.devnull, "w"), width=120)
    result = demo(tmp_path / "d", console)
    assert (result.records, result.matched, result.checked) == (46, 42, 42)
    assert result.report == tmp_path / "d" / "report.html" and result.report.exists()
    assert result.inventory.read_text().count('"Primary": true') == 2


def test_eniflow_demo_runs_as_a_program(tmp_path):
    """The installed entry point, as `make demo` runs it."""
    program = Path(sys.executable).with_name("eniflow")
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([str(program), "demo", "--out", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "42 of 42 records have the right local address" in done.stdout
    assert (tmp_path / "report.html").exists()


def test_cli_help_has_a_worked_example(cli):
    code, out, _ = cli("demo", "--help")
    assert code == 0 and "eniflow demo --out demo/" in out
