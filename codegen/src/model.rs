//! botocore's service model (`service-2.json`): the parts the generator reads.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;

#[derive(Debug, Deserialize)]
pub struct Model {
    pub metadata: Metadata,
    pub operations: BTreeMap<String, Operation>,
    pub shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    pub service_id: String,
    #[serde(default)]
    pub protocol: String,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub input: Option<ShapeRef>,
    #[serde(default)]
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    #[serde(default)]
    pub documentation: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ShapeRef {
    pub shape: String,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: ShapeKind,
    #[serde(default)]
    pub members: BTreeMap<String, Member>,
    #[serde(default)]
    pub required: Vec<String>,
    /// Allowed values of a string shape.
    #[serde(default, rename = "enum")]
    pub values: Vec<String>,
    /// List element.
    #[serde(default)]
    pub member: Option<Member>,
    #[serde(default)]
    pub key: Option<ShapeRef>,
    #[serde(default)]
    pub value: Option<ShapeRef>,
    /// The member that is the HTTP body (REST protocols).
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub exception: bool,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub documentation: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeKind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
    /// Free-form JSON (smithy `document`).
    Document,
    /// A kind this generator does not know; resolving a field of it is an error.
    #[serde(other)]
    Unsupported,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    pub shape: String,
    #[serde(default)]
    pub documentation: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
}

impl Model {
    pub fn parse(service: &str, json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|source| Error::Model {
            service: service.to_string(),
            source,
        })
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// Whether an exception shape of this name exists.
    pub fn has_exception(&self, code: &str) -> bool {
        self.shape(code).is_some_and(|s| s.exception)
    }
}
