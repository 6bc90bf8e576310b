"""GetBucketAcl answers every grant moto stores."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from .. import moto_state
from ..wire_response import WireResponse
from .base import Call, Rule

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _grant(grantee, permission: str) -> str:
    if grantee.uri:
        kind, who = "Group", f"<URI>{escape(grantee.uri)}</URI>"
    else:
        kind = "CanonicalUser"
        who = f"<ID>{escape(grantee.id or '')}</ID>"
        if grantee.display_name:
            who += f"<DisplayName>{escape(grantee.display_name)}</DisplayName>"
    return (
        f'<Grant><Grantee xmlns:xsi="{XSI}" xsi:type="{kind}">{who}</Grantee>'
        f"<Permission>{escape(permission)}</Permission></Grant>"
    )


class S3BucketAclListsEveryGrant(Rule):
    """GetBucketAcl lists one ``<Grant>`` per grantee and permission, as AWS does: the canned
    ACL ``log-delivery-write`` reads back as the owner's FULL_CONTROL plus the LogDelivery
    group's WRITE and READ_ACP (S3 user guide, "Canned ACL"), and a grant header naming two
    grantees (``x-amz-grant-read: id=…, uri=…``) as two grants.

    moto 5.2.5 stores those as one grant with several grantees or permissions and answers only
    the first of each: ``log-delivery-write`` reads back without WRITE.
    """

    def applies_to(self, call: Call) -> bool:
        return call.is_("s3", "GetBucketAcl")

    def reshape(self, call: Call, response: WireResponse) -> WireResponse:
        found = moto_state.find_bucket(call.operation.resource or "")
        if found is None or found[1].acl is None:
            return response
        try:
            root = ElementTree.fromstring(response.body)
        except ElementTree.ParseError:
            return response
        owner = root.find(f"{{{S3_NAMESPACE}}}Owner")
        if owner is None:
            owner = root.find("Owner")
        owner_xml = ""
        if owner is not None:
            ElementTree.register_namespace("", S3_NAMESPACE)
            owner_xml = ElementTree.tostring(owner, encoding="unicode")
        grants = "".join(
            _grant(grantee, permission)
            for grant in found[1].acl.grants
            for grantee in grant.grantees
            for permission in grant.permissions
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<AccessControlPolicy xmlns="{S3_NAMESPACE}">{owner_xml}'
            f"<AccessControlList>{grants}</AccessControlList></AccessControlPolicy>"
        ).encode()
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        return WireResponse(response.status, body, headers, response.error_code)
