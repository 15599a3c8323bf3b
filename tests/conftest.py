"""Shared fixtures: a real local AWS endpoint (moto in server mode) and the CLI runner."""

from __future__ import annotations

import os
import socket

import pytest


@pytest.fixture(scope="session")
def moto_endpoint():
    """URL of a moto server on loopback, started once for the test session."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint):
    """AwsOptions pointing at the moto server, with fresh state for each test."""
    import urllib.request

    from eniflow.aws import AwsOptions

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    return AwsOptions(region="us-east-1", endpoint_url=moto_endpoint)


@pytest.fixture
def cli(capsys):
    """Run ``eniflow ARGS`` in-process; returns (exit_code, stdout, stderr)."""
    from eniflow.cli.common import run_app

    def run(*args: str):
        code = run_app([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
