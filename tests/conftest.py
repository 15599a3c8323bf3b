"""Shared fixtures: a real local AWS endpoint (moto in server mode) and the CLI runner."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
import uuid

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
    from eniflow.aws import AwsOptions

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    return AwsOptions(region="us-east-1", endpoint_url=moto_endpoint)


def _moto_auth(endpoint: str, free_calls: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=free_calls.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request).read()


@pytest.fixture
def restricted_aws(aws, tmp_path, monkeypatch):
    """``make(actions, ...)``: one AwsOptions (a --profile) per list of IAM actions, each an
    IAM user allowed only those; moto enforces IAM from then until the test ends."""

    from eniflow.aws import AwsOptions

    def make(*allowed: list[str]) -> list[AwsOptions]:
        iam, profiles, options = aws.client("iam"), [], []
        for actions in allowed:
            user = f"reader-{uuid.uuid4().hex[:8]}"  # a new profile name: clients are cached per options
            iam.create_user(UserName=user)
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            profiles.append(f"[{user}]\naws_access_key_id = {key['AccessKeyId']}\n"
                            f"aws_secret_access_key = {key['SecretAccessKey']}\n")
            options.append(AwsOptions(profile=user, region=aws.region, endpoint_url=aws.endpoint_url))
        (tmp_path / "credentials").write_text("".join(profiles))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
        _moto_auth(aws.endpoint_url, "0")
        return options

    yield make
    _moto_auth(aws.endpoint_url, "inf")


@pytest.fixture
def cli(capsys):
    """Run ``eniflow ARGS`` in-process; returns (exit_code, stdout, stderr)."""
    from eniflow.cli.common import run_app

    def run(*args: str):
        code = run_app([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
