//! A bucket ACL as the spec spells it. PutBucketAcl takes a canned ACL (`acl`) or grant headers
//! (`grantRead: "id=…,uri=…"`), but GetBucketAcl answers only the owner and a list of grants, so
//! reading back means working out which canned ACLs those grants could have come from and
//! writing each permission's grantees as a header string. Learned from ACK's s3-controller
//! (which compares the same way), written anew.

use std::collections::BTreeSet;

/// Grant permissions, as AWS names them, with the spec's header field for each.
pub const PERMISSIONS: [&str; 5] = ["FULL_CONTROL", "READ", "READ_ACP", "WRITE", "WRITE_ACP"];

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
/// The canonical user AWS's `aws-exec-read` ACL gives READ (EC2's bundling service).
const EXEC_READ_USER: &str = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

/// Who a grant is for, as a grant header names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grantee {
    Id(String),
    Uri(String),
    Email(String),
}

impl Grantee {
    fn header(&self) -> String {
        match self {
            Self::Id(id) => format!("id={id}"),
            Self::Uri(uri) => format!("uri={uri}"),
            Self::Email(email) => format!("emailAddress={email}"),
        }
    }
}

/// One grant of GetBucketAcl's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: String,
}

/// The canned ACLs that give exactly `grants` on a bucket owned by `owner`, most usual first;
/// empty when none does.
pub fn canned_acls(owner: &str, grants: &[Grant]) -> Vec<&'static str> {
    let has = |grantee: &Grantee, permission: &str| {
        grants
            .iter()
            .any(|g| g.grantee == *grantee && g.permission == permission)
    };
    // Every canned ACL gives the owner full control.
    if !has(&Grantee::Id(owner.to_string()), "FULL_CONTROL") {
        return Vec::new();
    }
    let uri = |u: &str| Grantee::Uri(u.to_string());
    match grants.len() {
        // On a bucket these three give the same grants.
        1 => vec!["private", "bucket-owner-read", "bucket-owner-full-control"],
        2 if has(&Grantee::Id(EXEC_READ_USER.into()), "READ") => vec!["aws-exec-read"],
        2 if has(&uri(ALL_USERS), "READ") => vec!["public-read"],
        2 if has(&uri(AUTHENTICATED_USERS), "READ") => vec!["authenticated-read"],
        3 if has(&uri(LOG_DELIVERY), "WRITE") && has(&uri(LOG_DELIVERY), "READ_ACP") => {
            vec!["log-delivery-write"]
        }
        3 if has(&uri(ALL_USERS), "READ") && has(&uri(ALL_USERS), "WRITE") => {
            vec!["public-read-write"]
        }
        _ => Vec::new(),
    }
}

/// The grantees `grants` give `permission`, as a grant header (`id=…,uri=…`); `None` when none.
pub fn header(grants: &[Grant], permission: &str) -> Option<String> {
    let grantees: Vec<String> = grants
        .iter()
        .filter(|g| g.permission == permission)
        .map(|g| g.grantee.header())
        .collect();
    (!grantees.is_empty()).then(|| grantees.join(","))
}

/// The grantees a grant header names, whatever its spacing, quoting and order.
fn parse(header: &str) -> BTreeSet<Grantee> {
    header
        .split(',')
        .filter_map(|part| {
            let (kind, value) = part.trim().split_once('=')?;
            let value = value.trim().trim_matches('"').to_string();
            match kind.trim() {
                "id" => Some(Grantee::Id(value)),
                "uri" => Some(Grantee::Uri(value)),
                "emailAddress" => Some(Grantee::Email(value)),
                _ => None,
            }
        })
        .collect()
}

/// Whether two grant headers name the same grantees.
pub fn same_grantees(a: &str, b: &str) -> bool {
    parse(a) == parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "owner-id";

    fn grant(grantee: Grantee, permission: &str) -> Grant {
        Grant {
            grantee,
            permission: permission.into(),
        }
    }

    fn owner_full_control() -> Grant {
        grant(Grantee::Id(OWNER.into()), "FULL_CONTROL")
    }

    #[test]
    fn the_owner_alone_is_private_and_its_equivalents() {
        assert_eq!(
            canned_acls(OWNER, &[owner_full_control()]),
            ["private", "bucket-owner-read", "bucket-owner-full-control"]
        );
        // Without the owner's full control no canned ACL fits.
        let other = grant(Grantee::Id("someone".into()), "FULL_CONTROL");
        assert!(canned_acls(OWNER, &[other]).is_empty());
    }

    #[test]
    fn group_grants_name_their_canned_acl() {
        let log = |p| grant(Grantee::Uri(LOG_DELIVERY.into()), p);
        let all = |p| grant(Grantee::Uri(ALL_USERS.into()), p);
        let authenticated = grant(Grantee::Uri(AUTHENTICATED_USERS.into()), "READ");
        let exec = grant(Grantee::Id(EXEC_READ_USER.into()), "READ");
        let with_owner = |mut g: Vec<Grant>| {
            g.insert(0, owner_full_control());
            g
        };
        let cases = [
            (vec![log("WRITE"), log("READ_ACP")], "log-delivery-write"),
            (vec![all("READ")], "public-read"),
            (vec![all("READ"), all("WRITE")], "public-read-write"),
            (vec![authenticated], "authenticated-read"),
            (vec![exec], "aws-exec-read"),
        ];
        for (grants, canned) in cases {
            assert_eq!(canned_acls(OWNER, &with_owner(grants)), [canned]);
        }
        // Log delivery with only WRITE is no canned ACL.
        assert!(canned_acls(OWNER, &with_owner(vec![log("WRITE"), all("READ")])).is_empty());
    }

    #[test]
    fn headers_list_each_permissions_grantees() {
        let grants = [
            owner_full_control(),
            grant(Grantee::Uri(LOG_DELIVERY.into()), "WRITE"),
            grant(Grantee::Id("other".into()), "WRITE"),
        ];
        assert_eq!(
            header(&grants, "WRITE").as_deref(),
            Some("uri=http://acs.amazonaws.com/groups/s3/LogDelivery,id=other")
        );
        assert_eq!(header(&grants, "READ"), None);
    }

    #[test]
    fn headers_compare_as_sets_of_grantees() {
        assert!(same_grantees("id=a, uri=http://x", "uri=http://x,id=\"a\""));
        assert!(!same_grantees("id=a", "id=a,id=b"));
        assert!(!same_grantees("id=a", "emailAddress=a"));
    }
}
