//! The node's sandbox ("pause") image, built locally: the test world has no registry to pull
//! `registry.k8s.io/pause` from. A pod sandbox only needs a process that holds the pod's
//! namespaces until it is told to stop; a few lines of Go do that.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use oci_spec::image::{
    Arch, ConfigBuilder, DescriptorBuilder, Digest, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, Os, PlatformBuilder, RootFsBuilder,
};
use sha2::{Digest as _, Sha256};

use crate::{cache, toolchain};

/// The name containerd's CRI plugin is configured to use as its sandbox image.
pub const IMAGE: &str = "ack-rs.local/pause:1";

const SOURCE: &str = r#"// Holds a pod's namespaces until SIGTERM or SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
}
"#;

/// `<cache>/bin/pause-1/pause.oci.tar`, built on first use.
pub fn ensure_archive() -> Result<PathBuf> {
    let dir = cache::root().join("bin").join("pause-1");
    let archive = dir.join("pause.oci.tar");
    if archive.is_file() {
        return Ok(archive);
    }
    let _lock = cache::lock("build-pause-1")?;
    if archive.is_file() {
        return Ok(archive);
    }
    let work = cache::root().join("gobuild").join("pause-1");
    fs::create_dir_all(&work)?;
    fs::write(
        work.join("go.mod"),
        "module ackrs.local/pause\n\ngo 1.26.0\n",
    )?;
    fs::write(work.join("main.go"), SOURCE)?;
    let out = Command::new(toolchain::go()?)
        .current_dir(&work)
        .env("CGO_ENABLED", "0")
        .args(["build", "-trimpath", "-ldflags=-s -w", "-o", "pause", "."])
        .output()?;
    if !out.status.success() {
        bail!(
            "building the pause binary failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let binary = fs::read(work.join("pause"))?;
    fs::create_dir_all(&dir)?;
    let staging = dir.join("pause.oci.tar.tmp");
    write_archive(&staging, IMAGE, "pause", &binary)?;
    fs::rename(&staging, &archive)?;
    Ok(archive)
}

/// An OCI image-layout archive (what `ctr images import` reads) of one static binary at
/// `/<file>`, run as the image's entrypoint by an unprivileged user.
fn write_archive(out: &Path, name: &str, file: &str, binary: &[u8]) -> Result<()> {
    let layer = {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(binary.len() as u64);
        header.set_mode(0o755);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, file, binary)?;
        tar.into_inner()?
    };
    let layer_digest = sha256(&layer);
    let config = ImageConfigurationBuilder::default()
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .config(
            ConfigBuilder::default()
                .entrypoint(vec![format!("/{file}")])
                .user("65535:65535".to_string())
                .build()?,
        )
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![layer_digest.to_string()])
                .build()?,
        )
        .build()?
        .to_string()?
        .into_bytes();
    let config_digest = sha256(&config);
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(
            DescriptorBuilder::default()
                .media_type(MediaType::ImageConfig)
                .digest(config_digest.clone())
                .size(config.len() as u64)
                .build()?,
        )
        .layers(vec![
            DescriptorBuilder::default()
                .media_type(MediaType::ImageLayer)
                .digest(layer_digest.clone())
                .size(layer.len() as u64)
                .build()?,
        ])
        .build()?
        .to_string()?
        .into_bytes();
    let manifest_digest = sha256(&manifest);
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![
            DescriptorBuilder::default()
                .media_type(MediaType::ImageManifest)
                .digest(manifest_digest.clone())
                .size(manifest.len() as u64)
                .platform(
                    PlatformBuilder::default()
                        .architecture(Arch::Amd64)
                        .os(Os::Linux)
                        .build()?,
                )
                .annotations([
                    ("io.containerd.image.name".to_string(), name.to_string()),
                    (
                        "org.opencontainers.image.ref.name".to_string(),
                        name.rsplit_once(':')
                            .map_or("latest", |(_, tag)| tag)
                            .to_string(),
                    ),
                ])
                .build()?,
        ])
        .build()?
        .to_string()?
        .into_bytes();

    let mut tar = tar::Builder::new(
        fs::File::create(out).with_context(|| format!("creating {}", out.display()))?,
    );
    let mut add = |path: &str, data: &[u8]| -> Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, path, data)?;
        Ok(())
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    add("index.json", &index)?;
    for (digest, data) in [
        (&manifest_digest, &manifest),
        (&config_digest, &config),
        (&layer_digest, &layer),
    ] {
        add(&format!("blobs/sha256/{}", digest.digest()), data)?;
    }
    tar.into_inner()?.flush()?;
    Ok(())
}

fn sha256(data: &[u8]) -> Digest {
    let hex: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
        .parse()
        .expect("a sha256 digest is a valid OCI digest")
}
