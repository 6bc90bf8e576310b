//! `cargo xtask image [SERVICE...] [--push REF]`: the controller images (see `testenv::image` for
//! what is in them and how they stay reproducible), and pushing them through the OCI distribution
//! API.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use testenv::image::{self, Image};

use crate::repo_root;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Services to build (s3, sqs, dynamodb); every controller when none is named.
    pub services: Vec<String>,
    /// Push to REGISTRY/REPO[:TAG] (one service; the tag defaults to the version), or, with
    /// several services, to REGISTRY[/NAMESPACE]/<svc>-controller:<version> each. Loopback
    /// registries are spoken to over plain HTTP; credentials come from ACK_RS_REGISTRY_USERNAME
    /// and ACK_RS_REGISTRY_PASSWORD when set.
    #[arg(long, value_name = "REF")]
    pub push: Option<String>,
    /// Speak plain HTTP to the registry even when it is not on loopback.
    #[arg(long, requires = "push")]
    pub plain_http: bool,
}

pub fn run(args: Args) -> Result<()> {
    // A bad --push is refused before minutes of building.
    let targets = match &args.push {
        Some(target) => push_targets(target, &args.services)?,
        None => Vec::new(),
    };
    let started = Instant::now();
    let images = image::build(&repo_root(), &args.services)?;
    eprintln!("[xtask] images built in {:.1?}", started.elapsed());
    for img in &images {
        println!("{}", img.reference);
        println!("  digest   {}", img.manifest_digest);
        println!("  layout   {}", img.layout.display());
        println!("  archive  {}", img.archive.display());
        println!(
            "  size     {} compressed, {} unpacked (binary {})",
            mib(img.compressed_size),
            mib(img.unpacked_size),
            mib(img.binary_size)
        );
    }
    if !targets.is_empty() {
        let runtime = tokio::runtime::Runtime::new()?;
        for (img, reference) in images.iter().zip(targets) {
            let pushed = runtime.block_on(push(img, &reference, args.plain_http))?;
            println!("pushed {reference}@{pushed}");
        }
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Where each image goes for `--push target`: one image goes to `target` (tagged with the
/// version unless it names a tag), several go to `target/<svc>-controller:<version>`.
fn push_targets(target: &str, services: &[String]) -> Result<Vec<Reference>> {
    let services: Vec<&str> = if services.is_empty() {
        image::SERVICES.to_vec()
    } else {
        services.iter().map(String::as_str).collect()
    };
    ensure!(
        !target.contains('@'),
        "--push {target:?}: push to a tag, not a digest"
    );
    let has_tag = target.contains('/')
        && target
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
    let names: Vec<String> = match services.as_slice() {
        [_] if has_tag => vec![target.to_string()],
        [_] => vec![format!("{target}:{}", image::TAG)],
        _ if has_tag => bail!(
            "--push {target:?} names one image, but {} are built: name one service, or give \
             REGISTRY[/NAMESPACE] to push each as <svc>-controller:{}",
            services.len(),
            image::TAG
        ),
        _ => services
            .iter()
            .map(|svc| {
                let prefix = target.trim_end_matches('/');
                format!("{prefix}/{svc}-controller:{}", image::TAG)
            })
            .collect(),
    };
    names
        .iter()
        .map(|name| {
            name.parse()
                .with_context(|| format!("--push {target:?}: {name:?} is not an image reference"))
        })
        .collect()
}

/// True for registries on this machine, which speak plain HTTP (as Docker assumes for them).
fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn auth() -> RegistryAuth {
    match (
        std::env::var("ACK_RS_REGISTRY_USERNAME"),
        std::env::var("ACK_RS_REGISTRY_PASSWORD"),
    ) {
        (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
        _ => RegistryAuth::Anonymous,
    }
}

/// Pushes the image's blobs and its manifest (the very bytes of the layout, so the digest stays),
/// then reads the manifest back and checks its digest. Returns that digest.
async fn push(img: &Image, reference: &Reference, plain_http: bool) -> Result<String> {
    let layout = image::read_layout(&img.layout)?;
    let registry = reference.registry().to_string();
    let protocol = if plain_http || is_loopback(&registry) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        ..Default::default()
    });
    let auth = auth();
    client
        .store_auth_if_needed(reference.resolve_registry(), &auth)
        .await;
    for (digest, bytes) in layout.blobs() {
        let exists = client
            .blob_exists(reference, digest)
            .await
            .with_context(|| format!("asking {registry} for blob {digest}"))?;
        if !exists {
            client
                .push_blob(reference, bytes.to_vec(), digest)
                .await
                .with_context(|| format!("pushing blob {digest} to {reference}"))?;
        }
    }
    let media_type = image::oci_spec::image::MediaType::ImageManifest.to_string();
    client
        .push_manifest_raw(
            reference,
            layout.manifest_bytes.clone(),
            media_type.parse().context("manifest media type")?,
        )
        .await
        .with_context(|| format!("pushing the manifest to {reference}"))?;
    let (pulled, digest) = client
        .pull_manifest_raw(reference, &auth, &[media_type.as_str()])
        .await
        .with_context(|| format!("reading the manifest back from {reference}"))?;
    ensure!(
        digest == layout.manifest_digest && image::sha256(&pulled) == layout.manifest_digest,
        "{reference} serves manifest {digest} ({} by content) after pushing {}",
        image::sha256(&pulled),
        layout.manifest_digest
    );
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("registry.example:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn where_pushes_go() {
        let names = |target: &str, services: &[&str]| -> Result<Vec<String>> {
            let services: Vec<String> = services.iter().map(|s| s.to_string()).collect();
            Ok(push_targets(target, &services)?
                .iter()
                .map(|r| r.whole())
                .collect())
        };
        let v = image::TAG;
        assert_eq!(
            names("127.0.0.1:5000/a/sqs:t", &["sqs"]).unwrap(),
            ["127.0.0.1:5000/a/sqs:t"]
        );
        assert_eq!(
            names("127.0.0.1:5000/a/sqs", &["sqs"]).unwrap(),
            [format!("127.0.0.1:5000/a/sqs:{v}")]
        );
        assert_eq!(
            names("127.0.0.1:5000/team", &[]).unwrap(),
            [
                format!("127.0.0.1:5000/team/s3-controller:{v}"),
                format!("127.0.0.1:5000/team/sqs-controller:{v}"),
                format!("127.0.0.1:5000/team/dynamodb-controller:{v}"),
            ]
        );
        let err = names("127.0.0.1:5000/team/x:1", &["s3", "sqs"]).unwrap_err();
        assert!(err.to_string().contains("names one image"), "{err}");
        assert!(names("r.example/a@sha256:00", &["sqs"]).is_err());
    }
}
