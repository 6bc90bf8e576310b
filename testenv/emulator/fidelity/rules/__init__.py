"""Every fidelity rule, in the order they run (validation before state lookups, as AWS)."""

from .base import Call, Rule
from .cloudformation_system_tags import CloudFormationTagsItsBuckets
from .dynamodb_index_changes import DynamoDbIndexChangesTakeARead
from .dynamodb_table_settings import DynamoDbContributorInsightsIsServed, DynamoDbTableSettingsAreKept
from .dynamodb_tagging import DynamoDbTaggingNeedsAnExistingTable, DynamoDbTagResourceReplacesValues
from .input_validation import (
    DynamoDbCreateTableRequiredMembers,
    S3BucketPolicyMustBeJson,
    SqsAttributesMustParse,
)
from .reserved_tag_prefix import (
    DynamoDbRefusesReservedTagKeys,
    SnsRefusesReservedTagKeys,
    SqsRefusesReservedTagKeys,
)
from .s3_read_shapes import (
    S3BucketAbacIsServed,
    S3GetBucketAccelerateShape,
    S3GetBucketNotificationShape,
    S3GetBucketVersioningShape,
    S3ListBucketInventoryConfigurationsShape,
    S3UnimplementedConfigurationsAreNone,
)
from .s3_acl import S3BucketAclListsEveryGrant
from .s3_bucket_state import S3VersioningStaysEnabledUnderReplication
from .s3_default_encryption import S3BucketsHaveDefaultEncryption
from .s3_request_payment import S3RequestPaymentIsServed
from .s3_system_tags import DeleteBucketTaggingKeepsSystemTags, PutBucketTaggingKeepsSystemTags
from .sns_topic_attributes import SnsReportsEveryTopicAttribute
from .sqs_redrive_allow_policy import SqsKeepsRedriveAllowPolicy

ALL_RULES: list[Rule] = [
    PutBucketTaggingKeepsSystemTags(),
    DeleteBucketTaggingKeepsSystemTags(),
    S3BucketPolicyMustBeJson(),
    S3RequestPaymentIsServed(),
    S3BucketAbacIsServed(),
    S3UnimplementedConfigurationsAreNone(),
    S3GetBucketVersioningShape(),
    S3GetBucketAccelerateShape(),
    S3GetBucketNotificationShape(),
    S3ListBucketInventoryConfigurationsShape(),
    S3BucketsHaveDefaultEncryption(),
    S3VersioningStaysEnabledUnderReplication(),
    S3BucketAclListsEveryGrant(),
    SqsRefusesReservedTagKeys(),
    SqsAttributesMustParse(),
    SqsKeepsRedriveAllowPolicy(),
    SnsReportsEveryTopicAttribute(),
    DynamoDbCreateTableRequiredMembers(),
    DynamoDbRefusesReservedTagKeys(),
    SnsRefusesReservedTagKeys(),
    DynamoDbTaggingNeedsAnExistingTable(),
    DynamoDbTagResourceReplacesValues(),
    DynamoDbTableSettingsAreKept(),
    DynamoDbContributorInsightsIsServed(),
    DynamoDbIndexChangesTakeARead(),
    CloudFormationTagsItsBuckets(),
]

__all__ = ["ALL_RULES", "Call", "Rule"]
