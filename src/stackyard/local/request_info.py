"""Request classification: the service, action, client and wire protocol of an AWS call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

from stackyard.local.wsgi import read_body

__all__ = ["Protocol", "RequestInfo", "classify", "client_of"]

Protocol = Literal["query", "ec2", "json", "rest-xml", "rest-json", "s3"]


@dataclass(frozen=True)
class RequestInfo:
    """What a request is: the service and action it calls, the client, the wire protocol."""

    service: str
    action: str
    client: str
    protocol: Protocol

    @property
    def key(self) -> str:
        """``service:action``."""
        return f"{self.service}:{self.action}"


# X-Amz-Target prefixes of JSON-protocol services, for unsigned requests.
_TARGET_SERVICES = {
    "amazonssm": "ssm",
    "amazonsqs": "sqs",
    "trentservice": "kms",
    "awsevents": "events",
    "secretsmanager": "secretsmanager",
    "logs_20140328": "logs",
    "dynamodb_20120810": "dynamodb",
    "awsieservicecommercestorefront": "acm",
    "certificatemanager": "acm",
    "amazonec2containerservicev20141113": "ecs",
    "awsstepfunctions": "states",
    "firehose_20150804": "firehose",
    "kinesis_20131202": "kinesis",
}
_REST_XML_SERVICES = {"route53", "cloudfront"}
_KNOWN_CLIENTS = ("stackyard", "stacker", "sceptre", "runway", "aws-cli", "terraform", "cdk")

# S3 sub-resources (query keys) and the operation they name, by method.
_S3_BUCKET_SUBRESOURCES: dict[str, str] = {
    "accelerate": "BucketAccelerateConfiguration",
    "acl": "BucketAcl",
    "analytics": "BucketAnalyticsConfiguration",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "lifecycle": "BucketLifecycleConfiguration",
    "logging": "BucketLogging",
    "metrics": "BucketMetricsConfiguration",
    "notification": "BucketNotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "policyStatus": "BucketPolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "requestPayment": "BucketRequestPayment",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "website": "BucketWebsite",
}
_S3_OBJECT_SUBRESOURCES: dict[str, str] = {
    "acl": "ObjectAcl",
    "attributes": "ObjectAttributes",
    "legal-hold": "ObjectLegalHold",
    "retention": "ObjectRetention",
    "tagging": "ObjectTagging",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}


def _signing_service(environ: Mapping[str, Any]) -> str | None:
    auth = str(environ.get("HTTP_AUTHORIZATION") or "")
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part[len("Credential=") :].split("/")
            if len(scope) == 5:
                return scope[3].lower()
    return None


def client_of(user_agent: str) -> str:
    """The client named by a User-Agent: an ``app/NAME`` app id, a known tool, or the first token.

    botocore appends ``app/NAME`` when ``AWS_SDK_UA_APP_ID`` (or ``user_agent_appid``) is set,
    which is how a tool built on boto3 (stacker, sceptre, runway) can be told apart.
    """
    tokens = user_agent.split()
    if not tokens:
        return "unknown"
    for token in tokens:
        if token.startswith("app/") and len(token) > 4:
            return token[4:]
    for token in tokens[1:]:
        name = token.split("/", 1)[0].lower()
        if name in _KNOWN_CLIENTS:
            return token
    return tokens[0]


def _s3_bucket_and_key(environ: Mapping[str, Any]) -> tuple[str, str]:
    path = unquote(str(environ.get("PATH_INFO") or "/"))
    host = str(environ.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower()
    labels = host.split(".")
    bucket_from_host = ""
    if "s3" in labels[1:]:
        bucket_from_host = ".".join(labels[: labels.index("s3", 1)])
    elif host.endswith(".localhost"):
        bucket_from_host = host[: -len(".localhost")]
    if bucket_from_host:
        return bucket_from_host, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _s3_action(environ: Mapping[str, Any]) -> str:
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    query = dict(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
    bucket, key = _s3_bucket_and_key(environ)
    verb = _VERBS.get(method, method.title())
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{verb}Service"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "GET":
            if "location" in query:
                return "GetBucketLocation"
            if "versions" in query:
                return "ListObjectVersions"
            if "uploads" in query:
                return "ListMultipartUploads"
        for name, operation in _S3_BUCKET_SUBRESOURCES.items():
            if name in query:
                return f"{verb}{operation}"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
        return {
            "PUT": "CreateBucket",
            "DELETE": "DeleteBucket",
            "HEAD": "HeadBucket",
        }.get(method, f"{verb}Bucket")
    if "uploadId" in query:
        if "partNumber" in query and method == "PUT":
            copy = "HTTP_X_AMZ_COPY_SOURCE" in environ
            return "UploadPartCopy" if copy else "UploadPart"
        return {
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
            "GET": "ListParts",
        }.get(method, f"{verb}MultipartUpload")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    for name, operation in _S3_OBJECT_SUBRESOURCES.items():
        if name in query:
            return f"{verb}{operation}"
    if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return "CopyObject"
    return f"{verb}Object"


def classify(environ: dict[str, Any]) -> RequestInfo:
    """Name the service, action, client and protocol of a request (reads and restores its body).

    Query protocol: the form (or query string) ``Action``; JSON protocol: ``X-Amz-Target``;
    S3: the method and the shape of the path and query; other REST services: the method and
    the first path segment, or the operation of a Smithy RPC path. The answer is kept in the
    environ, so the middlewares of one request classify it once.
    """
    cached = environ.get(_INFO_KEY)
    if isinstance(cached, RequestInfo):
        return cached
    info = _classify(environ)
    environ[_INFO_KEY] = info
    return info


_INFO_KEY = "stackyard.request_info"


def _classify(environ: dict[str, Any]) -> RequestInfo:
    client = client_of(str(environ.get("HTTP_USER_AGENT") or ""))
    service = _signing_service(environ)
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    path = str(environ.get("PATH_INFO") or "/")

    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if target:
        prefix, _, action = target.rpartition(".")
        if service is None:
            service = _TARGET_SERVICES.get(prefix.lower(), prefix.lower() or "unknown")
        return RequestInfo(service, action or "unknown", client, "json")

    params = dict(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
    content_type = str(environ.get("CONTENT_TYPE") or "")
    if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        form = read_body(environ).decode("utf-8", "replace")
        params.update(parse_qsl(form, keep_blank_values=True))
    if "Action" in params and (service != "s3"):
        if service is None:
            service = "cloudformation" if params.get("Version") == "2010-05-15" else "unknown"
        protocol: Protocol = "ec2" if service == "ec2" else "query"
        return RequestInfo(service, params["Action"], client, protocol)

    if service in (None, "s3"):
        return RequestInfo("s3", _s3_action(environ), client, "s3")
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) >= 4 and segments[0] == "service" and segments[2] == "operation":
        return RequestInfo(service, segments[3], client, "rest-json")
    first = segments[0] if segments else ""
    protocol = "rest-xml" if service in _REST_XML_SERVICES else "rest-json"
    return RequestInfo(service, f"{method} /{first}", client, protocol)
