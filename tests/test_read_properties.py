"""Hypothesis: whatever the mix of lines, every line is accounted for once, and valid records
come back exactly as written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eniflow
from eniflow.fields import DEFAULT_FORMAT
from eniflow.formats import header_fields

HEADER = " ".join(DEFAULT_FORMAT)

ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
record = st.fixed_dictionaries({
    "account_id": st.from_regex(r"\A[0-9]{12}\Z"),
    "interface_id": st.from_regex(r"\Aeni-[0-9a-f]{8,17}\Z"),
    "srcaddr": ipv4, "dstaddr": ipv4,
    "srcport": st.integers(0, 65535), "dstport": st.integers(0, 65535),
    "protocol": st.sampled_from([1, 6, 17, 58]),
    "packets": st.integers(1, 10**9), "bytes": st.integers(1, 10**12),
    "start": st.integers(1_400_000_000, 1_900_000_000), "action": st.sampled_from(["ACCEPT", "REJECT"]),
}).map(lambda r: {**r, "version": 2, "end": r["start"] + 60, "log_status": "OK"})

garbage = st.one_of(
    st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=80)
    .filter(lambda t: t.strip() and not t.lstrip().startswith("{") and header_fields(t) is None),
    st.just("2 123456789012 eni-1 1.2.3.4"),
    st.just("2 123456789012 eni-1 1.2.3.4 5.6.7.8 x 80 6 1 1 1 2 ACCEPT OK"),
)
line = st.one_of(record.map(lambda r: ("record", r)), garbage.map(lambda g: ("garbage", g)),
                 st.just(("blank", "")), st.just(("header", HEADER)))


def render(rec: dict) -> str:
    return " ".join(str(rec[f.replace("-", "_")]) for f in DEFAULT_FORMAT)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=40), st.booleans())
def test_every_line_lands_in_one_bucket_and_records_round_trip(lines, gz):
    text = "".join((render(v) if k == "record" else v) + "\n" for k, v in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.log"
        if gz:
            import gzip

            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        flows = eniflow.read(path)
        s = flows.stats
        assert s.lines == len(lines)
        assert s.lines == s.headers + s.blank + s.records + s.nodata + s.skipdata + s.malformed
        expected = [v for k, v in lines if k == "record"]
        got = flows.relation.select("* EXCLUDE (source, line)").fetchall()
        cols = [c for c in flows.columns if c not in ("source", "line")]
        assert [dict(zip(cols, row)) for row in got] == expected
        assert s.records == len(expected)
        assert s.headers == sum(k == "header" for k, _ in lines)
        flows.close()
