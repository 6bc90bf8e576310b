//! Reading a CR as its Rust type from what the apiserver holds.
//!
//! The controller watches CRs untyped and converts each one here, so one CR that does not fit the
//! Rust type cannot stop the watch for every other CR of its kind (a typed watch fails whole
//! lists), and the unfit one gets a condition saying why.

use kube::api::DynamicObject;
use kube::core::object::HasSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `obj` as `K`. Spec fields the CRD lets a user leave out but the Rust type requires — ACK's
/// adoption manifests carry no `spec` at all — take the spec type's defaults; adoption fields and
/// AWS fill them in later.
pub fn from_dynamic<K>(obj: &DynamicObject) -> Result<K, serde_json::Error>
where
    K: DeserializeOwned + HasSpec,
    K::Spec: Default + Serialize,
{
    let mut value = serde_json::to_value(obj)?;
    let defaults = serde_json::to_value(K::Spec::default())?;
    let given = value
        .get_mut("spec")
        .map(Value::take)
        .unwrap_or(Value::Null);
    value["spec"] = overlay(defaults, given);
    serde_json::from_value(value)
}

/// `over` on top of `base`: objects merge key by key, anything else in `over` wins.
fn overlay(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut base), Value::Object(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(old) => overlay(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Object(base)
        }
        (base, Value::Null) => base,
        (_, over) => over,
    }
}

#[cfg(test)]
mod tests {
    use super::overlay;
    use serde_json::json;

    #[test]
    fn given_values_win_and_missing_ones_take_defaults() {
        let base = json!({"name": "", "nested": {"a": 1, "b": 2}});
        let over = json!({"nested": {"b": 3}, "extra": true});
        assert_eq!(
            overlay(base.clone(), over),
            json!({"name": "", "nested": {"a": 1, "b": 3}, "extra": true})
        );
        assert_eq!(overlay(base.clone(), serde_json::Value::Null), base);
    }
}
