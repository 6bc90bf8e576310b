"""Name each request the way AWS names the operation (``PutBucketTagging``, ``TagQueue``...).

The request log, and through it the e2e tests ("no rejected call") and the benchmarks
("AWS calls per resync"), rely on these names, so S3's REST operations get a full table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .s3_addressing import s3_target
from .wire_request import AwsRequest


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    # The bucket / queue / table / stack the call is about, when the request names one.
    resource: str | None


def _verbs(stem: str, *methods: str) -> dict[str, str]:
    prefix = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}
    return {method: prefix[method] + stem for method in methods}


_GPD = ("GET", "PUT", "DELETE")
_GP = ("GET", "PUT")

# Bucket subresource (the bare query key, e.g. ``?tagging``) -> HTTP method -> operation.
S3_BUCKET_SUBRESOURCES: dict[str, dict[str, str]] = {
    "tagging": _verbs("BucketTagging", *_GPD),
    "policy": _verbs("BucketPolicy", *_GPD),
    "policyStatus": _verbs("BucketPolicyStatus", "GET"),
    "versioning": _verbs("BucketVersioning", *_GP),
    "publicAccessBlock": _verbs("PublicAccessBlock", *_GPD),
    "encryption": _verbs("BucketEncryption", *_GPD),
    # AWS's names are asymmetric here: Get/PutBucketLifecycleConfiguration, DeleteBucketLifecycle.
    "lifecycle": {**_verbs("BucketLifecycleConfiguration", *_GP), "DELETE": "DeleteBucketLifecycle"},
    "cors": _verbs("BucketCors", *_GPD),
    "website": _verbs("BucketWebsite", *_GPD),
    "logging": _verbs("BucketLogging", *_GP),
    "ownershipControls": _verbs("BucketOwnershipControls", *_GPD),
    "requestPayment": _verbs("BucketRequestPayment", *_GP),
    "accelerate": _verbs("BucketAccelerateConfiguration", *_GP),
    "notification": _verbs("BucketNotificationConfiguration", *_GP),
    "replication": _verbs("BucketReplication", *_GPD),
    "object-lock": _verbs("ObjectLockConfiguration", *_GP),
    "location": _verbs("BucketLocation", "GET"),
    "acl": _verbs("BucketAcl", *_GP),
    "abac": _verbs("BucketAbac", *_GP),
    # S3 Express One Zone: the session the SDKs open before calls on a directory bucket.
    "session": {"GET": "CreateSession"},
    "uploads": {"GET": "ListMultipartUploads"},
    "versions": {"GET": "ListObjectVersions"},
    "delete": {"POST": "DeleteObjects"},
}

# Subresources addressed by ``?<name>&id=<config id>``; without an id, GET lists them.
S3_BUCKET_ID_CONFIGURATIONS = {
    "analytics": "BucketAnalyticsConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "metrics": "BucketMetricsConfiguration",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
}

S3_OBJECT_SUBRESOURCES: dict[str, dict[str, str]] = {
    "tagging": _verbs("ObjectTagging", *_GPD),
    "acl": _verbs("ObjectAcl", *_GP),
    "retention": _verbs("ObjectRetention", *_GP),
    "legal-hold": _verbs("ObjectLegalHold", *_GP),
    "attributes": {"GET": "GetObjectAttributes"},
    "restore": {"POST": "RestoreObject"},
    "uploads": {"POST": "CreateMultipartUpload"},
    "uploadId": {
        "PUT": "UploadPart",
        "POST": "CompleteMultipartUpload",
        "DELETE": "AbortMultipartUpload",
        "GET": "ListParts",
    },
}

S3_BUCKET_PLAIN = {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}
S3_OBJECT_PLAIN = {
    "GET": "GetObject",
    "PUT": "PutObject",
    "HEAD": "HeadObject",
    "DELETE": "DeleteObject",
}

# JSON-protocol target prefixes, for the rare unsigned call.
_TARGET_PREFIX_SERVICES = {"AmazonSQS": "sqs", "DynamoDB_20120810": "dynamodb"}

# Request parameters that name the resource a call is about, most specific first.
_RESOURCE_PARAMETERS = ("QueueUrl", "QueueName", "ResourceArn", "TableName", "StackName")


def classify(request: AwsRequest) -> Operation:
    service = _service(request)
    if service == "s3":
        return _classify_s3(request)
    return Operation(service, _rpc_operation_name(request), _rpc_resource(request))


def _service(request: AwsRequest) -> str:
    if request.signing_service == "s3express":
        # S3 Express One Zone (directory buckets) signs S3's own REST calls under this name.
        return "s3"
    if request.signing_service:
        return request.signing_service
    prefix = request.target.split(".")[0]
    if prefix in _TARGET_PREFIX_SERVICES:
        return _TARGET_PREFIX_SERVICES[prefix]
    if request.form_param("Action"):
        return "unknown"
    return "s3"  # moto's own default for unsigned calls


def _rpc_operation_name(request: AwsRequest) -> str:
    if request.target:
        return request.target.rsplit(".", 1)[-1]
    action = request.form_param("Action")
    if action:
        return action
    return f"{request.method} {request.path}"


def _rpc_resource(request: AwsRequest) -> str | None:
    body = request.json_body()
    for name in _RESOURCE_PARAMETERS:
        value = body.get(name) or request.form_param(name)
        if isinstance(value, str) and value:
            return value
    return None


def s3_operation_name(request: AwsRequest, bucket: str | None, key: str | None) -> str:
    method, query = request.method, request.query
    # The Rust SDK (and others) state the operation outright for some calls: ?x-id=GetObject.
    if query.get("x-id", [""])[0]:
        return query["x-id"][0]
    if bucket is None:
        return "ListBuckets" if method == "GET" else f"S3:{method}:"
    if key is None:
        return _s3_bucket_operation(method, query)
    return _s3_object_operation(request, method, query)


def _s3_bucket_operation(method: str, query: dict[str, list[str]]) -> str:
    for subresource, by_method in S3_BUCKET_SUBRESOURCES.items():
        if subresource in query:
            return by_method.get(method, f"S3:{method}:{subresource}")
    for subresource, stem in S3_BUCKET_ID_CONFIGURATIONS.items():
        if subresource in query:
            if method == "GET" and "id" not in query:
                return f"List{stem}s"
            return _verbs(stem, *_GPD).get(method, f"S3:{method}:{subresource}")
    unknown = _unknown_subresource(query)
    if unknown is not None:
        return f"S3:{method}:{unknown}"
    if method == "GET":
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return S3_BUCKET_PLAIN.get(method, f"S3:{method}:")


def _s3_object_operation(request: AwsRequest, method: str, query: dict[str, list[str]]) -> str:
    copying = "x-amz-copy-source" in request.headers
    for subresource, by_method in S3_OBJECT_SUBRESOURCES.items():
        if subresource in query:
            name = by_method.get(method, f"S3:{method}:{subresource}")
            return "UploadPartCopy" if name == "UploadPart" and copying else name
    unknown = _unknown_subresource(query)
    if unknown is not None:
        return f"S3:{method}:{unknown}"
    if method == "PUT" and copying:
        return "CopyObject"
    return S3_OBJECT_PLAIN.get(method, f"S3:{method}:")


# Ordinary S3 query parameters; they may be sent empty (``?prefix=``) yet are no subresource.
_S3_PARAMETERS = {
    "prefix", "delimiter", "marker", "max-keys", "list-type", "continuation-token",
    "encoding-type", "fetch-owner", "start-after", "key-marker", "version-id-marker",
    "upload-id-marker", "max-uploads", "max-parts", "part-number-marker", "versionId",
    "partNumber", "id", "x-id", "bucket-region", "max-buckets", "continuation-token",
}


def _unknown_subresource(query: dict[str, list[str]]) -> str | None:
    """A bare ``?name`` this table does not know (so the log shows it rather than guessing)."""
    for name, values in query.items():
        if values == [""] and name not in _S3_PARAMETERS and not name.startswith("response-"):
            return name
    return None


def _classify_s3(request: AwsRequest) -> Operation:
    target = s3_target(request)
    name = s3_operation_name(request, target.bucket, target.key)
    resource = target.bucket
    if target.bucket and target.key:
        resource = f"{target.bucket}/{target.key}"
    return Operation("s3", name, resource)
