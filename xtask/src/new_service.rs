//! `cargo xtask new-service <alias> [--resource <Kind>]`: scaffolds a service crate from its AWS
//! model.
//!
//! It downloads the model of the botocore release pinned in `codegen/models/BOTOCORE_VERSION`
//! into `codegen/models/<model>/service-2.json`, writes `services/<alias>/` (Cargo.toml,
//! a `generator.toml` guessed from the model, `src/lib.rs`, an empty `src/hooks.rs`,
//! `src/main.rs`), adds the crate to the workspace, runs codegen for it and prints what a human
//! must decide next. The guesses are only guesses: every one is marked `TODO` in the
//! `generator.toml`. When the manager emitter cannot handle the resource's style yet, the config
//! gets `manager = false` with the reason, and only the CR types and the CRD are generated.
//!
//! Nothing is written before the model is known and generation succeeded in memory.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use ack_codegen::{Layout, naming};
use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::codegen_cmd;
use crate::repo_root;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ACK's service alias: the API group is `<alias>.services.k8s.aws`, the crate `ack-<alias>`.
    pub alias: String,
    /// A kind to scaffold (`Topic`): its operations are guessed as Create<Kind>,
    /// Describe/Get<Kind>[Attributes], Update/Set<Kind>[Attributes], Delete<Kind>.
    #[arg(long)]
    pub resource: Option<String>,
    /// botocore's name of the service model, when it is not the alias (e.g. `logs` for ACK's
    /// `cloudwatchlogs`).
    #[arg(long)]
    pub model: Option<String>,
    /// Work under this directory instead of the repository (tests).
    #[arg(long, hide = true)]
    pub root: Option<PathBuf>,
}

/// `cargo xtask new-service`.
pub fn run(args: Args) -> Result<()> {
    let root = args.root.clone().unwrap_or_else(repo_root);
    let alias = args.alias.as_str();
    ensure!(
        !alias.is_empty()
            && alias
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && alias.starts_with(|c: char| c.is_ascii_lowercase()),
        "the service alias {alias:?} must be lower-case letters and digits, as ACK's are (sns, \
         elasticache, apigatewayv2)"
    );
    if let Some(kind) = &args.resource {
        ensure!(
            kind.starts_with(|c: char| c.is_ascii_uppercase())
                && kind.chars().all(|c| c.is_ascii_alphanumeric()),
            "the resource {kind:?} must be an UpperCamelCase kind, as in the model's operation \
             names (Topic for CreateTopic)"
        );
    }
    let crate_dir = root.join("services").join(alias);
    if crate_dir.exists() {
        bail!(
            "services/{alias} exists already: `new-service` only creates services; edit \
             services/{alias}/generator.toml and run `cargo xtask codegen` instead"
        );
    }
    let root_manifest = root.join("Cargo.toml");
    let manifest = fs::read_to_string(&root_manifest)
        .with_context(|| format!("reading {}", root_manifest.display()))?;
    let member = format!("services/{alias}");
    if manifest.contains(&format!("\"{member}\"")) {
        bail!("{member} is a workspace member already");
    }

    let layout = Layout::new(&root);
    let botocore = fs::read_to_string(layout.botocore_version_file())
        .context("reading codegen/models/BOTOCORE_VERSION")?
        .trim()
        .to_string();
    let model_name = args.model.clone().unwrap_or_else(|| alias.to_string());
    let (api_version, model_text) = fetch_model(&botocore, &model_name)?;
    let model: Value = serde_json::from_str(&model_text).context("the model is not JSON")?;
    let sdk = SdkNames::of(&model)?;

    let mut scaffold = Scaffold {
        alias,
        model_name: &model_name,
        api_version: &api_version,
        model: &model,
        sdk: &sdk,
        resource: args
            .resource
            .as_deref()
            .map(|kind| guess_resource(&model, kind))
            .transpose()?,
        manager_refused: None,
    };
    // Try with a manager; if the emitter cannot make one for this style, without.
    let origin = format!("services/{alias}/generator.toml");
    let mut config = scaffold.generator_toml();
    let files = match ack_codegen::lower_service(&origin, &model_text, &config)
        .and_then(|service| ack_codegen::emit::service_files(&service, &member))
    {
        Ok(files) => files,
        Err(ack_codegen::Error::UnsupportedManager { message, .. })
            if scaffold.resource.is_some() =>
        {
            scaffold.manager_refused = Some(message);
            config = scaffold.generator_toml();
            ack_codegen::lower_service(&origin, &model_text, &config)
                .and_then(|service| ack_codegen::emit::service_files(&service, &member))
                .context("generating from the scaffolded generator.toml")?
        }
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context("generating from the scaffolded generator.toml")
            );
        }
    };

    // Everything is known: write.
    let model_file = layout.model_file(&model_name);
    fs::create_dir_all(model_file.parent().expect("model file has a directory"))?;
    fs::write(&model_file, &model_text)?;
    let src = crate_dir.join("src");
    fs::create_dir_all(&src)?;
    fs::write(crate_dir.join("Cargo.toml"), scaffold.cargo_toml())?;
    fs::write(crate_dir.join("generator.toml"), &config)?;
    fs::write(src.join("lib.rs"), scaffold.lib_rs())?;
    fs::write(src.join("hooks.rs"), HOOKS_RS)?;
    fs::write(src.join("main.rs"), scaffold.main_rs())?;
    fs::write(&root_manifest, add_to_workspace(&manifest, &member, &sdk)?)?;
    format_rust(&[
        src.join("lib.rs"),
        src.join("hooks.rs"),
        src.join("main.rs"),
    ]);
    let written = ack_codegen::output::write(&root, &files)?;

    let mut out = String::new();
    let _ = writeln!(out, "[xtask] {}", rel(&root, &model_file));
    for file in [
        "Cargo.toml",
        "generator.toml",
        "src/lib.rs",
        "src/hooks.rs",
        "src/main.rs",
    ] {
        let _ = writeln!(out, "[xtask] services/{alias}/{file}");
    }
    let _ = writeln!(out, "[xtask] Cargo.toml: workspace member {member}");
    for w in &written {
        let _ = writeln!(out, "[xtask] {w}");
    }
    eprint!("{out}");
    println!("{}", scaffold.next_steps());
    Ok(())
}

/// rustfmt on the hand-written files (line widths depend on the alias); a missing rustfmt only
/// leaves them unformatted.
fn format_rust(files: &[PathBuf]) {
    let status = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(files)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("[xtask] rustfmt did not run; `cargo fmt --all` formats the new crate");
    }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The newest API version of `model` in botocore `botocore` and its `service-2.json`.
fn fetch_model(botocore: &str, model: &str) -> Result<(String, String)> {
    let download = std::env::temp_dir().join(format!("ack-rs-new-service-{}", std::process::id()));
    fs::create_dir_all(&download)?;
    let result = (|| {
        let wheel = codegen_cmd::download_botocore(botocore, &download)?;
        let versions = codegen_cmd::model_api_versions(&wheel, model)?;
        let Some(api_version) = versions.last() else {
            bail!(
                "botocore {botocore} has no model named {model:?}; pass botocore's name with \
                 --model (its directory under botocore/data/)"
            );
        };
        let target = download.join("service-2.json");
        codegen_cmd::extract_model(&wheel, &format!("{model}/{api_version}"), &target)?;
        Ok((api_version.clone(), fs::read_to_string(&target)?))
    })();
    let _ = fs::remove_dir_all(&download);
    result
}

/// The AWS SDK for Rust crate of the service: `aws-sdk-` and the model's `serviceId`, lower-case,
/// without spaces or dashes (`SNS` → `aws-sdk-sns`, `Secrets Manager` → `aws-sdk-secretsmanager`).
struct SdkNames {
    package: String,
    ident: String,
    service_id: String,
}

impl SdkNames {
    fn of(model: &Value) -> Result<Self> {
        let service_id = model["metadata"]["serviceId"]
            .as_str()
            .context("the model has no metadata.serviceId")?
            .to_string();
        let name: String = service_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Ok(Self {
            package: format!("aws-sdk-{name}"),
            ident: format!("aws_sdk_{name}"),
            service_id,
        })
    }
}

/// Reading botocore's JSON.
struct Model<'a>(&'a Value);

impl<'a> Model<'a> {
    fn op(&self, name: &str) -> Option<&'a Value> {
        self.0["operations"].get(name)
    }

    fn has_op(&self, name: &str) -> bool {
        self.op(name).is_some()
    }

    fn shape(&self, name: &str) -> Option<&'a Value> {
        self.0["shapes"].get(name)
    }

    fn input(&self, op: &str) -> Option<&'a str> {
        self.op(op)?["input"]["shape"].as_str()
    }

    fn output(&self, op: &str) -> Option<&'a str> {
        self.op(op)?["output"]["shape"].as_str()
    }

    /// Member name → member shape, in the model's order.
    fn members(&self, shape: Option<&str>) -> Vec<(&'a str, &'a str)> {
        let Some(members) = shape
            .and_then(|s| self.shape(s))
            .and_then(|s| s["members"].as_object())
        else {
            return Vec::new();
        };
        members
            .iter()
            .map(|(name, m)| (name.as_str(), m["shape"].as_str().unwrap_or_default()))
            .collect()
    }

    fn member_doc(&self, shape: &str, member: &str) -> &'a str {
        self.shape(shape)
            .and_then(|s| s["members"][member]["documentation"].as_str())
            .unwrap_or_default()
    }

    fn required(&self, shape: Option<&str>) -> Vec<&'a str> {
        shape
            .and_then(|s| self.shape(s))
            .and_then(|s| s["required"].as_array())
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    fn kind_of(&self, shape: &str) -> &'a str {
        self.shape(shape)
            .and_then(|s| s["type"].as_str())
            .unwrap_or_default()
    }

    fn errors(&self, op: &str) -> Vec<&'a str> {
        self.op(op)
            .and_then(|o| o["errors"].as_array())
            .map(|e| e.iter().filter_map(|e| e["shape"].as_str()).collect())
            .unwrap_or_default()
    }

    /// The code AWS sends for an exception, when it is not the shape's name (query and XML
    /// protocols: `NotFoundException` is sent as `NotFound`).
    fn error_code(&self, exception: &str) -> Option<&'a str> {
        let code = self.shape(exception)?["error"]["code"].as_str()?;
        (code != exception).then_some(code)
    }

    /// The single structure member an output wraps the resource in (`DescribeTable` → `Table`).
    fn wrapper(&self, op: &str) -> Option<&'a str> {
        match self.members(self.output(op)).as_slice() {
            [(name, shape)] if self.kind_of(shape) == "structure" => Some(name),
            _ => None,
        }
    }

    /// The structure the resource's members are in: the output, or its wrapped member.
    fn unwrapped_output(&self, op: &str) -> Option<&'a str> {
        let output = self.output(op)?;
        match self.wrapper(op) {
            Some(wrapper) => self.0["shapes"][output]["members"][wrapper]["shape"].as_str(),
            None => Some(output),
        }
    }
}

/// Attribute names listed in a member's documentation (`<li> <p> <code>Name</code> – …`), for
/// attribute maps whose key shape has no enum. Items nested in an attribute's item list its
/// values, not attributes.
fn documented_attributes(doc: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // Per open `<li>`: whether it describes an attribute.
    let mut open: Vec<bool> = Vec::new();
    let mut rest = doc;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if let Some(item) = rest.strip_prefix("<li>") {
            let body = item.trim_start();
            let body = body.strip_prefix("<p>").unwrap_or(body).trim_start();
            let name = body
                .strip_prefix("<code>")
                .and_then(|b| b.split_once("</code>"))
                .filter(|(name, after)| {
                    let after = after.trim_start();
                    name.starts_with(|c: char| c.is_ascii_uppercase())
                        && name.chars().all(|c| c.is_ascii_alphanumeric())
                        && (after.starts_with('–') || after.starts_with('-'))
                })
                .map(|(name, _)| name);
            let in_attribute = open.iter().any(|a| *a);
            if let Some(name) = name.filter(|_| !in_attribute)
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
            open.push(name.is_some());
        } else if rest.starts_with("</li>") {
            open.pop();
        }
        rest = &rest[1..];
    }
    names
}

/// What the model suggests for one kind.
struct ResourceGuess {
    kind: String,
    create: String,
    create_wrapper: Option<String>,
    read_one: String,
    read_wrapper: Option<String>,
    update: Option<String>,
    update_wrapper: Option<String>,
    delete: String,
    attributes: Option<AttributeGuess>,
    /// CRD field name and whether it is in the status.
    identifier: String,
    identifier_member: String,
    /// The member the read call takes it as.
    read_member: String,
    identifier_in_status: bool,
    lookup: Option<String>,
    arn: String,
    arn_note: &'static str,
    immutable: Vec<String>,
    tags: Option<TagGuess>,
    tag_note: Option<String>,
    not_found: Vec<String>,
    terminal: Vec<String>,
    recoverable: Vec<String>,
    error_aliases: Vec<(String, String)>,
    /// Other operations on the resource, as setter suggestions: (field, put, get).
    setter_candidates: Vec<(String, String, String)>,
}

struct AttributeGuess {
    member: String,
    spec: Vec<String>,
    status: Vec<String>,
    from_enum: bool,
}

struct TagGuess {
    field: String,
    format: &'static str,
    key_value: Option<(String, String)>,
    api: &'static str,
    read: String,
    write: String,
    remove: Option<String>,
}

/// `Repository` → `Repositories`, `Table` → `Tables`.
fn plural(kind: &str) -> String {
    match kind.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{kind}s"),
    }
}

fn first_op(m: &Model<'_>, candidates: &[String]) -> Option<String> {
    candidates.iter().find(|c| m.has_op(c)).cloned()
}

fn guess_resource(model: &Value, kind: &str) -> Result<ResourceGuess> {
    let m = Model(model);
    let names = |patterns: &[&str]| -> Vec<String> {
        patterns
            .iter()
            .map(|p| p.replace("{K}", kind))
            .collect::<Vec<_>>()
    };
    let create_candidates = names(&["Create{K}"]);
    let Some(create) = first_op(&m, &create_candidates) else {
        let similar: Vec<&str> = model["operations"]
            .as_object()
            .map(|ops| {
                ops.keys()
                    .filter_map(|op| op.strip_prefix("Create"))
                    .collect()
            })
            .unwrap_or_default();
        bail!(
            "the model has no Create{kind} operation, so {kind} is not a resource of it; kinds \
             with a Create operation: {}",
            similar.join(", ")
        );
    };
    let read_candidates = names(&[
        "Describe{K}",
        "Get{K}",
        "Get{K}Attributes",
        "Describe{K}Attributes",
        "Get{K}Configuration",
        "Head{K}",
        // List-style reads, filtered by the identifier.
        &format!("Describe{}", plural(kind)),
    ]);
    let read_one = first_op(&m, &read_candidates).with_context(|| {
        format!(
            "the model has none of {} to read a {kind}",
            read_candidates.join(", ")
        )
    })?;
    let update = first_op(
        &m,
        &names(&[
            "Update{K}",
            "Set{K}Attributes",
            "Modify{K}",
            "Update{K}Attributes",
            "Put{K}Attributes",
            "Update{K}Configuration",
        ]),
    );
    let delete_candidates = names(&["Delete{K}", "Schedule{K}Deletion"]);
    let delete = first_op(&m, &delete_candidates).with_context(|| {
        format!(
            "the model has none of {} to delete a {kind}",
            delete_candidates.join(", ")
        )
    })?;

    let create_input = m.input(&create);
    let create_members = m.members(create_input);
    let update_members = update
        .as_deref()
        .map(|u| m.members(m.input(u)))
        .unwrap_or_default();
    let create_out = m.unwrapped_output(&create);
    let read_out = m.unwrapped_output(&read_one);
    let output_members: BTreeSet<&str> = m
        .members(create_out)
        .into_iter()
        .chain(m.members(read_out))
        .map(|(n, _)| n)
        .collect();

    // A string map in the create input and the read output: SQS-style attributes.
    let attributes = create_members
        .iter()
        .find(|(name, shape)| {
            m.kind_of(shape) == "map"
                && name.ends_with("Attributes")
                && m.members(read_out).iter().any(|(n, _)| n == name)
        })
        .map(|(name, shape)| {
            let key_shape = m.shape(shape).and_then(|s| s["key"]["shape"].as_str());
            let values: Vec<String> = key_shape
                .and_then(|k| m.shape(k))
                .and_then(|k| k["enum"].as_array())
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .filter(|v| *v != "All")
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let create_doc =
                documented_attributes(m.member_doc(create_input.unwrap_or_default(), name));
            let read_doc = documented_attributes(m.member_doc(read_out.unwrap_or_default(), name));
            let from_enum = !values.is_empty();
            let (spec, status): (Vec<String>, Vec<String>) = if from_enum {
                let spec: Vec<String> = if create_doc.is_empty() {
                    values.clone()
                } else {
                    values
                        .iter()
                        .filter(|v| create_doc.contains(v))
                        .cloned()
                        .collect()
                };
                let status = values
                    .iter()
                    .filter(|v| !spec.contains(v))
                    .cloned()
                    .collect();
                (spec, status)
            } else {
                let status = read_doc
                    .iter()
                    .filter(|v| !create_doc.contains(v))
                    .cloned()
                    .collect();
                (create_doc, status)
            };
            // Keys that are also output members (an ARN the create call returns) stay members.
            let status = status
                .into_iter()
                .filter(|k| !output_members.contains(k.as_str()))
                .collect();
            AttributeGuess {
                member: name.to_string(),
                spec,
                status,
                from_enum,
            }
        });

    // The identifier: the member the read call requires, preferring ARNs, names, ids and URLs;
    // its field is the create input's member of that name (spec) or an output's (status), else
    // the create input's name or the outputs' ARN.
    let read_required = m.required(m.input(&read_one));
    let read_member = read_required
        .iter()
        .find(|r| {
            ["Arn", "ARN", "Name", "Id", "Url", "URL"]
                .iter()
                .any(|s| r.ends_with(s))
        })
        .or(read_required.first())
        .map(|s| s.to_string());
    let in_create = |member: &str| create_members.iter().any(|(n, _)| *n == member);
    // botocore spells members `Name` or `name`, `TopicArn` or `stateMachineArn`.
    let is_name =
        |n: &str| n.eq_ignore_ascii_case("name") || n.eq_ignore_ascii_case(&format!("{kind}Name"));
    let is_arn =
        |n: &str| n.eq_ignore_ascii_case("arn") || n.eq_ignore_ascii_case(&format!("{kind}Arn"));
    let create_name = create_members.iter().map(|(n, _)| *n).find(|n| is_name(n));
    let output_arn = output_members.iter().copied().find(|n| is_arn(n));
    let identifier_member = read_member
        .iter()
        .map(String::as_str)
        .filter(|r| in_create(r) || output_members.contains(r))
        .chain(create_name)
        .chain(output_arn)
        .next()
        .map(str::to_string)
        .with_context(|| {
            format!(
                "cannot tell what names a {kind}: {read_one} requires {}, which neither \
                 {create}'s input nor its output has, and neither has a name or an ARN",
                read_member.as_deref().unwrap_or("no member")
            )
        })?;
    let read_member = read_member.unwrap_or_else(|| identifier_member.clone());
    // A call that finds an identifier only outputs hold (SQS's GetQueueUrl).
    let lookup = (!in_create(&identifier_member))
        .then(|| {
            names(&["Get{K}Url", "Get{K}Arn", "Get{K}Id"])
                .into_iter()
                .find(|op| {
                    m.members(m.output(op))
                        .iter()
                        .any(|(n, _)| *n == identifier_member)
                })
        })
        .flatten();
    let identifier = naming::field_name(&identifier_member);
    let identifier_in_status = !in_create(&identifier_member);

    // The ARN.
    let prefix = model["metadata"]["endpointPrefix"]
        .as_str()
        .unwrap_or("TODO");
    let attribute_arn = attributes
        .as_ref()
        .and_then(|a| a.status.iter().chain(&a.spec).find(|k| is_arn(k)).cloned());
    let (arn, arn_note) = if let Some(key) = attribute_arn {
        (
            format!("{{ attribute = \"{key}\" }}"),
            "the attribute map reports it",
        )
    } else if let Some(member) = output_arn.filter(|a| *a != identifier_member) {
        (
            format!("{{ member = \"{member}\" }}"),
            "the create / read output carries it",
        )
    } else if let Some(name) = create_name.map(naming::field_name) {
        (
            format!(
                "{{ template = \"arn:{{partition}}:{prefix}:{{region}}:{{account}}:{{{name}}}\" }}"
            ),
            "built from the name; check the ARN format in the service's documentation",
        )
    } else {
        (
            format!("{{ template = \"arn:{{partition}}:{prefix}:{{region}}:{{account}}:\" }}"),
            "no ARN member or name found: complete this template",
        )
    };

    // Tags: a tag member of the create input and tag calls.
    let tag_member = create_members
        .iter()
        .find(|(n, shape)| {
            ["tags", "taglist", "tag"].contains(&n.to_ascii_lowercase().as_str())
                && matches!(m.kind_of(shape), "map" | "list")
        })
        .copied();
    let read_tags = first_op(
        &m,
        &names(&[
            "ListTagsForResource",
            "ListTagsOfResource",
            "List{K}Tags",
            "Get{K}Tagging",
            "ListTags",
            "DescribeTags",
        ]),
    );
    let write_tags = first_op(
        &m,
        &names(&[
            "TagResource",
            "Tag{K}",
            "AddTagsToResource",
            "AddTags",
            "Put{K}Tagging",
            "CreateTags",
        ]),
    );
    let remove_tags = first_op(
        &m,
        &names(&[
            "UntagResource",
            "Untag{K}",
            "RemoveTagsFromResource",
            "RemoveTags",
            "Delete{K}Tagging",
            "DeleteTags",
        ]),
    );
    let mut tag_note = None;
    let tags = match (tag_member, read_tags, write_tags) {
        (Some((member, shape)), Some(read), Some(write)) => {
            let (format, key_value) = if m.kind_of(shape) == "map" {
                ("map", None)
            } else {
                let element = m.shape(shape).and_then(|s| s["member"]["shape"].as_str());
                let fields: Vec<&str> = m.members(element).into_iter().map(|(n, _)| n).collect();
                let key = fields.iter().find(|f| f.eq_ignore_ascii_case("key"));
                let value = fields.iter().find(|f| f.eq_ignore_ascii_case("value"));
                let kv = key
                    .zip(value)
                    .map(|(k, v)| (naming::field_name(k), naming::field_name(v)));
                ("key_value_list", kv)
            };
            let api = if write.starts_with("Put") {
                "full_replacement"
            } else {
                "add_remove"
            };
            Some(TagGuess {
                field: naming::field_name(member),
                format,
                key_value,
                api,
                read,
                write,
                remove: remove_tags,
            })
        }
        (None, ..) => {
            tag_note = Some(format!("{create} takes no tags member"));
            None
        }
        _ => {
            tag_note = Some("no tag read / write operations found".to_string());
            None
        }
    };

    // Fields only the create call takes cannot change (unless a setter or hook changes them).
    let tag_member_name = tag_member.map(|(n, _)| n);
    let attribute_member = attributes.as_ref().map(|a| a.member.clone());
    let immutable = create_members
        .iter()
        .filter(|(n, _)| {
            Some(*n) != tag_member_name
                && Some(n.to_string()) != attribute_member
                && !update_members.iter().any(|(u, _)| u == n)
        })
        .map(|(n, _)| naming::field_name(n))
        .collect();

    // Errors.
    let mut all_errors: Vec<&str> = [
        Some(&create),
        Some(&read_one),
        update.as_ref(),
        Some(&delete),
    ]
    .into_iter()
    .flatten()
    .flat_map(|op| m.errors(op))
    .collect();
    all_errors.sort();
    all_errors.dedup();
    let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        all_errors
            .iter()
            .filter(|e| pred(e))
            .map(|e| e.to_string())
            .collect()
    };
    let read_errors = m.errors(&read_one);
    let mut not_found: Vec<String> = read_errors
        .iter()
        .filter(|e| e.contains("NotFound") || e.contains("NoSuch") || e.contains("DoesNotExist"))
        .map(|e| e.to_string())
        .collect();
    if not_found.is_empty() {
        not_found = pick(&|e| e.contains("NotFound") || e.contains("NoSuch"));
    }
    let recoverable_marks = ["InUse", "Concurrent", "Conflict", "InvalidState", "Throttl"];
    let recoverable = pick(&|e| recoverable_marks.iter().any(|s| e.contains(s)));
    let terminal = pick(&|e| {
        (e.starts_with("Invalid")
            || e.contains("Validation")
            || e.contains("AlreadyExists")
            || e.contains("Malformed"))
            && !recoverable_marks.iter().any(|s| e.contains(s))
    });
    let error_aliases = not_found
        .iter()
        .chain(&terminal)
        .chain(&recoverable)
        .filter_map(|e| m.error_code(e).map(|c| (e.clone(), c.to_string())))
        .collect();

    // Put/Get pairs on the same resource that the guessed calls do not cover.
    let used: BTreeSet<&str> = [
        Some(create.as_str()),
        Some(read_one.as_str()),
        update.as_deref(),
        Some(delete.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut setter_candidates = Vec::new();
    if let Some(ops) = model["operations"].as_object() {
        for put in ops.keys() {
            let Some(rest) = put.strip_prefix("Put") else {
                continue;
            };
            let get = format!("Get{rest}");
            let on_resource = m.required(m.input(put)).iter().any(|r| {
                *r == read_member
                    || *r == identifier_member
                    || r.ends_with("Arn")
                    || r.starts_with(kind)
            });
            if !used.contains(put.as_str())
                && m.has_op(&get)
                && on_resource
                && !put.contains("Tagging")
            {
                setter_candidates.push((rest.to_string(), put.clone(), get));
            }
        }
    }

    Ok(ResourceGuess {
        kind: kind.to_string(),
        create_wrapper: m.wrapper(&create).map(str::to_string),
        read_wrapper: m.wrapper(&read_one).map(str::to_string),
        update_wrapper: update
            .as_deref()
            .and_then(|u| m.wrapper(u))
            .map(str::to_string),
        create,
        read_one,
        update,
        delete,
        attributes,
        identifier,
        identifier_member,
        read_member,
        identifier_in_status,
        lookup,
        arn,
        arn_note,
        immutable,
        tags,
        tag_note,
        not_found,
        terminal,
        recoverable,
        error_aliases,
        setter_candidates,
    })
}

/// TOML string list on one line.
fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn op_ref(op: &str, wrapper: Option<&str>) -> String {
    match wrapper {
        Some(w) => format!("{{ operation = \"{op}\", output_wrapper = \"{w}\" }}"),
        None => format!("\"{op}\""),
    }
}

struct Scaffold<'a> {
    alias: &'a str,
    model_name: &'a str,
    api_version: &'a str,
    model: &'a Value,
    sdk: &'a SdkNames,
    resource: Option<ResourceGuess>,
    /// Why the manager emitter refused the resource, when it did.
    manager_refused: Option<String>,
}

impl Scaffold<'_> {
    fn generator_toml(&self) -> String {
        let mut t = String::new();
        let alias = self.alias;
        let model = self.model_name;
        let _ = writeln!(
            t,
            "# ack-codegen config for the {} controller (see codegen/src/config.rs for every key, and\n\
             # docs/adding-a-service.md). Scaffolded by `cargo xtask new-service`: every `TODO` is a guess\n\
             # from the model that a human must confirm against AWS's documentation and ACK's\n\
             # {alias}-controller (its generator.yaml and CRDs).\n\
             # Operations, shapes and members are botocore's names (codegen/models/{model}/service-2.json);\n\
             # resource fields are the CRD's names.",
            self.sdk.service_id
        );
        let _ = writeln!(
            t,
            "\n# Members left out wherever their shape appears (\"Shape.Member\").\nignore = []"
        );
        if let Some(r) = &self.resource {
            let clashes: Vec<String> = [
                r.kind.clone(),
                format!("{}Spec", r.kind),
                format!("{}Status", r.kind),
            ]
            .into_iter()
            .filter(|s| self.model["shapes"].get(s).is_some())
            .collect();
            if !clashes.is_empty() {
                let _ = writeln!(
                    t,
                    "\n# Model shapes whose Rust names the CR types take.\n[rust_type_names]"
                );
                for shape in clashes {
                    let _ = writeln!(t, "{shape} = \"Aws{shape}\"");
                }
            }
        }
        t.push('\n');
        let _ = writeln!(
            t,
            "[service]\nmodel = \"{model}\"\napi_version = \"{}\"\nalias = \"{alias}\"\n",
            self.api_version
        );
        let _ = writeln!(
            t,
            "[sdk]\n# TODO: check the crate name on crates.io (aws-sdk-<serviceId>).\ncrate = \"{}\"",
            self.sdk.ident
        );
        let aliases = self
            .resource
            .as_ref()
            .map(|r| r.error_aliases.as_slice())
            .unwrap_or_default();
        if !aliases.is_empty() {
            let _ = writeln!(
                t,
                "\n[sdk.error_aliases]\n# The codes AWS sends for these exceptions (the model's `error.code`)."
            );
            for (exception, code) in aliases {
                let _ = writeln!(t, "{exception} = [\"{code}\"]");
            }
        }
        let Some(r) = &self.resource else {
            let _ = writeln!(
                t,
                "\n# TODO: one [resources.<Kind>] table per kind, as services/sqs/generator.toml and\n\
                 # docs/adding-a-service.md show.\n[resources]"
            );
            return t;
        };
        let kind = &r.kind;
        let _ = writeln!(t, "\n[resources.{kind}]");
        let _ = writeln!(
            t,
            "# TODO: confirm the operations (guessed from their names).\ncreate = {}\nread_one = {}",
            op_ref(&r.create, r.create_wrapper.as_deref()),
            op_ref(&r.read_one, r.read_wrapper.as_deref())
        );
        match &r.update {
            Some(update) => {
                let _ = writeln!(
                    t,
                    "update = {}",
                    op_ref(update, r.update_wrapper.as_deref())
                );
            }
            None => {
                let _ = writeln!(
                    t,
                    "# No Update{kind}-like operation: every mutable field needs a setter (below)."
                );
            }
        }
        let _ = writeln!(t, "delete = \"{}\"", r.delete);
        let place = if r.identifier_in_status {
            format!("status field, from {}'s output", r.create)
        } else {
            format!("spec field, from {}'s input", r.create)
        };
        let _ = writeln!(
            t,
            "# TODO: every call after {} names the {kind} by {}: the {place} {}.\n\
             identifier = \"{}\"\n\
             # TODO: the keys of the `services.k8s.aws/adoption-fields` annotation (ACK's names).\n\
             adoption_fields = [\"{}\"]\n\
             # TODO: {}.\n\
             arn = {}",
            r.create,
            r.read_member,
            r.identifier_member,
            r.identifier,
            r.identifier,
            r.arn_note,
            r.arn
        );
        match (&r.lookup, r.identifier_in_status) {
            (Some(lookup), _) => {
                let _ = writeln!(
                    t,
                    "# TODO: until the status holds {}, {lookup} finds it from spec fields.\n\
                     lookup = \"{lookup}\"",
                    r.identifier
                );
            }
            (None, true) => {
                let _ = writeln!(
                    t,
                    "# TODO: while the status does not hold {}, a `lookup` operation finds it from spec\n\
                     # fields (SQS's GetQueueUrl); the attribute-map manager needs one.\n# lookup = \"\"",
                    r.identifier
                );
            }
            (None, false) => {}
        }
        let _ = writeln!(
            t,
            "# TODO: fields {} takes that {} does not; drop those a setter or hook can change.\n\
             immutable = {}",
            r.create,
            r.update.as_deref().unwrap_or("no update call"),
            list(&r.immutable)
        );
        let _ = writeln!(
            t,
            "# Top-level spec fields required beyond what {} requires.\nrequired = []",
            r.create
        );
        let _ = writeln!(
            t,
            "# Where src/hooks/<kind>.rs takes part (before_create, after_create, after_read_one,\n\
             # before_update, after_update, before_delete, delta, late_initialize, is_synced,\n\
             # after_adoption_fields); each one listed must exist in src/hooks/."
        );
        let _ = writeln!(t, "hooks = []");
        match &self.manager_refused {
            None => {
                let _ = writeln!(t, "manager = true");
            }
            Some(reason) => {
                let _ = writeln!(
                    t,
                    "# TODO: the manager emitter cannot make a manager for this style yet:\n\
                     #   {}\n\
                     # Only the CR types and the CRD are generated until it can (or the config fits).\n\
                     manager = false",
                    reason.replace('\n', "\n#   ")
                );
            }
        }

        if let Some(a) = &r.attributes {
            let source = if a.from_enum {
                "the key enum"
            } else {
                "the member's documentation"
            };
            let _ = writeln!(
                t,
                "\n# {} carries a string map; ACK flattens it into one string field per attribute.\n\
                 # TODO: the names come from {source}: check them, and move create-only ones to\n\
                 # `create_only`.\n\
                 [resources.{kind}.attributes]\nmember = \"{}\"\nspec = {}\nstatus = {}\ncreate_only = []",
                r.create,
                a.member,
                list(&a.spec),
                list(&a.status)
            );
        }

        match &r.tags {
            Some(tags) => {
                let _ = writeln!(
                    t,
                    "\n# TODO: check the tag calls; `api` is how the write call treats tags it is not given\n\
                     # (`add_remove`: kept, with a remove call; `full_replacement`: dropped).\n\
                     [resources.{kind}.tags]\nfield = \"{}\"\nformat = \"{}\"",
                    tags.field, tags.format
                );
                if let Some((key, value)) = &tags.key_value {
                    let _ = writeln!(t, "key = \"{key}\"\nvalue = \"{value}\"");
                }
                let _ = writeln!(
                    t,
                    "api = \"{}\"\nread = \"{}\"\nwrite = \"{}\"",
                    tags.api, tags.read, tags.write
                );
                if let Some(remove) = &tags.remove {
                    let _ = writeln!(t, "remove = \"{remove}\"");
                }
                // The tag field was found among the create input's members.
                let _ = writeln!(
                    t,
                    "# The create call takes the tags: a new resource gets them all with it.\nwith_create = true"
                );
            }
            None => {
                let _ = writeln!(
                    t,
                    "\n# TODO: no tags guessed ({}); see [resources.<Kind>.tags] in codegen/src/config.rs.",
                    r.tag_note.as_deref().unwrap_or("")
                );
            }
        }

        let _ = writeln!(
            t,
            "\n# TODO: which error codes need the user (terminal), pass by themselves although sent as\n\
             # client errors (recoverable), or mean the {kind} does not exist (not_found: model exceptions).\n\
             [resources.{kind}.errors]\nterminal = {}\nrecoverable = {}\nnot_found = {}",
            list(&r.terminal),
            list(&r.recoverable),
            list(&r.not_found)
        );

        let _ = writeln!(
            t,
            "\n# `kubectl get` columns; the generator appends Synced and Age. TODO: ACK's columns.\n\
             [[resources.{kind}.print_columns]]\nname = \"ARN\"\njson_path = \".status.ackResourceMetadata.arn\"\ntype = \"string\"\npriority = 1"
        );

        if !r.setter_candidates.is_empty() {
            let _ = writeln!(
                t,
                "\n# TODO: operations with their own put/get calls that may belong to the {kind} as\n\
                 # setters (a spec field each); uncomment those that do."
            );
            for (field, put, get) in &r.setter_candidates {
                let _ = writeln!(
                    t,
                    "# [[resources.{kind}.setters]]\n# field = \"{field}\"\n# put = \"{put}\"\n# get = \"{get}\""
                );
            }
        }
        t
    }

    fn manager_type(&self) -> Option<String> {
        let r = self.resource.as_ref()?;
        self.manager_refused
            .is_none()
            .then(|| format!("{}Manager", r.kind))
    }

    fn cargo_toml(&self) -> String {
        let alias = self.alias;
        format!(
            r#"[package]
name = "ack-{alias}"
description = "The {id} controller: custom resource types and resource manager generated from AWS's model, plus hooks."
version.workspace = true
edition.workspace = true
license.workspace = true
publish = false

[[bin]]
name = "{alias}-controller"
path = "src/main.rs"

[dependencies]
ack-runtime = {{ path = "../../runtime" }}
anyhow.workspace = true
{sdk}.workspace = true
kube.workspace = true
# A binary picks the Kubernetes API version it is built for.
k8s-openapi = {{ workspace = true, features = ["v1_36"] }}
schemars.workspace = true
serde.workspace = true
serde_json.workspace = true
tokio.workspace = true
"#,
            id = self.sdk.service_id,
            sdk = self.sdk.package,
        )
    }

    fn lib_rs(&self) -> String {
        format!(
            "//! The {id} controller (ACK-compatible): custom resource types{manager}, generated by\n\
             //! `ack-codegen` from AWS's model and `generator.toml`, and the hand-written hooks the\n\
             //! generated code calls for {id}'s quirks.\n\
             \n\
             // prettyplease formats the generated code; rustfmt would only reflow it.\n\
             #[rustfmt::skip]\n\
             pub mod generated;\n\
             pub mod hooks;\n\
             \n\
             pub use generated::*;\n",
            id = self.sdk.service_id,
            manager = match &self.resource {
                Some(r) if self.manager_refused.is_none() =>
                    format!(" and the {} resource manager", r.kind),
                _ => String::new(),
            }
        )
    }

    fn main_rs(&self) -> String {
        let alias = self.alias;
        let sdk = &self.sdk.ident;
        let crate_ident = format!("ack_{alias}");
        let run = |manager: &str| {
            format!(
                r#"process::run(
        "{alias}",
        env!("CARGO_PKG_VERSION"),
        |ctx: ManagerContext| async move {{
            let config = {sdk}::config::Builder::from(&ctx.sdk)
                .interceptor(CallCounter {{
                    service: "{alias}",
                    metrics: ctx.metrics,
                }})
                .build();
            Ok({manager}::new({sdk}::Client::from_conf(config)))
        }},
    )
    .await"#
            )
        };
        match self.manager_type() {
            Some(manager) => format!(
                r#"//! `{alias}-controller`: the ACK-compatible {id} controller process.

use {crate_ident}::{manager};
use ack_runtime::aws::CallCounter;
use ack_runtime::process::{{self, ManagerContext}};

#[tokio::main]
async fn main() -> anyhow::Result<()> {{
    {run}
}}
"#,
                id = self.sdk.service_id,
                run = run(&manager),
            ),
            None => {
                let kind = self
                    .resource
                    .as_ref()
                    .map(|r| r.kind.clone())
                    .unwrap_or_else(|| "<Kind>".into());
                let example: String = format!(
                    "use ack_runtime::aws::CallCounter;\n\
                     use ack_runtime::process::{{self, ManagerContext}};\n\
                     use {crate_ident}::{kind}Manager;\n\
                     \n\
                     #[tokio::main]\n\
                     async fn main() -> anyhow::Result<()> {{\n    {}\n}}",
                    run(&format!("{kind}Manager"))
                )
                .lines()
                .map(|l| format!("//! {l}").trim_end().to_string() + "\n")
                .collect();
                format!(
                    r#"//! `{alias}-controller`: the ACK-compatible {id} controller process.
//!
//! No resource manager is generated yet (`manager = false` in generator.toml), so there is
//! nothing to run. Once `{kind}Manager` is generated, `main` becomes:
//!
//! ```ignore
{example}//! ```

fn main() -> anyhow::Result<()> {{
    anyhow::bail!(
        "{alias}-controller has no resource manager yet: see services/{alias}/generator.toml"
    )
}}
"#,
                    id = self.sdk.service_id,
                )
            }
        }
    }

    fn next_steps(&self) -> String {
        let alias = self.alias;
        let mut s = format!(
            "\nScaffolded services/{alias} (crate ack-{alias}) from botocore's {} model {}.\n",
            self.model_name, self.api_version
        );
        match (&self.resource, &self.manager_refused) {
            (None, _) => {
                s += "No resource was given: add a [resources.<Kind>] table (or rerun with \
                      --resource <Kind> on a fresh copy).\n"
            }
            (Some(r), None) => {
                let _ = writeln!(
                    s,
                    "{} gets a generated resource manager ({}Manager).",
                    r.kind, r.kind
                );
            }
            (Some(r), Some(reason)) => {
                let _ = writeln!(
                    s,
                    "The manager emitter cannot make a {} manager yet, so only the CR types and the\n\
                     CRD are generated (manager = false); the controller binary exits with an error.\n  \
                     reason: {reason}",
                    r.kind
                );
            }
        }
        let _ = write!(
            s,
            "Next steps (docs/adding-a-service.md):\n\
             1. Review every TODO in services/{alias}/generator.toml against AWS's documentation and\n   \
                ACK's {alias}-controller; then `cargo xtask codegen`.\n\
             2. Put service quirks in services/{alias}/src/hooks/<kind>.rs (listed under `hooks`),\n   \
                never in runtime/.\n\
             3. `cargo clippy -p ack-{alias} --all-targets -- -D warnings`.\n\
             4. Add tests: services/{alias}/tests/e2e.rs on the test world (see services/sqs/tests/e2e.rs)\n   \
                and a schema_agrees.rs like services/sqs/tests/schema_agrees.rs.\n\
             5. When the controller runs, add \"{alias}\" to SERVICES in xtask/src/charts.rs and run\n   \
                `cargo xtask charts`.\n"
        );
        // The model's full name, for the reader.
        if let Some(name) = self.model["metadata"]["serviceFullName"].as_str() {
            let _ = writeln!(s, "(Service: {name}.)");
        }
        s
    }
}

const HOOKS_RS: &str = "//! Hand-written code the generated managers call, one module per kind, at the points\n\
//! `generator.toml` lists under `hooks` (signatures: `ack_codegen::emit::manager`). None yet:\n\
//! add `pub mod <kind>;` and `src/hooks/<kind>.rs` with the first hook.\n";

/// The root manifest with `member` in `workspace.members` and the SDK crate in
/// `workspace.dependencies` (next to the other AWS SDK crates).
fn add_to_workspace(manifest: &str, member: &str, sdk: &SdkNames) -> Result<String> {
    let start = manifest
        .find("members = [")
        .context("the root Cargo.toml has no `members = [` list")?;
    let close = start
        + manifest[start..]
            .find(']')
            .context("the workspace members list is not closed")?;
    let inside = manifest[start + "members = [".len()..close].trim_end();
    let (before, after) = if inside.ends_with(',') || inside.is_empty() {
        let sep = if manifest[start..close].contains('\n') {
            "    "
        } else {
            ""
        };
        (
            format!(
                "{}\n{sep}\"{member}\",\n",
                &manifest[..start + "members = [".len() + inside.len()]
            ),
            &manifest[close..],
        )
    } else {
        (
            format!(
                "{}, \"{member}\"",
                &manifest[..start + "members = [".len() + inside.len()]
            ),
            &manifest[start + "members = [".len() + inside.len()..],
        )
    };
    let mut out = format!("{before}{after}");
    let dep_key = format!("\n{} =", sdk.package);
    if !out.contains(&dep_key) {
        let line = format!(
            "{} = {{ version = \"1\", default-features = false, features = [\"rt-tokio\", \"default-https-client\", \"behavior-version-latest\"] }}\n",
            sdk.package
        );
        let deps = out
            .find("[workspace.dependencies]")
            .context("the root Cargo.toml has no [workspace.dependencies]")?;
        // After the last `aws-sdk-` line of the table, else at its top.
        let table_end = out[deps + 1..]
            .find("\n[")
            .map(|i| deps + 1 + i + 1)
            .unwrap_or(out.len());
        let at = out[deps..table_end]
            .rfind("\naws-sdk-")
            .map(|i| {
                let line_start = deps + i + 1;
                line_start + out[line_start..].find('\n').map_or(0, |n| n + 1)
            })
            .unwrap_or_else(|| deps + "[workspace.dependencies]\n".len());
        out.insert_str(at, &line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> SdkNames {
        SdkNames {
            package: "aws-sdk-sns".into(),
            ident: "aws_sdk_sns".into(),
            service_id: "SNS".into(),
        }
    }

    #[test]
    fn adds_a_member_and_the_sdk() {
        let manifest = "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.dependencies]\nx = \"1\"\naws-sdk-s3 = { version = \"1\" }\nz = \"1\"\n\n[profile.dev]\n";
        let out = add_to_workspace(manifest, "services/sns", &sdk()).unwrap();
        assert!(
            out.contains("members = [\"a\", \"b\", \"services/sns\"]\n"),
            "{out}"
        );
        assert!(
            out.contains("aws-sdk-s3 = { version = \"1\" }\naws-sdk-sns = { version = \"1\""),
            "{out}"
        );
    }

    #[test]
    fn adds_a_member_to_a_multi_line_list() {
        let manifest = "[workspace]\nmembers = [\n    \"a\",\n    \"b\",\n]\n\n[workspace.dependencies]\naws-sdk-sns = \"1\"\n";
        let out = add_to_workspace(manifest, "services/sns", &sdk()).unwrap();
        assert!(
            out.contains("members = [\n    \"a\",\n    \"b\",\n    \"services/sns\",\n]"),
            "{out}"
        );
        assert_eq!(out.matches("aws-sdk-sns").count(), 1);
    }

    #[test]
    fn finds_documented_attribute_names() {
        let doc = "<ul> <li> <p> <code>DeliveryPolicy</code> – The policy.</p> </li> \
                   <li> <p>HTTP</p> <ul> <li> <p> <code>HTTPRoleArn</code> - A role.</p> </li> </ul> </li> \
                   <li> <p> <code>Scope</code> – One of:</p> <ul> <li> <p> <code>Topic</code> – the \
                   topic.</p> </li> </ul> </li> <li> <p> <code>email</code> – lower case</p> </li> </ul>";
        assert_eq!(
            documented_attributes(doc),
            ["DeliveryPolicy", "HTTPRoleArn", "Scope"]
        );
    }
}
