"""boto3 sessions and clients with the standard credential chain, and AWS error mapping."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import AwsAccessDenied, AwsError, AwsNotFound

__all__ = ["AwsOptions", "translate_client_error"]

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


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
           "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch"}
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
