//! `ack-rs`: the command-line tool for moving AWS resources under ack-rs's controllers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ack_rs_cli::cloudformation;
use ack_rs_cli::import::{self, Import, KeySchema};
use ack_rs_cli::kinds;
use ack_rs_cli::output::{self, Format};
use ack_rs_cli::plan;
use ack_rs_cli::status;
use ack_runtime::DefaultTags;
use ack_runtime::tags::DEFAULT_RESOURCE_TAGS;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "ack-rs",
    version,
    about = "Move AWS resources under ack-rs's controllers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write adoption CRs for the resources an infrastructure-as-code tool made.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// What switching CRs to managed would do in AWS, field by field and tag by tag, read with
    /// the controllers' own managers. Exit status 0: nothing would change; 2: something would.
    Plan {
        /// KIND/NAME as kubectl takes it, e.g. `queue/jobs`.
        target: Option<String>,
        #[arg(short, long)]
        namespace: Option<String>,
        /// Every Bucket, Queue and Table (in the namespace, or all namespaces).
        #[arg(long, conflicts_with_all = ["target", "filename"])]
        all: bool,
        /// CRs from a file instead of the cluster (`-` for stdin), e.g. `helm template` of the
        /// values you are about to switch to.
        #[arg(short = 'f', long, conflicts_with = "target")]
        filename: Option<PathBuf>,
        /// The controllers' `--resource-tags` (their default tags).
        #[arg(long, default_value = DEFAULT_RESOURCE_TAGS)]
        resource_tags: String,
        /// The controllers' `--cluster-id`, the cluster named in ownership tags (default: the
        /// `kube-system` namespace's UID, as the controllers read it).
        #[arg(long)]
        cluster_id: Option<String>,
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Every ACK resource with its mode (adopting, adopted, read-only, managed), Synced, and
    /// its last error.
    Status {
        /// Only this namespace (default: all namespaces).
        #[arg(short, long)]
        namespace: Option<String>,
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
}

#[derive(Subcommand)]
enum ImportSource {
    /// A CloudFormation stack, nested stacks included: one CR per resource a controller serves,
    /// with `adoption-policy: adopt` and `deletion-policy: retain`.
    Cloudformation {
        /// The stack's name or ID.
        #[arg(long)]
        stack: String,
        /// The stack's region (default: the AWS SDK's, e.g. AWS_REGION).
        #[arg(long)]
        region: Option<String>,
        /// The namespace written into each CR (default: none, so `kubectl apply -n` decides).
        #[arg(long)]
        namespace: Option<String>,
        /// Write one file per CR into this directory instead of one YAML stream to stdout.
        #[arg(short = 'o', long = "output-dir", conflicts_with = "helm_values")]
        output_dir: Option<PathBuf>,
        /// Write values for examples/app-chart (one bucket, queue and table) instead of CRs.
        #[arg(long)]
        helm_values: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Import {
            source:
                ImportSource::Cloudformation {
                    stack,
                    region,
                    namespace,
                    output_dir,
                    helm_values,
                },
        } => {
            let import = read_stack(&stack, region, namespace.as_deref()).await?;
            eprint!("{}", summary(&import));
            if helm_values {
                print!("{}", output::yaml(&import::app_chart_values(&import)?));
            } else if let Some(dir) = output_dir {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                for adoption in &import.adoptions {
                    let path = dir.join(import::file_name(adoption));
                    std::fs::write(&path, import::to_yaml(std::slice::from_ref(adoption)))
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
            } else {
                print!("{}", import::to_yaml(&import.adoptions));
            }
            Ok(())
        }
        Command::Plan {
            target,
            namespace,
            all,
            filename,
            resource_tags,
            cluster_id,
            output,
        } => {
            let defaults = DefaultTags::parse(&resource_tags)?;
            let cluster_id = match cluster_id {
                Some(id) => {
                    ack_runtime::tags::check_cluster_id(&id).map_err(anyhow::Error::msg)?;
                    id
                }
                None => ack_runtime::process::cluster_id(&kube_client().await?, None).await?,
            };
            let objects = match (filename, target) {
                (Some(file), _) => objects_from_file(&file, namespace.as_deref())?,
                (None, Some(target)) => vec![get_target(&target, namespace.as_deref()).await?],
                (None, None) if all => list_plannable(namespace.as_deref()).await?,
                (None, None) => anyhow::bail!("name a CR (KIND/NAME), --all, or -f FILE"),
            };
            let sdk = aws_config::load_from_env().await;
            let managers = plan::Managers::new(&sdk);
            let mut plans = Vec::new();
            for obj in &objects {
                plans.push(plan::plan_object(&managers, obj, &defaults, &cluster_id).await?);
            }
            match output::structured(output, &plans)? {
                Some(text) => print!("{text}"),
                None => print!("{}", plan::render(&plans)),
            }
            if plans.iter().any(|p| !p.plan.is_empty()) {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Status { namespace, output } => {
            let client = kube_client().await?;
            let rows = status::rows(&client, namespace.as_deref()).await?;
            match output::structured(output, &rows)? {
                Some(text) => print!("{text}"),
                None => print!("{}", status_table(&rows)),
            }
            Ok(())
        }
    }
}

async fn kube_client() -> Result<kube::Client> {
    kube::Client::try_default()
        .await
        .context("connecting to Kubernetes (KUBECONFIG or in-cluster)")
}

/// The API of a kind the tool plans, by kubectl's names for it (`queue`, `queues`, `Queue`).
fn plannable_kind(name: &str) -> Result<ApiResource> {
    let lower = name.to_ascii_lowercase();
    kinds::SERVED
        .iter()
        .find(|k| k.kind.to_ascii_lowercase() == lower || k.plural == lower)
        .map(|k| {
            ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(k.group, "v1alpha1", k.kind),
                k.plural,
            )
        })
        .with_context(|| {
            format!("ack-rs cannot plan {name:?}: it plans buckets, queues and tables")
        })
}

async fn get_target(target: &str, namespace: Option<&str>) -> Result<DynamicObject> {
    let (kind, name) = target
        .split_once('/')
        .with_context(|| format!("expected KIND/NAME, got {target:?}"))?;
    let resource = plannable_kind(kind)?;
    let client = kube_client().await?;
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::default_namespaced_with(client, &resource),
    };
    api.get(name)
        .await
        .with_context(|| format!("reading {kind}/{name}"))
}

async fn list_plannable(namespace: Option<&str>) -> Result<Vec<DynamicObject>> {
    let client = kube_client().await?;
    let mut out = Vec::new();
    for kind in kinds::SERVED {
        let resource = plannable_kind(kind.kind)?;
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        match api.list(&ListParams::default()).await {
            Ok(list) => out.extend(list.items),
            // A kind whose CRD is not installed has nothing to plan.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e).with_context(|| format!("listing {}", kind.plural)),
        }
    }
    Ok(out)
}

/// The plannable CRs of a YAML stream; other kinds are named on stderr and skipped.
fn objects_from_file(path: &Path, namespace: Option<&str>) -> Result<Vec<DynamicObject>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = Value::deserialize(doc)?;
        if value.is_null() {
            continue;
        }
        let mut obj: DynamicObject = serde_json::from_value(value)?;
        let types = obj.types.clone().unwrap_or_default();
        let group = types.api_version.split('/').next().unwrap_or_default();
        if !plan::plannable(group, &types.kind) {
            eprintln!(
                "skipping {} {:?}: not a kind ack-rs plans",
                types.kind, obj.metadata.name
            );
            continue;
        }
        if obj.metadata.namespace.is_none() {
            obj.metadata.namespace = namespace.map(str::to_string);
        }
        out.push(obj);
    }
    Ok(out)
}

async fn read_stack(
    stack: &str,
    region: Option<String>,
    namespace: Option<&str>,
) -> Result<Import> {
    let mut loader = aws_config::from_env();
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    let sdk = loader.load().await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let resources = cloudformation::stack_resources(&cfn, stack, &mut |name, n| {
        eprintln!("read stack {name}: {n} resources");
    })
    .await?;
    // The Table CRD requires the key schema, which only DynamoDB knows for sure (a template's
    // may be computed).
    let mut key_schemas = BTreeMap::new();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    for resource in &resources {
        let needs = kinds::served(&resource.resource_type).is_some_and(|k| k.needs_key_schema);
        let Some(table) = resource
            .physical_id
            .as_deref()
            .filter(|_| needs && resource.exists())
        else {
            continue;
        };
        match table_keys(&dynamodb, table).await {
            Ok(keys) => {
                key_schemas.insert(table.to_string(), keys);
            }
            Err(e) => eprintln!("could not describe table {table}: {e:#}"),
        }
    }
    Ok(import::plan(&resources, namespace, &key_schemas))
}

async fn table_keys(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<KeySchema> {
    let described = dynamodb.describe_table().table_name(table).send().await?;
    let table = described.table.context("DescribeTable answered no table")?;
    let key_schema: Vec<Value> = table
        .key_schema()
        .iter()
        .map(|k| json!({"attributeName": k.attribute_name(), "keyType": k.key_type().as_str()}))
        .collect();
    let attribute_definitions: Vec<Value> = table
        .attribute_definitions()
        .iter()
        .map(|d| {
            json!({"attributeName": d.attribute_name(), "attributeType": d.attribute_type().as_str()})
        })
        .collect();
    Ok(KeySchema {
        key_schema: key_schema.into(),
        attribute_definitions: attribute_definitions.into(),
    })
}

fn summary(import: &Import) -> String {
    let mut out = String::new();
    if !import.adoptions.is_empty() {
        let rows: Vec<Vec<String>> = import
            .adoptions
            .iter()
            .map(|a| {
                vec![
                    a.stack_name.clone(),
                    a.logical_id.clone(),
                    a.kind.clone(),
                    a.name.clone(),
                    a.physical_id.clone(),
                ]
            })
            .collect();
        out += &output::table(
            &["STACK", "LOGICAL ID", "KIND", "NAME", "AWS RESOURCE"],
            &rows,
        );
    }
    if !import.skipped.is_empty() {
        out += "\nnot imported:\n";
        let rows: Vec<Vec<String>> = import
            .skipped
            .iter()
            .map(|s| {
                vec![
                    s.stack_name.clone(),
                    s.logical_id.clone(),
                    s.resource_type.clone(),
                    s.reason.clone(),
                ]
            })
            .collect();
        out += &output::table(&["STACK", "LOGICAL ID", "TYPE", "WHY"], &rows);
    }
    out
}

fn status_table(rows: &[status::Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.namespace.clone(),
                r.kind.clone(),
                r.name.clone(),
                serde_json::to_value(r.mode)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                r.synced.clone(),
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &["NAMESPACE", "KIND", "NAME", "MODE", "SYNCED", "LAST ERROR"],
        &cells,
    )
}
