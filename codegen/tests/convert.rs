//! The CR ↔ SDK conversion emitter (`emit::convert`) on a small model with one of each kind of
//! value: SDK widths (`integer` → `i32`, `float` → `f32`), enums (also as map keys), a timestamp,
//! lists and maps, a required member targeting a structure (optional in the SDK), a union named
//! in `[sdk] unions`, and a recursive shape cut to a free-form object. The generated modules of
//! the real services are compiled and round-trip tested in `services/*/tests/convert.rs`.

use ack_codegen::emit::convert;
use ack_codegen::ir::{Service, Source};
use quote::quote;

const MODEL: &str = r#"{
  "metadata": {"apiVersion": "2020-01-01", "serviceId": "Widgets", "protocol": "json"},
  "operations": {
    "CreateWidget": {"name": "CreateWidget", "input": {"shape": "CreateWidgetRequest"}},
    "DescribeWidget": {"name": "DescribeWidget", "input": {"shape": "NameRequest"},
                       "output": {"shape": "CreateWidgetRequest"}},
    "DeleteWidget": {"name": "DeleteWidget", "input": {"shape": "NameRequest"}}
  },
  "shapes": {
    "CreateWidgetRequest": {"type": "structure", "required": ["Name", "Rules"], "members": {
      "Name": {"shape": "String"},
      "Rules": {"shape": "RuleList"},
      "Tree": {"shape": "TreeNode"}
    }},
    "NameRequest": {"type": "structure", "required": ["Name"], "members": {"Name": {"shape": "String"}}},
    "RuleList": {"type": "list", "member": {"shape": "Rule"}},
    "Rule": {"type": "structure", "required": ["Id", "Count", "Limits", "Filter"], "members": {
      "Id": {"shape": "String"},
      "Count": {"shape": "Integer"},
      "Size": {"shape": "Long"},
      "Ratio": {"shape": "Float"},
      "Weight": {"shape": "Double"},
      "Mode": {"shape": "Mode"},
      "At": {"shape": "Timestamp"},
      "Labels": {"shape": "LabelMap"},
      "PerMode": {"shape": "ModeMap"},
      "Modes": {"shape": "ModeList"},
      "Limits": {"shape": "Limits"},
      "Filter": {"shape": "Filter"}
    }},
    "Limits": {"type": "structure", "members": {"Max": {"shape": "Long"}}},
    "Filter": {"type": "structure", "members": {
      "Prefix": {"shape": "String"},
      "Limits": {"shape": "Limits"}
    }},
    "TreeNode": {"type": "structure", "members": {
      "Name": {"shape": "String"},
      "Children": {"shape": "TreeNodeList"}
    }},
    "TreeNodeList": {"type": "list", "member": {"shape": "TreeNode"}},
    "LabelMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
    "ModeMap": {"type": "map", "key": {"shape": "Mode"}, "value": {"shape": "Integer"}},
    "ModeList": {"type": "list", "member": {"shape": "Mode"}},
    "Mode": {"type": "string", "enum": ["FAST", "SLOW"]},
    "WidgetNotFound": {"type": "structure", "members": {}, "exception": true},
    "String": {"type": "string"},
    "Integer": {"type": "integer"},
    "Long": {"type": "long"},
    "Float": {"type": "float"},
    "Double": {"type": "double"},
    "Timestamp": {"type": "timestamp"}
  }
}"#;

const CONFIG: &str = r#"
[service]
model = "widgets"
api_version = "2020-01-01"
alias = "widgets"

[sdk]
crate = "aws_sdk_widgets"
unions = ["Filter"]

[resources.Widget]
create = "CreateWidget"
read_one = "DescribeWidget"
delete = "DeleteWidget"
identifier = "name"
adoption_fields = ["name"]
arn = { template = "arn:{partition}:widgets:::{name}" }
errors = { not_found = ["WidgetNotFound"] }
"#;

fn service() -> Service {
    ack_codegen::lower_service("widgets.toml", MODEL, CONFIG).expect("fixture lowers")
}

/// Whitespace-free, so assertions do not depend on prettyplease's line breaks.
fn squash(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn sdk_shapes_know_widths_required_members_and_unions() {
    let service = service();
    let rule = &service.sdk_shapes["Rule"];
    assert_eq!(rule.required, ["Id", "Count", "Limits", "Filter"]);
    // smithy-rs keeps required members that target a structure or union optional.
    assert_eq!(rule.non_optional, ["Id", "Count"]);
    assert!(service.sdk_shapes["Filter"].is_union);
    assert!(service.sdk_shapes["Mode"].is_enum);
    // Operation shapes are there for manager emitters.
    assert!(service.sdk_shapes.contains_key("NameRequest"));
}

#[test]
fn struct_conversions() {
    let service = service();
    let resource = &service.resources[0];
    assert!(convert::has_conversions(&service, resource));
    assert_eq!(convert::module_name(resource), "widget_convert");
    let code = squash(&convert::emit(&service, resource).expect("emits"));
    for expected in [
        // Required members are checked first, named by their CRD path.
        r#"ifv.count.is_none(){returnErr(ReconcileError::terminal("InvalidSpec",format!("{path}.count:required"))"#,
        // A required structure member is checked although the SDK keeps it optional.
        r#"ifv.limits.is_none()"#,
        // Widths.
        "i32::try_from(*x)",
        ".set_size(v.size)",
        ".set_ratio(v.ratio.as_ref().map(|x|*xasf32))",
        ".set_weight(v.weight)",
        "count:Some(i64::from(v.count))",
        "ratio:v.ratio.as_ref().map(|x|f64::from(*x))",
        // Enums, also in lists and as map keys.
        "aws_sdk_widgets::types::Mode::from(x.as_str())",
        "aws_sdk_widgets::types::Mode::from(k.as_str())",
        "mode:v.mode.as_ref().map(|x|x.as_str().to_string())",
        // Timestamps.
        "aws_sdk_widgets::primitives::DateTime::from_str(&x.0,aws_sdk_widgets::primitives::DateTimeFormat::DateTime,)",
        "super::common::DateTime(x.fmt(aws_sdk_widgets::primitives::DateTimeFormat::DateTime).unwrap_or_default(),)",
        // Maps become HashMaps and back.
        "collect::<std::collections::HashMap<_,_>>()",
        // A fallible build() maps to a terminal error.
        r#"builder.build().map_err(|e|ReconcileError::terminal("InvalidSpec",format!("{path}:{e}")))"#,
        // The SDK holds non-optional members without Option.
        "id:Some(v.id.clone())",
        "limits:v.limits.as_ref().map(super::widget_convert::from_sdk_limits)",
        // Unions: one variant per member, exactly one set.
        "variants.push(aws_sdk_widgets::types::Filter::Prefix(x.clone()));",
        r#"format!("{path}:exactlyoneoflimits,prefixmustbeset")"#,
        "aws_sdk_widgets::types::Filter::Limits(x)=>{super::widget::Filter{limits:Some(super::widget_convert::from_sdk_limits(x)),..Default::default()}}",
        "_=>super::widget::Filter::default(),",
        // The recursive shape is cut to a free-form object, which has no conversion.
        r#".set_children(match&v.children{Some(_)=>{returnErr(ReconcileError::terminal("InvalidSpec",format!("{}.children:list<opaqueTreeNode>hasnoconversiontotheAWSSDK",path)"#,
        "children:None",
    ] {
        assert!(
            code.contains(&squash(expected)),
            "missing {expected}\n{code}"
        );
    }
}

#[test]
fn field_api_for_manager_emitters() {
    let service = service();
    let resource = &service.resources[0];
    let rules = resource
        .spec
        .iter()
        .find(|f| f.name == "rules")
        .expect("rules");
    assert!(rules.required);
    assert!(matches!(rules.source, Source::Member { .. }));
    assert_eq!(convert::member_shape(&service, rules), Some("RuleList"));
    let to = convert::to_sdk_field(
        &service,
        resource,
        rules,
        quote!(resource.spec),
        quote!("spec"),
    )
    .expect("model-backed");
    let to = squash(&to.to_string());
    assert!(
        to.starts_with("{letpath=format!(\"{}.rules\",\"spec\");Some("),
        "{to}"
    );
    assert!(
        to.contains("super::widget_convert::to_sdk_rule(x,&path)"),
        "{to}"
    );

    let from =
        convert::from_sdk_field(&service, resource, rules, quote!(output)).expect("model-backed");
    let from = squash(&from.to_string());
    // Every member of an operation input is optional in the SDK.
    assert!(
        from.starts_with("output.rules.as_ref().map(|x|x.iter().map(super::widget_convert::from_sdk_rule).collect())"),
        "{from}"
    );
}
