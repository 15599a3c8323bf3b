"""Print the conformance figures per peer (the README's conformance section quotes them).

    .venv/bin/python tests/conformance_summary.py

Uses the same cases and comparison as tests/test_conformance.py; lists every disagreement.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

try:
    import test_conformance as conformance  # noqa: E402
except pytest.skip.Exception as exc:  # the corpus is absent
    sys.exit(f"skipped: {exc.msg}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="eniflow-conformance-") as tmp:
        outcomes = conformance.run_all(Path(tmp))
    print(conformance.summary(outcomes))
    for outcome in outcomes:
        for index, key, column, want, got in outcome.mismatches:
            print(f"UNEXPLAINED {outcome.case.id} record {index}: {key} -> {column}: peer {want!r}, eniflow {got!r}")
        for index, key, reason in outcome.allowed:
            print(f"allowed {outcome.case.id} record {index}: {key}: {reason}")
    return 1 if any(o.mismatches for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
