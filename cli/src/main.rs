//! `ack-rs`: the command-line tool for moving AWS resources under ack-rs's controllers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ack_rs_cli::cloudformation;
use ack_rs_cli::import::{self, Import, KeySchema};
use ack_rs_cli::kinds;
use ack_rs_cli::output::{self, Format};
use ack_rs_cli::status;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
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
        Command::Status { namespace, output } => {
            let client = kube::Client::try_default()
                .await
                .context("connecting to Kubernetes (KUBECONFIG or in-cluster)")?;
            let rows = status::rows(&client, namespace.as_deref()).await?;
            match output::structured(output, &rows)? {
                Some(text) => print!("{text}"),
                None => print!("{}", status_table(&rows)),
            }
            Ok(())
        }
    }
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
