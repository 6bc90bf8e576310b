"""CloudFormation stamps its ``aws:cloudformation:*`` tags on the buckets its stacks create."""

from __future__ import annotations

from typing import Any

from .. import moto_state
from .base import Call, Rule

BUCKET_TYPE = "AWS::S3::Bucket"


def stack_system_tags(stack: Any, logical_id: str) -> dict[str, str]:
    return {
        "aws:cloudformation:stack-name": stack.name,
        "aws:cloudformation:stack-id": stack.stack_id,
        "aws:cloudformation:logical-id": logical_id,
    }


def stack_bucket_names(stack: Any) -> dict[str, str]:
    """Logical id -> bucket name, for the stack's buckets that moto has created."""
    resources = (stack.template_dict or {}).get("Resources") or {}
    created = stack.resource_map._parsed_resources  # moto's map of created resources
    names = {}
    for logical_id, definition in resources.items():
        if isinstance(definition, dict) and definition.get("Type") == BUCKET_TYPE:
            bucket = created.get(logical_id)
            if getattr(bucket, "name", None):
                names[logical_id] = bucket.name
    return names


class CloudFormationTagsItsBuckets(Rule):
    """Buckets a stack creates carry ``aws:cloudformation:stack-name``, ``...:stack-id`` and
    ``...:logical-id``, as on AWS (shared/aws-tag-rules.md: "S3 buckets do"; these are the
    tags behind aws-controllers-k8s/community#2248).

    moto 5.2.5 creates the bucket with the template's tags only. After every successful
    CreateStack / UpdateStack / ExecuteChangeSet, every live stack's buckets in that region are
    (re)stamped; stamping is idempotent, which spares parsing which stack the call meant.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("cloudformation", "CreateStack", "UpdateStack", "ExecuteChangeSet")

    def after_moto(self, call: Call) -> None:
        for stack in moto_state.live_stacks(call.account_id, call.request.region):
            for logical_id, bucket in stack_bucket_names(stack).items():
                moto_state.add_bucket_tags(bucket, stack_system_tags(stack, logical_id))
