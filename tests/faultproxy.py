"""A fault-injecting HTTP proxy on loopback in front of the moto server.

Point ``AwsOptions(endpoint_url=proxy.url)`` at it: requests are forwarded to moto unchanged
unless a :class:`Fault` matches, which then answers in one of the ways real AWS endpoints and
networks misbehave. Every request is logged (operation, SDK attempt header, fault applied) so
tests can assert what the client did.

Operations are named as in the API: S3 by method and query (``GetObject``, ``ListObjectsV2``,
``HeadObject``), JSON services by ``X-Amz-Target`` (``FilterLogEvents``), EC2 by ``Action``.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["CWL_THROTTLING", "S3_SLOWDOWN", "Fault", "FaultProxy", "Request"]

S3_SLOWDOWN = (503, "application/xml",
               (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
               b"<Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>"))
CWL_THROTTLING = (400, "application/x-amz-json-1.1",
                  b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')


def s3_error(status: int, code: str, message: str) -> tuple[int, str, bytes]:
    return (status, "application/xml", f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>FAULT</RequestId></Error>".encode())


def json_error(code: str, message: str, status: int = 400) -> tuple[int, str, bytes]:
    return (status, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}).encode())


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    operation: str
    fault: str | None = None

    @property
    def sdk(self) -> dict[str, str]:
        """botocore's ``amz-sdk-request: [ttl=...; ]attempt=N; max=M`` header as a dict."""
        pairs = (p.strip().partition("=") for p in self.headers.get("amz-sdk-request", "").split(";"))
        return {k: v for k, _, v in pairs if k}

    @property
    def attempt(self) -> int:
        return int(self.sdk.get("attempt", 1))

    @property
    def max_attempts(self) -> int | None:
        return int(self.sdk["max"]) if "max" in self.sdk else None

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


@dataclass
class Fault:
    """Answer requests of ``operation`` (and ``when(request)``, if given) ``times`` times with:

    - ``error``: a canned (status, content type, body) instead of forwarding;
    - ``reset``: forward, send the headers and ``keep`` of the body, then reset the connection;
    - ``reset-before``: reset the connection before any response;
    - ``truncate``: forward, send the headers and ``keep`` of the body, then close cleanly;
    - ``delete-first``: delete the requested S3 object upstream, then forward (listed, then gone);
    - ``repeat-token``: pagination that hands back the token it was given: the first page gets
      the token ``fault-repeated-token``; a request with it gets that page again with the same
      token, its events (CloudWatch Logs) kept when ``replay`` else emptied, as GetLogEvents ends;
    - ``cycle-token``: CloudWatch Logs pagination whose tokens go round (A, B, A, B, ...) with
      empty pages, for ``times`` requests after the first, then end.

    ``then``, if given, is called once the request has been forwarded and before the answer is
    sent (to change the object upstream, so that the client's next request finds a new version).
    """

    operation: str
    kind: str
    times: int = 1
    error: tuple[int, str, bytes] | None = None
    keep: float = 0.5
    when: object = None
    replay: bool = False
    then: object = None
    fired: int = 0


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._up = urllib.parse.urlsplit(self.upstream)
        self._pages: dict[str, bytes] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, operation: str, kind: str, **kwargs) -> Fault:
        fault = Fault(operation, kind, **kwargs)
        self.faults.append(fault)
        return fault

    def requests(self, operation: str) -> list[Request]:
        return [r for r in self.log if r.operation == operation]

    # -- internals ---------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in h.headers.items()}
        request = Request(h.command, parts.path, query, headers, body, _operation(h.command, parts.path, query, headers, body))
        if _token(request) == REPEATED:
            return self._repeat_page(h, request)
        if (_token(request) or "").startswith(CYCLE):
            return self._cycle_page(h, request)
        fault = self._match(request)
        request.fault = fault.kind if fault else None
        with self._lock:
            self.log.append(request)
        if fault and fault.kind == "error":
            return _send(h, *fault.error)
        if fault and fault.kind == "reset-before":
            return _reset(h)
        if fault and fault.kind == "delete-first":
            self._delete(parts.path)
        status, reason, out_headers, data = self._forward(h.command, h.path, headers, body)
        if fault and fault.then:
            fault.then()
        if fault and fault.kind in ("repeat-token", "cycle-token"):
            data = _with_token(request.operation, data, REPEATED if fault.kind == "repeat-token" else CYCLE + "A")
            self._pages[request.operation] = (fault, out_headers.get("content-type", ""), data)
        if fault and fault.kind in ("reset", "truncate"):
            return _partial(h, status, out_headers, data, int(len(data) * fault.keep), fault.kind == "reset")
        _send(h, status, out_headers.get("content-type", ""), data, out_headers, reason)

    def _match(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.operation == request.operation and fault.fired < fault.times and \
                        (fault.when is None or fault.when(request)):
                    fault.fired += 1
                    return fault
        return None

    def _delete(self, path: str) -> None:
        """Delete the S3 object at ``/bucket/key`` upstream (a signed call: moto refuses unsigned ones)."""
        import boto3

        bucket, _, key = path.lstrip("/").partition("/")
        s3 = boto3.client("s3", endpoint_url=self.upstream, region_name="us-east-1")
        s3.delete_object(Bucket=bucket, Key=urllib.parse.unquote(key))

    def _forward(self, method: str, path: str, headers: dict, body: bytes):
        conn = http.client.HTTPConnection(self._up.hostname, self._up.port, timeout=30)
        try:
            # The Host the client signed (SigV4 covers it) goes on, so that moto can check signatures.
            sent = {k: v for k, v in headers.items() if k not in ("connection", "expect")}
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.reason, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def _repeat_page(self, h, request: Request) -> None:
        fault, content_type, data = self._pages[request.operation]
        request.fault = "repeat-token"
        with self._lock:
            self.log.append(request)
        if request.operation != "ListObjectsV2" and not fault.replay:
            page = json.loads(data)
            page[_EVENTS.get(request.operation, "events")] = []
            data = json.dumps(page).encode()
        _send(h, 200, content_type, data)


    def _cycle_page(self, h, request: Request) -> None:
        fault, content_type, data = self._pages[request.operation]
        request.fault = "cycle-token"
        with self._lock:
            self.log.append(request)
            fault.fired += 1
            done = fault.fired > fault.times
        page = json.loads(data)
        page[_EVENTS.get(request.operation, "events")] = []
        token = _token(request)
        page.pop("nextToken", None)
        if not done:
            page["nextToken"] = CYCLE + ("B" if token.endswith("A") else "A")
        _send(h, 200, content_type, json.dumps(page).encode())


REPEATED = "fault-repeated-token"
CYCLE = "fault-cycle-token-"
_EVENTS = {"FilterLogEvents": "events", "DescribeLogStreams": "logStreams", "DescribeLogGroups": "logGroups"}


def _token(request: Request) -> str | None:
    if request.operation == "ListObjectsV2":
        return (request.query.get("continuation-token") or [None])[0]
    if request.headers.get("x-amz-target"):
        return request.json().get("nextToken")
    return None


def _with_token(operation: str, data: bytes, token: str) -> bytes:
    if operation == "ListObjectsV2":
        data = data.replace(b"<IsTruncated>false</IsTruncated>", b"<IsTruncated>true</IsTruncated>")
        return data.replace(b"</ListBucketResult>", f"<NextContinuationToken>{token}</NextContinuationToken>"
                                                   "</ListBucketResult>".encode())
    page = json.loads(data)
    page["nextToken"] = token
    return json.dumps(page).encode()


def _operation(method: str, path: str, query: dict, headers: dict, body: bytes) -> str:
    target = headers.get("x-amz-target")
    if target:
        return target.split(".")[-1]
    if method == "POST" and body.startswith(b"Action="):
        return urllib.parse.parse_qs(body.decode())["Action"][0]
    key = path.lstrip("/").partition("/")[2]
    if method == "GET" and "list-type" in query:
        return "ListObjectsV2"
    if method == "GET" and not key:
        return "ListObjects"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(method, method)


def _send(h, status: int, content_type: str, data: bytes, headers: dict | None = None, reason: str | None = None):
    h.send_response(status, reason)
    for k, v in (headers or {}).items():
        if k not in ("content-length", "connection", "transfer-encoding", "date", "server", "content-type"):
            h.send_header(k, v)
    if content_type:
        h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(data)
    h.wfile.flush()


def _partial(h, status: int, headers: dict, data: bytes, keep: int, reset: bool) -> None:
    """The full Content-Length announced, ``keep`` bytes sent, then the connection ends."""
    h.send_response(status)
    for k, v in headers.items():
        if k not in ("content-length", "connection", "transfer-encoding", "date", "server"):
            h.send_header(k, v)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data[:keep])
    h.wfile.flush()
    if reset:
        _reset(h)
    else:
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)


def _reset(h) -> None:
    """Close with RST (SO_LINGER 0), as a dropped NAT mapping or a killed peer does."""
    h.close_connection = True
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
