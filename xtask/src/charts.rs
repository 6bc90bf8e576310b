//! `cargo xtask charts [--check]`: the Helm charts `charts/<svc>-controller/`, rendered from one
//! template source so the services' charts never drift apart, nor from the CRDs.
//!
//! `xtask/templates/chart/` is an ordinary Helm chart in which a few `@@NAME@@` placeholders stand
//! for the per-service facts (see [`placeholders`]); they are taken from [`SERVICES`] and from the
//! service's CRDs in `crds/`, which are copied into the chart's `crds/`. Only `Chart.yaml`,
//! `values.yaml`, `values.schema.json`, `README.md` and `templates/_helpers.tpl` use placeholders;
//! every other template renders to the same text for every service. A placeholder the generator
//! does not know is an error, so a typo cannot reach a chart.
//!
//! Everything under `charts/<svc>-controller/` is generated: `--check` reports files that differ,
//! are missing, or should not be there, and a plain run rewrites and removes them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

use crate::repo_root;

/// The services that get a chart: alias (as in the API group and binary name) and product name.
pub const SERVICES: &[Service] = &[
    Service {
        alias: "s3",
        title: "Amazon S3",
        ack_kinds: &["Bucket"],
    },
    Service {
        alias: "sqs",
        title: "Amazon SQS",
        ack_kinds: &["Queue"],
    },
    Service {
        alias: "dynamodb",
        title: "Amazon DynamoDB",
        // As services/dynamodb/src/main.rs tells the controller.
        ack_kinds: &["Backup", "GlobalTable", "Table"],
    },
    Service {
        alias: "sns",
        title: "Amazon SNS",
        ack_kinds: &[
            "PlatformApplication",
            "PlatformEndpoint",
            "Subscription",
            "Topic",
        ],
    },
];

/// How many stale files `--check` shows a diff for; the rest are only named.
const DIFFS_SHOWN: usize = 5;
/// Diff lines shown per file before eliding the rest.
const MAX_DIFF_LINES: usize = 60;

#[derive(Clone, Copy, Debug)]
pub struct Service {
    pub alias: &'static str,
    pub title: &'static str,
    /// Every kind ACK's controller for this service has: the chart accepts them in the
    /// per-kind values, as the controller does in its flags.
    pub ack_kinds: &'static [&'static str],
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fail (with a diff) if the checked-in charts are stale; write nothing.
    #[arg(long)]
    pub check: bool,
    /// Read `crds/` from and write `charts/` under this directory instead of the repository.
    #[arg(long, hide = true)]
    pub root: Option<PathBuf>,
}

/// `cargo xtask charts [--check]`.
pub fn run(args: Args) -> Result<()> {
    let root = args.root.unwrap_or_else(repo_root);
    let started = Instant::now();
    let files = generate(&root, &template_dir())?;
    if args.check {
        let drift = drift(&root, &files)?;
        if drift.is_empty() {
            eprintln!("[xtask] charts are up to date ({:.2?})", started.elapsed());
            return Ok(());
        }
        for (i, d) in drift.iter().enumerate() {
            match d {
                Drift::Changed { path, .. } if i >= DIFFS_SHOWN => eprintln!("{path}: differs"),
                d => eprintln!("{d}"),
            }
        }
        bail!(
            "{} chart file(s) are stale; run `cargo xtask charts`",
            drift.len()
        );
    }
    let touched = write(&root, &files)?;
    for line in &touched {
        eprintln!("[xtask] {line}");
    }
    eprintln!(
        "[xtask] charts done: {} file(s) changed ({:.2?})",
        touched.len(),
        started.elapsed()
    );
    Ok(())
}

/// The one template source of every controller chart.
pub fn template_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/chart")
}

/// One file of a chart; `path` is relative to the root, `/`-separated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFile {
    pub path: String,
    pub contents: String,
}

/// What a service's CRD file says about its kind.
#[derive(Clone, Debug)]
struct Crd {
    file_name: String,
    contents: String,
    group: String,
    kind: String,
    plural: String,
}

/// Every file of every chart, as the templates and `root/crds` make them now.
pub fn generate(root: &Path, templates: &Path) -> Result<Vec<ChartFile>> {
    let template_files = walk(templates)?;
    ensure!(
        !template_files.is_empty(),
        "no chart templates in {}",
        templates.display()
    );
    let mut out = Vec::new();
    for service in SERVICES {
        let crds = service_crds(&root.join("crds"), service.alias)?;
        let vars = placeholders(service, &crds);
        let chart = format!("charts/{}-controller", service.alias);
        for rel in &template_files {
            let source = templates.join(rel);
            let text = fs::read_to_string(&source)
                .with_context(|| format!("reading {}", source.display()))?;
            let body = substitute(&text, &vars)
                .with_context(|| format!("in xtask/templates/chart/{rel}"))?;
            out.push(ChartFile {
                path: format!("{chart}/{rel}"),
                contents: format!("{}{body}", header(rel)),
            });
        }
        for crd in crds {
            out.push(ChartFile {
                path: format!("{chart}/crds/{}", crd.file_name),
                contents: crd.contents,
            });
        }
        // ACK's shared kinds (FieldExport), served by every controller, ship in every chart.
        for name in shared_crds(&root.join("crds"))? {
            let path = root.join("crds").join(&name);
            out.push(ChartFile {
                path: format!("{chart}/crds/{name}"),
                contents: fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?,
            });
        }
    }
    Ok(out)
}

/// The file names of ACK's shared kinds' CRDs: `crds/services.k8s.aws_*.yaml`.
fn shared_crds(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = walk(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .into_iter()
        .filter(|n| n.starts_with("services.k8s.aws_") && n.ends_with(".yaml"))
        .collect();
    names.sort();
    Ok(names)
}

/// The per-service values of the `@@NAME@@` placeholders.
fn placeholders(service: &Service, crds: &[Crd]) -> BTreeMap<&'static str, String> {
    let json_list = |items: Vec<&str>| {
        let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let kinds: Vec<&str> = crds.iter().map(|c| c.kind.as_str()).collect();
    let plurals: Vec<&str> = crds.iter().map(|c| c.plural.as_str()).collect();
    let ack_kinds: std::collections::BTreeSet<&str> = service
        .ack_kinds
        .iter()
        .copied()
        .chain(kinds.iter().copied())
        .collect();
    BTreeMap::from([
        ("SERVICE", service.alias.to_string()),
        ("TITLE", service.title.to_string()),
        ("VERSION", env!("CARGO_PKG_VERSION").to_string()),
        ("GROUP", crds[0].group.clone()),
        ("KINDS", kinds.join(", ")),
        ("FIRST_KIND", kinds[0].to_string()),
        ("KINDS_JSON", json_list(kinds)),
        ("ACK_KINDS_JSON", json_list(ack_kinds.into_iter().collect())),
        ("RESOURCES_JSON", json_list(plurals)),
    ])
}

/// The CRDs of one service: `crds/<alias>.services.k8s.aws_*.yaml`, sorted by file name.
fn service_crds(dir: &Path, alias: &str) -> Result<Vec<Crd>> {
    let group = format!("{alias}.services.k8s.aws");
    let prefix = format!("{group}_");
    let mut crds = Vec::new();
    for name in walk(dir).with_context(|| format!("reading {}", dir.display()))? {
        if !(name.starts_with(&prefix) && name.ends_with(".yaml")) {
            continue;
        }
        let path = dir.join(&name);
        let contents =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let doc: serde_yaml::Value = serde_yaml::from_str(&contents)
            .with_context(|| format!("parsing {}", path.display()))?;
        let field = |keys: &[&str]| -> Result<String> {
            let mut v = &doc;
            for k in keys {
                v = &v[*k];
            }
            v.as_str()
                .map(str::to_string)
                .with_context(|| format!("{}: no {}", path.display(), keys.join(".")))
        };
        ensure!(
            field(&["kind"])? == "CustomResourceDefinition",
            "{} is not a CustomResourceDefinition",
            path.display()
        );
        let crd = Crd {
            group: field(&["spec", "group"])?,
            kind: field(&["spec", "names", "kind"])?,
            plural: field(&["spec", "names", "plural"])?,
            file_name: name,
            contents,
        };
        ensure!(
            crd.group == group,
            "{}: group {:?}, expected {group:?}",
            path.display(),
            crd.group
        );
        crds.push(crd);
    }
    ensure!(
        !crds.is_empty(),
        "no CRDs for {alias} in {} (expected {prefix}<plural>.yaml); run `cargo xtask codegen` first",
        dir.display()
    );
    Ok(crds)
}

/// Replaces each `@@NAME@@` with its value; an unknown or unterminated placeholder is an error.
pub fn substitute(text: &str, vars: &BTreeMap<&'static str, String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@@") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("@@") else {
            bail!("unterminated placeholder: {:?}", line_of(text, rest, start));
        };
        let name = &after[..end];
        let Some(value) = vars.get(name) else {
            let known: Vec<String> = vars.keys().map(|k| format!("@@{k}@@")).collect();
            bail!(
                "unknown placeholder @@{name}@@ (known: {})",
                known.join(", ")
            );
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn line_of<'a>(text: &'a str, rest: &'a str, at: usize) -> &'a str {
    let offset = text.len() - rest.len() + at;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    &text[start..end]
}

/// The "generated, do not edit" line, in the comment syntax of the file's kind. JSON has no
/// comments: `values.schema.json` carries a `$comment` in its source instead.
fn header(rel: &str) -> String {
    let note = format!(
        "Generated by `cargo xtask charts` from xtask/templates/chart/{rel}: edit the template, not this file."
    );
    if rel.starts_with("templates/") {
        // A trimmed template comment renders to nothing.
        format!("{{{{- /* {note} */ -}}}}\n")
    } else if rel.ends_with(".yaml") || rel.ends_with(".yml") || rel.ends_with(".helmignore") {
        format!("# {note}\n")
    } else if rel.ends_with(".md") {
        format!("<!-- {note} -->\n")
    } else {
        String::new()
    }
}

/// Files under `dir`, recursively, as sorted `/`-separated relative paths.
fn walk(dir: &Path) -> Result<Vec<String>> {
    fn visit(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                visit(base, &path, out)?;
            } else {
                let rel = path.strip_prefix(base).expect("below base");
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// How one checked-in chart file differs from what the generator makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    Missing {
        path: String,
    },
    Changed {
        path: String,
        diff: String,
    },
    /// A file in a chart directory that the generator does not make.
    Extra {
        path: String,
    },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing { path } => write!(f, "{path}: missing"),
            Drift::Changed { path, diff } => write!(f, "{path}: differs\n{diff}"),
            Drift::Extra { path } => write!(f, "{path}: not generated (remove it)"),
        }
    }
}

/// The chart directories the generator owns: everything under them is generated.
fn chart_dirs() -> Vec<String> {
    SERVICES
        .iter()
        .map(|s| format!("charts/{}-controller", s.alias))
        .collect()
}

/// Files under the chart directories that `files` does not contain.
fn extra_files(root: &Path, files: &[ChartFile]) -> Result<Vec<String>> {
    let made: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut extra = Vec::new();
    for dir in chart_dirs() {
        let abs = root.join(&dir);
        if !abs.exists() {
            continue;
        }
        for rel in walk(&abs)? {
            let path = format!("{dir}/{rel}");
            if !made.contains(path.as_str()) {
                extra.push(path);
            }
        }
    }
    Ok(extra)
}

/// Compares `files` with what is under `root`; empty when everything is up to date.
pub fn drift(root: &Path, files: &[ChartFile]) -> Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        match fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == file.contents => {}
            Ok(on_disk) => drift.push(Drift::Changed {
                path: file.path.clone(),
                diff: diff(&on_disk, &file.contents),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => drift.push(Drift::Missing {
                path: file.path.clone(),
            }),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    drift.extend(
        extra_files(root, files)?
            .into_iter()
            .map(|path| Drift::Extra { path }),
    );
    Ok(drift)
}

/// Writes the files whose contents changed and removes files the generator does not make.
/// Returns what it did, one line per file.
pub fn write(root: &Path, files: &[ChartFile]) -> Result<Vec<String>> {
    let mut touched = Vec::new();
    for extra in extra_files(root, files)? {
        let path = root.join(&extra);
        fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        touched.push(format!("removed {extra}"));
    }
    for file in files {
        let path = root.join(&file.path);
        if fs::read_to_string(&path).ok().as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        touched.push(format!("wrote {}", file.path));
    }
    Ok(touched)
}

/// A unified-style diff of the changed region, as codegen's staleness check shows it.
fn diff(old: &str, new: &str) -> String {
    ack_codegen::output::diff_at_most(old, new, MAX_DIFF_LINES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<&'static str, String> {
        BTreeMap::from([("SERVICE", "s3".to_string()), ("KINDS", "Bucket".into())])
    }

    #[test]
    fn substitutes_known_placeholders() {
        assert_eq!(
            substitute("name: @@SERVICE@@-controller # @@KINDS@@\n", &vars()).unwrap(),
            "name: s3-controller # Bucket\n"
        );
        assert_eq!(
            substitute("no placeholders", &vars()).unwrap(),
            "no placeholders"
        );
    }

    #[test]
    fn unknown_and_unterminated_placeholders_are_errors() {
        let err = substitute("a @@SERVCE@@ b", &vars())
            .unwrap_err()
            .to_string();
        assert!(err.contains("@@SERVCE@@"), "{err}");
        assert!(err.contains("@@SERVICE@@"), "names the known ones: {err}");
        let err = substitute("x\nkey: @@SERVICE\ny", &vars())
            .unwrap_err()
            .to_string();
        assert!(err.contains("key: @@SERVICE"), "{err}");
    }

    #[test]
    fn headers_follow_the_file_kind() {
        assert!(header("Chart.yaml").starts_with("# Generated"));
        assert!(header("templates/deployment.yaml").starts_with("{{- /* Generated"));
        assert!(header("templates/deployment.yaml").ends_with("*/ -}}\n"));
        assert!(header("README.md").starts_with("<!-- Generated"));
        assert_eq!(header("values.schema.json"), "");
    }

    #[test]
    fn diff_shows_the_changed_region() {
        assert_eq!(
            diff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n"),
            "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h"
        );
        assert_eq!(diff("a\nb\n", "a\nx\nb\n"), "@@ -1,2 +1,3 @@\n a\n+x\n b");
    }
}
