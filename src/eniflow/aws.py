"""boto3 sessions and clients with the standard credential chain, AWS error mapping, and
response bodies as file objects."""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from typing import BinaryIO, Iterable

from .errors import AwsAccessDenied, AwsError, AwsNotFound

__all__ = ["AwsOptions", "translate_client_error", "chunk_stream"]

_RETRIES = {"max_attempts": 8, "mode": "adaptive"}


@dataclass(frozen=True)
class AwsOptions:
    """Where and as whom to call AWS: ``--profile``, ``--region``, ``--endpoint-url``."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def session(self):
        import boto3

        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str):
        from botocore.config import Config

        session = self.session()
        region = self.region or session.region_name or "us-east-1"
        return session.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=Config(retries=_RETRIES),
        )

    def shared_client(self, service: str):
        """One client per process, options and service, so items opened one after another
        (by either reading thread) reuse its connections. Keyed by process id: a client must not cross a fork."""
        key = (os.getpid(), self, service)
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(key)
            if client is None:
                client = _CLIENTS[key] = self.client(service)
        return client


_CLIENTS: dict[tuple, object] = {}
_CLIENTS_LOCK = threading.Lock()


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
           "InvalidClientTokenId", "InvalidAccessKeyId", "ExpiredToken", "ExpiredTokenException",
           "SignatureDoesNotMatch", "AllAccessDisabled", "403", "Forbidden"}
_MISSING = {"NoSuchBucket", "NoSuchKey", "ResourceNotFoundException", "404", "NotFound"}


def translate_client_error(exc: Exception, action: str, resource: str) -> AwsError:
    """Turn a botocore error into one sentence naming the resource and the IAM action."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
    if code in _DENIED:
        if code.startswith("Expired"):
            return AwsAccessDenied(f"{resource}: the AWS credentials have expired; refresh them (e.g. aws sso login) and retry.",
                                   action, resource)
        return AwsAccessDenied(f"{resource}: access denied; the caller needs the IAM permission {action}.", action, resource)
    if code in _MISSING:
        return AwsNotFound(f"{resource} does not exist; check the name and the region.", action, resource)
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return AwsAccessDenied(f"{resource}: no AWS credentials found; set AWS_PROFILE or pass --profile.", action, resource)
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return AwsError(f"{resource}: could not reach AWS ({exc}); check --endpoint-url, --region and the network.", action, resource)
    return AwsError(f"{resource}: AWS call {action} failed: {code or name}: {exc}", action, resource)


class _ChunkReader(io.RawIOBase):
    """Raw reads over an iterator of byte chunks; closing it closes the iterator."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._chunk:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk = memoryview(chunk)
        n = min(len(buffer), len(self._chunk))
        buffer[:n] = self._chunk[:n]
        self._chunk = self._chunk[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            getattr(self._chunks, "close", lambda: None)()
        super().close()


def chunk_stream(chunks: Iterable[bytes]) -> BinaryIO:
    """A buffered, forward-only binary file over chunks fetched lazily (an S3 body, pages of
    log events), so a large object is never held in memory whole."""
    return io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
