//! Output for people (aligned tables) and for machines (JSON, YAML).

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// `value` as JSON or YAML; `None` for tables, which each command lays out itself.
pub fn structured<T: Serialize>(format: Format, value: &T) -> anyhow::Result<Option<String>> {
    Ok(match format {
        Format::Table => None,
        Format::Json => Some(serde_json::to_string_pretty(value)? + "\n"),
        Format::Yaml => Some(yaml(&serde_json::to_value(value)?)),
    })
}

/// Block-style YAML in which every string value is double-quoted, so no reader — Helm and
/// kubectl read YAML 1.1, where a bare `N` or `on` is a boolean — takes it for anything else.
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(&mut out, value, 0);
    out
}

fn write_yaml(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                out.push_str(&format!("{pad}{}:", yaml_key(key)));
                write_nested(out, item, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                // An object's first key goes on the dash's line, the rest under it.
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        let mut inner = String::new();
                        write_yaml(&mut inner, item, indent + 2);
                        out.push(' ');
                        out.push_str(&inner[indent + 2..]);
                    }
                    _ => write_nested(out, item, indent + 2),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", scalar_text(scalar))),
    }
}

/// After `key:` or `-`: a scalar or empty collection on the same line, else a nested block.
fn write_nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_yaml(out, value, indent);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml(out, value, indent);
        }
        scalar => out.push_str(&format!(" {}\n", scalar_text(scalar))),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        // JSON's string escapes are YAML's double-quoted style.
        other => other.to_string(),
    }
}

/// A key stays bare when every YAML version reads it as that same string.
fn yaml_key(key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        key.to_string()
    } else {
        Value::from(key).to_string()
    }
}

/// Columns padded to their widest cell, separated by three spaces, as `kubectl get` does.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("   ").trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_quotes_every_string_and_round_trips() {
        let value = json!({
            "apiVersion": "v1",
            "metadata": {"annotations": {"services.k8s.aws/adoption-fields": "{\"a\":\"b\"}"}, "labels": {}},
            "spec": {
                "keySchema": [{"attributeName": "sk", "keyType": "RANGE"}],
                "types": ["N", "on"],
                "n": 3,
                "empty": [],
                "nested": [[1, 2], {"x": true}],
            },
        });
        let text = yaml(&value);
        assert!(
            text.contains("  keySchema:\n    - attributeName: \"sk\"\n      keyType: \"RANGE\"\n"),
            "{text}"
        );
        assert!(text.contains("- \"N\"\n"), "{text}");
        assert!(text.contains("\"n\": 3\n"), "{text}");
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, value, "{text}");
    }

    #[test]
    fn tables_align() {
        let out = table(
            &["KIND", "NAME"],
            &[
                vec!["Queue".into(), "jobs".into()],
                vec!["Table".into(), "t".into()],
            ],
        );
        assert_eq!(out, "KIND    NAME\nQueue   jobs\nTable   t\n");
    }
}
