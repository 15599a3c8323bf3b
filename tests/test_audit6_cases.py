"""Defects found by the sixth audit (analysis verbs against the simulator's truth) outside the
files of one verb."""

from __future__ import annotations


def test_a_scenario_name_is_not_shadowed_by_its_output_directory(tmp_path, monkeypatch, cli):
    """The README's `eniflow simulate --scenario seed --out seed/`, run a second time in the same
    directory, read the directory seed/ as the topology file: 'seed: cannot read the topology
    file (Is a directory)'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed").mkdir()
    code, _, err = cli("simulate", "--scenario", "seed", "--out", "seed")
    assert code == 0 and "wrote 46 records (4 NODATA, 42 OK)" in err
