"""Where eniflow's SQL runs: DuckDB on this machine (default) or Apache Spark.

The resolver and the analyses are written once, as DuckDB SQL in their own modules; on Spark
they run unchanged through :class:`eniflow.engines.spark.SparkConnection`, and Athena gets
them as Trino SQL from :mod:`eniflow.athena`. The CLI's ``--engine`` calls :func:`run_resolve`
and :func:`run_top`.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import UsageError

__all__ = ["ENGINES", "run_resolve", "run_top", "resolve_on"]

ENGINES = ("duckdb", "spark")


def _check(engine: str) -> None:
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine}: choose one of {', '.join(ENGINES)}.")


def resolve_on(engine: str, sources, *, format=None, since=None, until=None, inventory=None, aws=None,
               infer: bool = True, min_support: int | None = None, spark_master: str | None = None,
               spark_conf: Sequence[str] | dict | None = None, strict: bool = False):
    """Read and resolve ``sources`` on ``engine``: an :class:`eniflow.Resolved` whose ``con`` is
    DuckDB's or Spark's (its ``relation`` then a :class:`~eniflow.engines.spark.SparkRelation`)."""
    from ..resolve import DEFAULT_MIN_SUPPORT, resolve

    _check(engine)
    if engine == "duckdb":
        from ..read import read

        flows = read(sources, format=format, since=since, until=until, aws=aws, strict=strict)
    else:
        from .spark import parse_conf, spark_session
        from .spark_read import read_spark

        conf = spark_conf if isinstance(spark_conf, dict) else parse_conf(spark_conf)
        flows = read_spark(spark_session(spark_master, conf), sources, format=format, since=since, until=until,
                           aws=aws, strict=strict)
    return resolve(flows, inventory, infer=infer, min_support=min_support or DEFAULT_MIN_SUPPORT)


class _Collected:
    """A Spark result brought to the driver as a DuckDB relation, for eniflow.render."""

    def __init__(self, resolved):
        self._resolved = resolved
        self.flows = resolved.flows
        self.columns = resolved.columns
        self.relation = resolved.relation.to_duckdb()

    def summary(self) -> dict[str, int]:
        return self._resolved.summary()


def run_resolve(engine: str, sources, **options):
    """``eniflow resolve --engine``: like :func:`resolve_on`, with the rows as a DuckDB relation
    (Spark's are collected on the driver) so that every output format works."""
    resolved = resolve_on(engine, sources, **options)
    return resolved if engine == "duckdb" else _Collected(resolved)


def run_top(engine: str, sources, *, by: str = "src_ip", metric: str = "bytes", n: int = 10, where=None,
            since=None, until=None, **options):
    """``eniflow top --engine``: eniflow.top on ``engine``; the ranking as a DuckDB relation."""
    from ..analyses.top import top

    resolved = resolve_on(engine, sources, since=since, until=until, **options)
    result = top(resolved, by=by, metric=metric, n=n, where=where, since=since, until=until)
    if engine != "duckdb":
        result.relation = result.relation.to_duckdb()
    result.flows = resolved.flows  # its ReadStats, for the CLI's account of the read
    return result
