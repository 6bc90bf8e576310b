//! Model shapes → IR types. Each structure becomes one [`ir::Struct`]; a structure reached again
//! while it is still being built (a recursive shape) is cut to a free-form object there, so every
//! emitted type is finite.

use std::collections::BTreeMap;

use crate::docs;
use crate::ir::{self, Field, Source, Type};
use crate::model::{Member, ShapeKind};
use crate::naming;

use super::Context;

/// The structures one resource uses, built on demand.
pub(super) struct Types<'a> {
    cx: &'a Context<'a>,
    /// Keyed by shape name.
    structs: BTreeMap<String, ir::Struct>,
    /// Rust name → shape, to catch two shapes with one Rust name.
    rust_names: BTreeMap<String, String>,
    /// Structures being built, outermost first.
    building: Vec<String>,
}

impl<'a> Types<'a> {
    /// `reserved`: Rust names the resource's own types take (`Bucket`, `BucketSpec`, …).
    pub(super) fn new(cx: &'a Context<'a>, reserved: &[String]) -> Self {
        let rust_names = reserved
            .iter()
            .map(|name| (name.clone(), String::new()))
            .collect();
        Self {
            cx,
            structs: BTreeMap::new(),
            rust_names,
            building: Vec::new(),
        }
    }

    pub(super) fn into_structs(self) -> Vec<ir::Struct> {
        let mut structs: Vec<_> = self.structs.into_values().collect();
        structs.sort_by(|a, b| a.rust_name.cmp(&b.rust_name));
        structs
    }

    pub(super) fn struct_mut(&mut self, rust_name: &str) -> Option<&mut ir::Struct> {
        self.structs.values_mut().find(|s| s.rust_name == rust_name)
    }

    pub(super) fn struct_by_name(&self, rust_name: &str) -> Option<&ir::Struct> {
        self.structs.values().find(|s| s.rust_name == rust_name)
    }

    /// The IR type of a shape.
    pub(super) fn resolve(&mut self, shape_name: &str) -> Result<Type, crate::Error> {
        let shape = self.cx.shape(shape_name)?;
        Ok(match shape.kind {
            ShapeKind::String if !shape.values.is_empty() => Type::Enum {
                shape: shape_name.to_string(),
                values: shape.values.clone(),
            },
            ShapeKind::String => Type::String,
            ShapeKind::Integer | ShapeKind::Long => Type::Integer,
            ShapeKind::Float | ShapeKind::Double => Type::Float,
            ShapeKind::Boolean => Type::Boolean,
            ShapeKind::Timestamp => Type::Timestamp,
            ShapeKind::Blob => Type::Blob,
            ShapeKind::Document => Type::Opaque {
                shape: shape_name.to_string(),
            },
            ShapeKind::List => {
                let Some(member) = &shape.member else {
                    return Err(self
                        .cx
                        .error(format!("list shape {shape_name} has no member")));
                };
                Type::List(Box::new(self.resolve(&member.shape)?))
            }
            ShapeKind::Map => {
                let (Some(key), Some(value)) = (&shape.key, &shape.value) else {
                    return Err(self
                        .cx
                        .error(format!("map shape {shape_name} lacks key or value")));
                };
                if self.cx.shape(&key.shape)?.kind != ShapeKind::String {
                    return Err(self.cx.error(format!(
                        "map shape {shape_name} has non-string keys, which a CRD cannot hold"
                    )));
                }
                Type::Map(Box::new(self.resolve(&value.shape)?))
            }
            ShapeKind::Structure => self.resolve_struct(shape_name)?,
            ShapeKind::Unsupported => {
                return Err(self
                    .cx
                    .error(format!("shape {shape_name} is of a kind not supported")));
            }
        })
    }

    fn resolve_struct(&mut self, shape_name: &str) -> Result<Type, crate::Error> {
        if self.building.iter().any(|s| s == shape_name) {
            return Ok(Type::Opaque {
                shape: shape_name.to_string(),
            });
        }
        if let Some(existing) = self.structs.get(shape_name) {
            return Ok(Type::Struct(existing.rust_name.clone()));
        }
        let rust_name = self.cx.rust_type_name(shape_name);
        if let Some(other) = self.rust_names.get(&rust_name) {
            let clash = if other.is_empty() {
                "a generated type of the resource".to_string()
            } else {
                format!("shape {other}")
            };
            return Err(self.cx.error(format!(
                "shape {shape_name} would be Rust type {rust_name}, as is {clash}; \
                 name it in rust_type_names"
            )));
        }
        self.rust_names
            .insert(rust_name.clone(), shape_name.to_string());

        self.building.push(shape_name.to_string());
        let shape = self.cx.shape(shape_name)?;
        let mut fields = Vec::new();
        for (member_name, member) in &shape.members {
            if self.cx.is_ignored(shape_name, member_name) {
                continue;
            }
            fields.push(self.member_field(shape_name, member_name, member)?);
        }
        self.building.pop();
        super::sort_and_check_unique(self.cx, shape_name, &mut fields)?;

        self.structs.insert(
            shape_name.to_string(),
            ir::Struct {
                rust_name: rust_name.clone(),
                shape: Some(shape_name.to_string()),
                sdk_type: Some(self.cx.sdk_type_name(shape_name)),
                doc: docs::summary(shape.documentation.as_deref().unwrap_or("")),
                fields,
            },
        );
        Ok(Type::Struct(rust_name))
    }

    /// A field for a structure member, named by the renames or the naming rules.
    pub(super) fn member_field(
        &mut self,
        shape_name: &str,
        member_name: &str,
        member: &Member,
    ) -> Result<Field, crate::Error> {
        let renamed = self.cx.rename(shape_name, member_name);
        let name = renamed
            .clone()
            .unwrap_or_else(|| naming::field_name(member_name));
        let rust_name = naming::rust_field(renamed.as_deref().unwrap_or(member_name));
        Ok(Field {
            name,
            rust_name,
            doc: self.cx.member_doc(member),
            ty: self.resolve(&member.shape)?,
            required: false,
            immutable: false,
            source: Source::Member {
                shape: shape_name.to_string(),
                member: member_name.to_string(),
                sdk_name: self.cx.sdk_member_name(shape_name, member_name),
            },
        })
    }
}
