"""S3 bucket reads come back under AWS's XML root element, with AWS's content.

The AWS SDKs for Rust (Java, Go...) refuse any other root; boto3 does not look, so these
tests read the raw HTTP answer (root tag, children, text) and use boto3 only to Put and to
check that the parsed values round-trip.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from fidelity.rules.s3_read_shapes import rename_root
from support import aws_error, make_bucket, unique

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def read(emulator, bucket: str, query: str) -> tuple[int, bytes]:
    status, _, body = emulator.raw("GET", f"/{bucket}?{query}")
    return status, body


def shape(body: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(root tag without namespace, [(child tag, child text)]); asserts the S3 namespace."""
    root = ElementTree.fromstring(body)
    assert root.tag.startswith(NS), root.tag
    children = [(child.tag.removeprefix(NS), (child.text or "").strip()) for child in root]
    return root.tag.removeprefix(NS), children


@pytest.fixture(scope="module")
def fresh_bucket(s3):
    return make_bucket(s3)


@pytest.mark.parametrize(
    "query, root, children",
    [
        ("versioning", "VersioningConfiguration", []),
        ("accelerate", "AccelerateConfiguration", []),
        ("notification", "NotificationConfiguration", []),
        ("inventory", "ListInventoryConfigurationsResult", [("IsTruncated", "false")]),
        ("analytics", "ListBucketAnalyticsConfigurationResult", [("IsTruncated", "false")]),
        ("metrics", "ListMetricsConfigurationsResult", [("IsTruncated", "false")]),
        ("intelligent-tiering", "ListBucketIntelligentTieringConfigurationsOutput",
         [("IsTruncated", "false")]),
    ],
)
def test_unconfigured_bucket_reads_have_aws_roots(emulator, fresh_bucket, query, root, children):
    status, body = read(emulator, fresh_bucket, query)
    assert status == 200, body
    assert shape(body) == (root, children)


@pytest.mark.parametrize(
    "query, status_values, put",
    [
        ("versioning", ("Enabled", "Suspended"),
         lambda s3, b, v: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": v})),
        ("accelerate", ("Enabled", "Suspended"),
         lambda s3, b, v: s3.put_bucket_accelerate_configuration(
             Bucket=b, AccelerateConfiguration={"Status": v})),
    ],
)
def test_status_round_trips_under_the_aws_root(s3, emulator, query, status_values, put):
    root = {"versioning": "VersioningConfiguration", "accelerate": "AccelerateConfiguration"}
    get = {"versioning": s3.get_bucket_versioning,
           "accelerate": s3.get_bucket_accelerate_configuration}
    bucket = make_bucket(s3)
    for value in status_values:
        put(s3, bucket, value)
        status, body = read(emulator, bucket, query)
        assert status == 200
        assert shape(body) == (root[query], [("Status", value)])
        assert get[query](Bucket=bucket)["Status"] == value


def test_notification_configuration_keeps_its_root_and_content(s3, sqs, emulator):
    bucket = make_bucket(s3)
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "q1", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    status, body = read(emulator, bucket, "notification")
    assert status == 200
    root, children = shape(body)
    assert (root, [tag for tag, _ in children]) == ("NotificationConfiguration", ["QueueConfiguration"])
    queue_config = ElementTree.fromstring(body).find(f"{NS}QueueConfiguration")
    assert queue_config.findtext(f"{NS}Queue") == arn
    assert queue_config.findtext(f"{NS}Event") == "s3:ObjectCreated:*"
    parsed = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert [(c["Id"], c["QueueArn"]) for c in parsed] == [("q1", arn)]


def test_inventory_list_has_the_aws_root_and_its_configurations(s3, emulator):
    bucket, destination = make_bucket(s3), make_bucket(s3)
    s3.put_bucket_inventory_configuration(
        Bucket=bucket,
        Id="inv1",
        InventoryConfiguration={
            "Id": "inv1",
            "IsEnabled": True,
            "IncludedObjectVersions": "All",
            "Schedule": {"Frequency": "Daily"},
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{destination}",
                                                    "Format": "CSV"}},
        },
    )
    status, body = read(emulator, bucket, "inventory")
    assert status == 200
    root, children = shape(body)
    assert root == "ListInventoryConfigurationsResult"
    assert sorted(tag for tag, _ in children) == ["InventoryConfiguration", "IsTruncated"]
    assert ("IsTruncated", "false") in children
    config = ElementTree.fromstring(body).find(f"{NS}InventoryConfiguration")
    assert config.findtext(f"{NS}Id") == "inv1"
    listed = s3.list_bucket_inventory_configurations(Bucket=bucket)
    assert [c["Id"] for c in listed["InventoryConfigurationList"]] == ["inv1"]


@pytest.mark.parametrize("kind", ["analytics", "metrics", "intelligent_tiering"])
def test_unimplemented_configurations_are_none(s3, fresh_bucket, kind):
    listed = getattr(s3, f"list_bucket_{kind}_configurations")(Bucket=fresh_bucket)
    assert listed["IsTruncated"] is False
    assert not any(key.endswith("ConfigurationList") for key in listed)
    with pytest.raises(ClientError) as missing_config:
        getattr(s3, f"get_bucket_{kind}_configuration")(Bucket=fresh_bucket, Id="x")
    assert aws_error(missing_config) == (
        404, "NoSuchConfiguration", "The specified configuration does not exist.")
    with pytest.raises(ClientError) as missing_bucket:
        getattr(s3, f"list_bucket_{kind}_configurations")(Bucket=unique("no-such-bucket"))
    assert aws_error(missing_bucket)[:2] == (404, "NoSuchBucket")


def test_bucket_abac_is_empty_until_put_then_round_trips(s3, emulator):
    bucket = make_bucket(s3)
    emulator.reset_requests()
    status, body = read(emulator, bucket, "abac")
    assert (status, body) == (200, b"")
    assert s3.get_bucket_abac(Bucket=bucket).get("AbacStatus", {}) == {}  # nothing configured
    for value in ("Enabled", "Disabled"):
        s3.put_bucket_abac(Bucket=bucket, AbacStatus={"Status": value})
        status, body = read(emulator, bucket, "abac")
        assert status == 200
        assert shape(body) == ("AbacStatus", [("Status", value)])
        assert s3.get_bucket_abac(Bucket=bucket)["AbacStatus"] == {"Status": value}
    operations = [entry["operation"] for entry in emulator.requests()]
    assert operations[:3] == ["GetBucketAbac", "GetBucketAbac", "PutBucketAbac"]


def test_bucket_abac_refuses_an_unknown_status_and_bucket(s3):
    bucket = make_bucket(s3)
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_abac(Bucket=bucket, AbacStatus={"Status": "Maybe"})
    assert aws_error(refused)[:2] == (400, "MalformedXML")
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_abac(Bucket=unique("no-such-bucket"))
    assert aws_error(missing)[:2] == (404, "NoSuchBucket")


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'<?xml version="1.0"?>\n<AResponse xmlns="n"/>', b'<?xml version="1.0"?>\n<B xmlns="n"/>'),
        (b'<AResponse xmlns="n"><S>x</S></AResponse>\n', b'<B xmlns="n"><S>x</S></B>\n'),
        (b'<B><S>x</S></B>', b'<B><S>x</S></B>'),
        (b"", b""),
        (b"<A><S>x</S></Other>", b"<A><S>x</S></Other>"),
    ],
)
def test_rename_root(body, expected):
    assert rename_root(body, "B") == expected
