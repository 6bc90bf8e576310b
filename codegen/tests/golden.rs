//! Golden tests: a small hand-made model and config through the IR and both emitters.
//! The model has one of each thing the generator handles: a renamed and an ignored member, an
//! enum, a timestamp, a recursive structure, an attribute map, a setter, a reference, tags,
//! an output wrapper. `UPDATE_EXPECT=1 cargo test -p ack-codegen --test golden` rewrites the
//! expectations after a deliberate change.

use expect_test::expect;

const MODEL: &str = r#"{
  "metadata": {"apiVersion": "2020-01-01", "serviceId": "Widgets", "protocol": "json"},
  "operations": {
    "CreateWidget": {"name": "CreateWidget", "input": {"shape": "CreateWidgetRequest"},
                     "output": {"shape": "CreateWidgetResponse"}},
    "DescribeWidget": {"name": "DescribeWidget", "input": {"shape": "DescribeWidgetRequest"},
                       "output": {"shape": "DescribeWidgetResponse"}},
    "UpdateWidget": {"name": "UpdateWidget", "input": {"shape": "CreateWidgetRequest"}},
    "DeleteWidget": {"name": "DeleteWidget", "input": {"shape": "DescribeWidgetRequest"}},
    "PutWidgetPolicy": {"name": "PutWidgetPolicy", "input": {"shape": "PutWidgetPolicyRequest"}},
    "GetWidgetPolicy": {"name": "GetWidgetPolicy", "input": {"shape": "DescribeWidgetRequest"},
                        "output": {"shape": "GetWidgetPolicyOutput"}},
    "ListWidgetTags": {"name": "ListWidgetTags", "input": {"shape": "DescribeWidgetRequest"},
                       "output": {"shape": "TagsOutput"}},
    "TagWidget": {"name": "TagWidget", "input": {"shape": "TagsOutput"}},
    "UntagWidget": {"name": "UntagWidget", "input": {"shape": "TagsOutput"}}
  },
  "shapes": {
    "CreateWidgetRequest": {"type": "structure", "required": ["WidgetName"], "members": {
      "WidgetName": {"shape": "String", "documentation": "<p>The widget's <code>name</code>.</p><p>More.</p>"},
      "KmsKeyId": {"shape": "String"},
      "Mode": {"shape": "WidgetMode"},
      "Size": {"shape": "Integer"},
      "Config": {"shape": "WidgetConfig"},
      "Tags": {"shape": "TagMap"},
      "Attributes": {"shape": "AttributeMap", "documentation": "<ul><li><p><code>DelaySeconds</code> – How long to wait.</p></li></ul>"},
      "ClientToken": {"shape": "String"}
    }},
    "WidgetConfig": {"type": "structure", "documentation": "<p>How a widget works.</p>", "members": {
      "Enabled": {"shape": "Boolean"},
      "Root": {"shape": "TreeNode"},
      "Window": {"shape": "Timestamp"}
    }},
    "TreeNode": {"type": "structure", "members": {
      "Name": {"shape": "String"},
      "Children": {"shape": "TreeNodeList"}
    }},
    "TreeNodeList": {"type": "list", "member": {"shape": "TreeNode"}},
    "AttributeMap": {"type": "map", "key": {"shape": "WidgetAttributeName"}, "value": {"shape": "String"}},
    "WidgetAttributeName": {"type": "string", "enum": ["DelaySeconds", "WidgetArn"]},
    "WidgetMode": {"type": "string", "enum": ["FAST", "SLOW"]},
    "CreateWidgetResponse": {"type": "structure", "members": {"WidgetUrl": {"shape": "String"}}},
    "DescribeWidgetRequest": {"type": "structure", "required": ["WidgetName"], "members": {
      "WidgetName": {"shape": "String"}
    }},
    "DescribeWidgetResponse": {"type": "structure", "members": {"Widget": {"shape": "WidgetDescription"}}},
    "WidgetDescription": {"type": "structure", "members": {
      "WidgetName": {"shape": "String"},
      "WidgetArn": {"shape": "String"},
      "WidgetStatus": {"shape": "WidgetMode"},
      "CreatedAt": {"shape": "Timestamp"}
    }},
    "PutWidgetPolicyRequest": {"type": "structure", "members": {
      "WidgetName": {"shape": "String"},
      "Policy": {"shape": "String", "documentation": "<p>The policy document.</p>"}
    }, "payload": "Policy"},
    "GetWidgetPolicyOutput": {"type": "structure", "members": {"Policy": {"shape": "String"}}, "payload": "Policy"},
    "TagsOutput": {"type": "structure", "members": {"Tags": {"shape": "TagMap"}}},
    "TagMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
    "WidgetNotFound": {"type": "structure", "members": {}, "exception": true},
    "String": {"type": "string"},
    "Integer": {"type": "integer"},
    "Boolean": {"type": "boolean"},
    "Timestamp": {"type": "timestamp"}
  }
}"#;

const CONFIG: &str = r#"
ignore = ["CreateWidgetRequest.ClientToken"]

[service]
model = "widgets"
api_version = "2020-01-01"
alias = "widgets"

[sdk]
crate = "aws_sdk_widgets"
error_aliases = { WidgetNotFound = ["NotFound"] }

[renames]
"CreateWidgetRequest.WidgetName" = "name"

[resources.Widget]
create = "CreateWidget"
read_one = { operation = "DescribeWidget", output_wrapper = "Widget" }
update = "UpdateWidget"
delete = "DeleteWidget"
identifier = "name"
adoption_fields = ["name"]
arn = { member = "WidgetArn" }
immutable = ["name"]
hooks = ["is_synced", "after_read_one"]
attributes = { member = "Attributes", spec = ["DelaySeconds"] }
references = [{ field = "kmsKeyID", service = "kms", resource = "Key", path = "status.ackResourceMetadata.arn" }]
setters = [{ field = "Policy", put = "PutWidgetPolicy", get = "GetWidgetPolicy" }]
tags = { field = "tags", format = "map", api = "add_remove", read = "ListWidgetTags", write = "TagWidget", remove = "UntagWidget" }
errors = { terminal = ["InvalidWidget"], not_found = ["WidgetNotFound"] }
print_columns = [{ name = "MODE", json_path = ".spec.mode", type = "string" }]
"#;

fn service() -> ack_codegen::ir::Service {
    ack_codegen::lower_service("widgets.toml", MODEL, CONFIG).expect("fixture lowers")
}

#[test]
fn ir() {
    let service = service();
    expect![[r#"
        resource Widget (widgets)
          create: CreateWidget (create_widget) in CreateWidgetRequest out CreateWidgetResponse
          read_one: DescribeWidget (describe_widget) in DescribeWidgetRequest out DescribeWidgetResponse.Widget
          update: UpdateWidget (update_widget) in CreateWidgetRequest out -
          delete: DeleteWidget (delete_widget) in DescribeWidgetRequest out -
          setter policy: put PutWidgetPolicy.Policy get GetWidgetPolicy.Policy
          identifier: spec.name
          adoption fields: name
          arn: Member("WidgetArn")
          attributes: Attributes keys WidgetAttributeName names - create-only []
          tags: spec.tags Map AddRemove read ListWidgetTags write TagWidget remove UntagWidget
          errors: terminal [InvalidWidget] recoverable [] not_found [NotFound, WidgetNotFound]
          hooks: [after_read_one, is_synced]
          column MODE string .spec.mode p0
          column Synced string .status.conditions[?(@.type=="ACK.ResourceSynced")].status p0
          column Age date .metadata.creationTimestamp p0
          spec
            config (config): struct WidgetConfig <- CreateWidgetRequest.Config (config)
            delaySeconds (delay_seconds): string <- attribute DelaySeconds
            kmsKeyID (kms_key_id): string <- CreateWidgetRequest.KmsKeyId (kms_key_id)
            kmsKeyRef (kms_key_ref): struct AwsResourceReferenceWrapper <- reference to kmsKeyID: kms/Key status.ackResourceMetadata.arn
            mode (mode): enum WidgetMode <- CreateWidgetRequest.Mode (mode)
            name (name): string required immutable <- CreateWidgetRequest.WidgetName (widget_name)
            policy (policy): string <- setter
            size (size): integer <- CreateWidgetRequest.Size (size)
            tags (tags): map<string> <- CreateWidgetRequest.Tags (tags)
          status
            ackResourceMetadata (ack_resource_metadata): struct AckResourceMetadata <- runtime
            conditions (conditions): list<struct AckCondition> <- runtime
            createdAt (created_at): timestamp <- WidgetDescription.CreatedAt (created_at)
            declaredSubresources (declared_subresources): list<string> <- declared setters
            widgetStatus (widget_status): enum WidgetMode <- WidgetDescription.WidgetStatus (widget_status)
            widgetURL (widget_url): string <- CreateWidgetResponse.WidgetUrl (widget_url)
          struct TreeNode (shape TreeNode, sdk TreeNode)
            children (children): list<opaque TreeNode> <- TreeNode.Children (children)
            name (name): string <- TreeNode.Name (name)
          struct WidgetConfig (shape WidgetConfig, sdk WidgetConfig)
            enabled (enabled): boolean <- WidgetConfig.Enabled (enabled)
            root (root): struct TreeNode <- WidgetConfig.Root (root)
            window (window): timestamp <- WidgetConfig.Window (window)
    "#]].assert_eq(&service.resources[0].dump());
}

#[test]
fn crd_yaml() {
    let service = service();
    let yaml = ack_codegen::emit::crd::emit(&service, &service.resources[0]).unwrap();
    expect![[r##"
        # @generated by ack-codegen — do not edit
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.widgets.services.k8s.aws
        spec:
          group: widgets.services.k8s.aws
          names:
            categories:
            - ack
            kind: Widget
            listKind: WidgetList
            plural: widgets
            singular: widget
          scope: Namespaced
          versions:
          - additionalPrinterColumns:
            - jsonPath: .spec.mode
              name: MODE
              type: string
            - jsonPath: .status.conditions[?(@.type=="ACK.ResourceSynced")].status
              name: Synced
              type: string
            - jsonPath: .metadata.creationTimestamp
              name: Age
              type: date
            name: v1alpha1
            schema:
              openAPIV3Schema:
                description: Widget is the Schema for the Widgets API
                properties:
                  apiVersion:
                    description: APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.
                    type: string
                  kind:
                    description: Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.
                    type: string
                  metadata:
                    type: object
                  spec:
                    description: WidgetSpec defines the desired state of Widget.
                    properties:
                      config:
                        description: How a widget works.
                        properties:
                          enabled:
                            type: boolean
                          root:
                            properties:
                              children:
                                items:
                                  type: object
                                  x-kubernetes-preserve-unknown-fields: true
                                type: array
                              name:
                                type: string
                            type: object
                          window:
                            format: date-time
                            type: string
                        type: object
                      delaySeconds:
                        type: string
                      kmsKeyID:
                        type: string
                      kmsKeyRef:
                        description: Takes kmsKeyID from a Key (kms.services.k8s.aws) object's status.ackResourceMetadata.arn.
                        properties:
                          from:
                            description: AWSResourceReference provides all the values necessary to reference another k8s resource for finding the identifier(Id/ARN/Name)
                            properties:
                              name:
                                type: string
                              namespace:
                                type: string
                            type: object
                        type: object
                      mode:
                        type: string
                      name:
                        description: The widget's name.
                        type: string
                        x-kubernetes-validations:
                        - message: Value is immutable once set
                          rule: self == oldSelf
                      policy:
                        description: The policy document.
                        type: string
                      size:
                        format: int64
                        type: integer
                      tags:
                        additionalProperties:
                          type: string
                        type: object
                    required:
                    - name
                    type: object
                  status:
                    description: WidgetStatus defines the observed state of Widget
                    properties:
                      ackResourceMetadata:
                        description: All CRs managed by ACK have a common `Status.ACKResourceMetadata` member that is used to contain resource sync state, account ownership, constructed ARN for the resource
                        properties:
                          arn:
                            description: ARN is the Amazon Resource Name for the resource. This is a globally-unique identifier and is set only by the ACK service controller once the controller has orchestrated the creation of the resource OR when it has verified that an "adopted" resource exists and matches the supplied CR's Spec field values.
                            type: string
                          ownerAccountID:
                            description: OwnerAccountID is the AWS Account ID of the account that owns the backend AWS service API resource.
                            type: string
                          partition:
                            description: Partition is the AWS partition in which the resource exists or will exist
                            type: string
                          region:
                            description: Region is the AWS region in which the resource exists or will exist.
                            type: string
                        required:
                        - ownerAccountID
                        - region
                        type: object
                      conditions:
                        description: All CRs managed by ACK have a common `Status.Conditions` member that contains a collection of `ackv1alpha1.Condition` objects that describe the various terminal states of the CR and its backend AWS service API resource
                        items:
                          description: Condition is the common struct used by all CRDs managed by ACK service controllers to indicate terminal states of the CR and its backend AWS service API resource
                          properties:
                            lastTransitionTime:
                              description: Last time the condition transitioned from one status to another.
                              format: date-time
                              type: string
                            message:
                              description: A human readable message indicating details about the transition.
                              type: string
                            reason:
                              description: The reason for the condition's last transition.
                              type: string
                            status:
                              description: Status of the condition, one of True, False, Unknown.
                              type: string
                            type:
                              description: Type is the type of the Condition
                              type: string
                          required:
                          - status
                          - type
                          type: object
                        type: array
                      createdAt:
                        format: date-time
                        type: string
                      declaredSubresources:
                        description: The sub-configurations (spec fields with their own AWS calls) the spec declared when they were last applied. A field the spec stops declaring is removed or reset in AWS once; one it never declared is neither read nor changed.
                        items:
                          type: string
                        type: array
                      widgetStatus:
                        type: string
                      widgetURL:
                        type: string
                    type: object
                type: object
            served: true
            storage: true
            subresources:
              status: {}
    "##]].assert_eq(&yaml);
}

#[test]
fn rust_types() {
    let service = service();
    let code = ack_codegen::emit::rust::emit_resource(&service, &service.resources[0]).unwrap();
    expect![[r##"
        // @generated by ack-codegen — do not edit
        //! The Widget custom resource (widgets.widgets.services.k8s.aws/v1alpha1): spec, status and the structures they use.

        /// WidgetSpec defines the desired state of Widget.
        #[derive(
            kube::CustomResource,
            Clone,
            Debug,
            Default,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema
        )]
        #[kube(
            group = "widgets.services.k8s.aws",
            version = "v1alpha1",
            kind = "Widget",
            plural = "widgets",
            namespaced,
            status = "WidgetStatus",
            doc = "Widget is the Schema for the Widgets API",
            derive = "Default",
            derive = "PartialEq",
            category = "ack",
            printcolumn = r#"{"name":"MODE","type":"string","jsonPath":".spec.mode"}"#,
            printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[?(@.type==\"ACK.ResourceSynced\")].status"}"#,
            printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
        )]
        #[serde(rename_all = "camelCase")]
        pub struct WidgetSpec {
            /// How a widget works.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub config: Option<WidgetConfig>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub delay_seconds: Option<String>,
            #[serde(rename = "kmsKeyID", default, skip_serializing_if = "Option::is_none")]
            pub kms_key_id: Option<String>,
            /// Takes kmsKeyID from a Key (kms.services.k8s.aws) object's status.ackResourceMetadata.arn.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub kms_key_ref: Option<super::common::AwsResourceReferenceWrapper>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub mode: Option<String>,
            /// The widget's name.
            pub name: String,
            /// The policy document.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub policy: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub size: Option<i64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tags: Option<std::collections::BTreeMap<String, String>>,
        }

        /// WidgetStatus defines the observed state of Widget.
        #[derive(
            Clone,
            Debug,
            Default,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema
        )]
        #[serde(rename_all = "camelCase")]
        pub struct WidgetStatus {
            /// All CRs managed by ACK have a common `Status.ACKResourceMetadata` member that is used to contain resource sync state, account ownership, constructed ARN for the resource
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ack_resource_metadata: Option<super::common::AckResourceMetadata>,
            /// All CRs managed by ACK have a common `Status.Conditions` member that contains a collection of `ackv1alpha1.Condition` objects that describe the various terminal states of the CR and its backend AWS service API resource
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub conditions: Option<Vec<super::common::AckCondition>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub created_at: Option<super::common::DateTime>,
            /// The sub-configurations (spec fields with their own AWS calls) the spec declared when they were last applied. A field the spec stops declaring is removed or reset in AWS once; one it never declared is neither read nor changed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub declared_subresources: Option<Vec<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub widget_status: Option<String>,
            #[serde(rename = "widgetURL", default, skip_serializing_if = "Option::is_none")]
            pub widget_url: Option<String>,
        }

        #[derive(
            Clone,
            Debug,
            Default,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema
        )]
        #[serde(rename_all = "camelCase")]
        pub struct TreeNode {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub children: Option<Vec<super::common::FreeFormObject>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
        }

        /// How a widget works.
        #[derive(
            Clone,
            Debug,
            Default,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema
        )]
        #[serde(rename_all = "camelCase")]
        pub struct WidgetConfig {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub root: Option<TreeNode>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub window: Option<super::common::DateTime>,
        }
    "##]].assert_eq(&code);
}

#[test]
fn rust_module_and_common_types() {
    let service = service();
    let module = ack_codegen::emit::rust::emit_mod(&service).unwrap();
    expect![[r#"
        // @generated by ack-codegen — do not edit
        //! Custom resource types of the Widgets controller (widgets.services.k8s.aws/v1alpha1).

        pub mod common;
        pub mod widget;
        pub mod widget_convert;

        pub use widget::{Widget, WidgetSpec, WidgetStatus};
    "#]]
    .assert_eq(&module);
    let common = ack_codegen::emit::rust::emit_common(&service).unwrap();
    assert!(common.contains("pub struct AckResourceMetadata"));
    assert!(common.contains("pub struct FreeFormObject"));
}

/// Each config mistake fails generation with a message naming it.
#[test]
fn config_mistakes_are_errors() {
    let cases = [
        (
            "create = \"CreateWidget\"",
            "create = \"MakeWidget\"",
            "no operation MakeWidget",
        ),
        (
            "ignore = [\"CreateWidgetRequest.ClientToken\"]",
            "ignore = [\"CreateWidgetRequest.ClientTokn\"]",
            "has no member ClientTokn",
        ),
        (
            "immutable = [\"name\"]",
            "immutable = [\"nmae\"]",
            "no field nmae",
        ),
        (
            "identifier = \"name\"",
            "identifer = \"name\"",
            "unknown field `identifer`",
        ),
        (
            "spec = [\"DelaySeconds\"]",
            "spec = [\"Delay\"]",
            "Delay is not a value",
        ),
        (
            "not_found = [\"WidgetNotFound\"]",
            "not_found = [\"Gone\"]",
            "Gone is not an exception",
        ),
        (
            "json_path = \".spec.mode\"",
            "json_path = \".spec.mood\"",
            "names no field",
        ),
        (
            "field = \"tags\"",
            "field = \"config\"",
            "tag field config is struct",
        ),
        (
            "identifier = \"name\"",
            "identifier = \"name\"\nlookup = \"DescribeWidget\"",
            "lookup DescribeWidget: its output has no member WidgetName",
        ),
        (
            "spec = [\"DelaySeconds\"]",
            "spec = [\"DelaySeconds\"], create_only = [\"WidgetArn\"]",
            "create-only attribute WidgetArn is not a spec attribute",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(CONFIG.contains(from), "fixture has {from}");
        let config = CONFIG.replace(from, to);
        let error = ack_codegen::lower_service("widgets.toml", MODEL, &config)
            .expect_err(to)
            .to_string();
        assert!(error.contains(expected), "{to}: {error}");
        assert!(error.starts_with("widgets.toml"), "{error}");
    }
}

/// A manager is emitted only for styles the emitter supports; asking for one for anything else
/// fails generation with what is missing, never with a manager that ignores part of the spec.
#[test]
fn managers_of_unsupported_styles_are_refused() {
    let config = CONFIG.replace(
        "identifier = \"name\"",
        "identifier = \"name\"\nmanager = true",
    );
    let service = ack_codegen::lower_service("widgets.toml", MODEL, &config).unwrap();
    assert!(service.resources[0].manager);
    let error = ack_codegen::emit::service_files(&service, "services/widgets")
        .expect_err("setters are not supported")
        .to_string();
    assert_eq!(
        error,
        "Widget: cannot emit a resource manager: setters (policy and others with their own \
         put/get calls) are not supported yet"
    );
    let without_setters = config.replace("setters = [", "# setters = [");
    let service = ack_codegen::lower_service("widgets.toml", MODEL, &without_setters).unwrap();
    let error = ack_codegen::emit::service_files(&service, "services/widgets")
        .expect_err("output wrappers are not supported")
        .to_string();
    assert!(
        error.contains("read-one output wrappers (Widget)"),
        "{error}"
    );
}
