//! Controller images: one OCI image per controller, built without a container daemon.
//!
//! An image is one layer and nothing else but:
//! - `/bin/controller`, the controller built fully static for `x86_64-unknown-linux-musl` with the
//!   `image` profile (size-tuned, stripped). ACK's chart runs `./bin/controller` from `/`, so an
//!   existing ACK Helm release can switch to this image by its `image.repository`/`image.tag`;
//! - `/etc/ssl/certs/ca-certificates.crt`, the Mozilla root store of the `webpki-root-certs`
//!   crate (pinned by `Cargo.lock`, so the same commit always ships the same roots), where the AWS
//!   SDK's rustls (via `rustls-native-certs`) looks for the system's CA bundle.
//!
//! No shell, no libc, no package manager, no `/etc/passwd`: the config runs it as `65532:65532`.
//!
//! Reproducible: every timestamp is the commit time (or `SOURCE_DATE_EPOCH`), tar entries are
//! sorted with fixed owner 0:0 and modes, gzip carries no name or time, JSON keys are sorted, and
//! the binary is built with the workspace, cargo home and target dir paths remapped. The same
//! commit gives the same manifest digest.
//!
//! Each image is written under `<target dir>/images/` as an OCI image layout directory
//! (`<svc>-controller/`) and as one tar of that layout (`<svc>-controller.tar`) that also holds
//! Docker's `manifest.json`, so `ctr images import`, `docker load` and `skopeo copy oci-archive:`
//! all take it. [`build`] is idempotent: cargo rebuilds nothing when nothing changed, and the
//! layout is rewritten to the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use flate2::{Compression, GzBuilder};
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, HistoryBuilder, ImageConfiguration,
    ImageConfigurationBuilder, ImageIndex, ImageIndexBuilder, ImageManifest, ImageManifestBuilder,
    MediaType, OciLayoutBuilder, Os, RootFsBuilder, SCHEMA_VERSION,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use oci_spec;

/// The Rust target of the image binaries: musl links everything statically.
pub const TARGET: &str = "x86_64-unknown-linux-musl";
/// The cargo profile of the image binaries (`[profile.image]` in the workspace `Cargo.toml`).
pub const PROFILE: &str = "image";
/// The numeric user and group the image runs as (no `/etc/passwd` needed for numbers).
pub const USER: &str = "65532:65532";
/// Where the binary lives in the image: ACK's chart runs `./bin/controller` with workdir `/`.
pub const ENTRYPOINT: &str = "/bin/controller";
/// Where the CA bundle lives in the image (Debian's path, which rustls-native-certs probes).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The services that have a controller image.
pub const SERVICES: &[&str] = &["s3", "sqs", "dynamodb"];
/// The image repository of a controller before any registry is named: `ack-rs/<svc>-controller`,
/// what the charts default to (`image.repository`).
pub fn repository(service: &str) -> String {
    format!("ack-rs/{service}-controller")
}
/// The image tag the charts default to (`image.tag`): the workspace version.
pub const TAG: &str = env!("CARGO_PKG_VERSION");
/// `org.opencontainers.image.source` unless told otherwise.
pub const DEFAULT_SOURCE: &str = "https://github.com/ack-rs/ack-rs";

/// What the image says about where it comes from (OCI labels and annotations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// `org.opencontainers.image.version`.
    pub version: String,
    /// `org.opencontainers.image.revision`: the commit, with `-dirty` if the work tree differs.
    pub revision: String,
    /// `org.opencontainers.image.source`.
    pub source: String,
    /// Every timestamp in the image, in seconds since the epoch.
    pub epoch: i64,
}

impl Provenance {
    /// From the repository's git HEAD: its commit and commit time; `SOURCE_DATE_EPOCH`, when
    /// set, replaces the time (the reproducible-builds convention).
    pub fn from_repo(repo: &Path) -> Result<Provenance> {
        let git = |args: &[&str]| -> Result<String> {
            let out = Command::new("git")
                .current_dir(repo)
                .args(args)
                .output()
                .with_context(|| format!("running git {}", args.join(" ")))?;
            ensure!(
                out.status.success(),
                "git {} failed in {}: {}",
                args.join(" "),
                repo.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let commit = git(&["rev-parse", "HEAD"])
            .context("images are labelled with their commit, so they are built from a git clone")?;
        let dirty = !git(&["status", "--porcelain", "--untracked-files=no"])?.is_empty();
        let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => v
                .trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?,
            Err(_) => git(&["log", "-1", "--format=%ct", "HEAD"])?
                .parse()
                .context("git's commit time is not a number")?,
        };
        Ok(Provenance {
            version: TAG.to_string(),
            revision: if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            },
            source: DEFAULT_SOURCE.to_string(),
            epoch,
        })
    }

    fn created(&self) -> Result<String> {
        Ok(jiff::Timestamp::from_second(self.epoch)
            .with_context(|| format!("{} is not a valid time", self.epoch))?
            .to_string())
    }

    /// The OCI labels (config) and annotations (manifest).
    pub fn labels(&self) -> Result<BTreeMap<String, String>> {
        Ok(BTreeMap::from([
            ("org.opencontainers.image.created".into(), self.created()?),
            (
                "org.opencontainers.image.source".into(),
                self.source.clone(),
            ),
            (
                "org.opencontainers.image.version".into(),
                self.version.clone(),
            ),
            (
                "org.opencontainers.image.revision".into(),
                self.revision.clone(),
            ),
            (
                "org.opencontainers.image.licenses".into(),
                "Apache-2.0".into(),
            ),
        ]))
    }
}

/// One built image.
#[derive(Clone, Debug)]
pub struct Image {
    pub service: String,
    /// `ack-rs/<svc>-controller:<version>`, the name `docker load` and `ctr images import` give it.
    pub reference: String,
    /// The OCI image layout directory.
    pub layout: PathBuf,
    /// The layout as one tar (with Docker's `manifest.json`).
    pub archive: PathBuf,
    /// `sha256:...` of the manifest: the image's identity in every registry and runtime.
    pub manifest_digest: String,
    /// The size of the compressed layer (what a registry stores and a node pulls).
    pub compressed_size: u64,
    /// The size of the unpacked file system.
    pub unpacked_size: u64,
    /// The size of the controller binary.
    pub binary_size: u64,
}

/// The target directory cargo uses for this workspace (`CARGO_TARGET_DIR`, config, or `target/`).
pub fn target_dir(repo: &Path) -> Result<PathBuf> {
    let out = Command::new(cargo())
        .current_dir(repo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .context("running cargo metadata")?;
    ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let dir = meta["target_directory"]
        .as_str()
        .context("cargo metadata names no target_directory")?;
    Ok(PathBuf::from(dir))
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Builds the images of `services` (every controller when empty) into `<target dir>/images/`.
/// Cheap when nothing changed; concurrent callers (test binaries, `cargo xtask image`) wait for
/// each other.
pub fn build(repo: &Path, services: &[String]) -> Result<Vec<Image>> {
    let services: Vec<String> = if services.is_empty() {
        SERVICES.iter().map(|s| s.to_string()).collect()
    } else {
        services.to_vec()
    };
    for svc in &services {
        ensure!(
            SERVICES.contains(&svc.as_str()),
            "no controller image for {svc:?}: the services are {}",
            SERVICES.join(", ")
        );
    }
    let target = target_dir(repo)?;
    let out_dir = target.join("images");
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let _lock = lock(&out_dir.join(".lock"))?;
    let provenance = Provenance::from_repo(repo)?;
    let binaries = build_binaries(repo, &target, &services)?;
    services
        .iter()
        .zip(binaries)
        .map(|(svc, binary)| {
            let bytes =
                fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
            // Same inputs, same image: skip the compression when the layout on disk was
            // written from exactly these inputs (and still reads back).
            let inputs = out_dir.join(format!("{svc}-controller.inputs"));
            let key = sha256(format!("{WRITER}\n{provenance:?}\n{}", sha256(&bytes)).as_bytes());
            if fs::read_to_string(&inputs).is_ok_and(|k| k == key)
                && let Some(img) = existing(svc, &out_dir, bytes.len() as u64)
            {
                return Ok(img);
            }
            let img = write_image(svc, &bytes, &provenance, &out_dir)?;
            fs::write(&inputs, key)?;
            Ok(img)
        })
        .collect()
}

/// Changes whenever `write_image` would write other bytes for the same inputs.
const WRITER: &str = "ack-rs image writer 1";

/// The image of `service` already in `out_dir`, if it reads back whole.
fn existing(service: &str, out_dir: &Path, binary_size: u64) -> Option<Image> {
    let name = format!("{service}-controller");
    let layout_dir = out_dir.join(&name);
    let archive = out_dir.join(format!("{name}.tar"));
    let layout = read_layout(&layout_dir).ok()?;
    if !archive.is_file() {
        return None;
    }
    Some(Image {
        service: service.to_string(),
        reference: format!("{}:{TAG}", repository(service)),
        layout: layout_dir,
        archive,
        manifest_digest: layout.manifest_digest,
        compressed_size: layout.layers.iter().map(|l| l.len() as u64).sum(),
        unpacked_size: binary_size + ca_bundle().len() as u64,
        binary_size,
    })
}

fn lock(path: &Path) -> Result<File> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    if file.try_lock().is_err() {
        eprintln!(
            "[image] waiting for another image build ({})",
            path.display()
        );
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
    }
    Ok(file)
}

/// Checks what a static musl build needs besides cargo: the Rust target, and musl-gcc (aws-lc-sys
/// compiles C for the target; cc-rs uses musl's gcc wrapper or specs file, both from Debian's
/// musl-tools), installed when missing and possible.
pub fn check_toolchain() -> Result<()> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
    {
        bail!(
            "building controller images needs the Rust target {TARGET}, which is not installed \
             in {} (rustup target add {TARGET})",
            sysroot.display()
        );
    }
    crate::debian::ensure(
        &[("musl-gcc", "musl-tools")],
        "building static controller images (aws-lc-sys compiles C for musl)",
    )
}

/// Builds the static controller binaries; returns their paths in the order of `services`.
pub fn build_binaries(repo: &Path, target: &Path, services: &[String]) -> Result<Vec<PathBuf>> {
    check_toolchain()?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    // Paths that end up in the binary (panic locations, generated code, C asserts) are remapped,
    // so the binary does not depend on where the clone, cargo home or target dir are. The target
    // dir comes last: it may lie inside the repository and the last matching prefix wins.
    let remaps = [
        (repo, "/ack-rs"),
        (&cargo_home, "/cargo"),
        (target, "/target"),
    ];
    let rustflags: Vec<String> = remaps
        .iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect();
    let cflags: Vec<String> = remaps[1..]
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect();
    let mut cmd = Command::new(cargo());
    cmd.current_dir(repo)
        .args([
            "build",
            "--locked",
            "--profile",
            PROFILE,
            "--target",
            TARGET,
        ])
        // With --target these reach only the target's crates, not build scripts or proc macros.
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f"))
        .env("CFLAGS_x86_64_unknown_linux_musl", cflags.join(" "));
    // Always every controller: cargo unifies features over the packages of one build, so
    // building one alone would give another binary, and another digest, than building all.
    for svc in SERVICES {
        cmd.args([
            "-p",
            &format!("ack-{svc}"),
            "--bin",
            &format!("{svc}-controller"),
        ]);
    }
    eprintln!("[image] cargo build --profile {PROFILE} --target {TARGET} (every controller)");
    let status = cmd.status().context("running cargo build")?;
    ensure!(
        status.success(),
        "cargo build of the controller binaries failed"
    );
    Ok(services
        .iter()
        .map(|svc| {
            target
                .join(TARGET)
                .join(PROFILE)
                .join(format!("{svc}-controller"))
        })
        .collect())
}

/// A blob: its bytes and their digest.
struct Blob {
    bytes: Vec<u8>,
    digest: String,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Blob {
        let digest = sha256(&bytes);
        Blob { bytes, digest }
    }

    fn json<T: Serialize>(value: &T) -> Result<Blob> {
        Ok(Blob::new(canonical_json(value)?))
    }

    fn descriptor(&self, media_type: MediaType) -> Result<Descriptor> {
        Ok(DescriptorBuilder::default()
            .media_type(media_type)
            .digest(self.digest.parse::<oci_spec::image::Digest>()?)
            .size(self.bytes.len() as u64)
            .build()?)
    }

    fn path(&self) -> String {
        format!("blobs/{}", self.digest.replacen(':', "/", 1))
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// JSON with sorted keys: oci-spec keeps annotations and labels in `HashMap`s, whose order
/// changes from run to run; going through `serde_json::Value` sorts them.
fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(value)?;
    value.sort_all_objects();
    Ok(serde_json::to_vec(&value)?)
}

/// One file or directory of a tar, always owned by 0:0 with a fixed time.
enum Entry<'a> {
    Dir(&'a str),
    File(&'a str, u32, &'a [u8]),
}

/// A tar of `entries` in the given order, owned by root, dated `epoch`.
fn tar(entries: &[Entry<'_>], epoch: i64) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(epoch.max(0) as u64);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path, std::io::empty())?;
            }
            Entry::File(path, mode, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, *data)?;
            }
        }
    }
    Ok(builder.into_inner()?)
}

/// The CA bundle: every root of the `webpki-root-certs` crate as PEM.
pub fn ca_bundle() -> String {
    let pems: Vec<pem::Pem> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| pem::Pem::new("CERTIFICATE", der.as_ref().to_vec()))
        .collect();
    pem::encode_many_config(
        &pems,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Writes the image of `service` (whose binary is `binary`) as a layout and an archive into
/// `out_dir`. The same inputs give the same bytes.
pub fn write_image(
    service: &str,
    binary: &[u8],
    provenance: &Provenance,
    out_dir: &Path,
) -> Result<Image> {
    let ca = ca_bundle();
    let layer_tar = tar(
        &[
            Entry::Dir("bin/"),
            Entry::File("bin/controller", 0o755, binary),
            Entry::Dir("etc/"),
            Entry::Dir("etc/ssl/"),
            Entry::Dir("etc/ssl/certs/"),
            Entry::File("etc/ssl/certs/ca-certificates.crt", 0o644, ca.as_bytes()),
        ],
        provenance.epoch,
    )?;
    let diff_id = sha256(&layer_tar);
    // Best compression: the layer is what nodes pull. No file name and time 0 in the header.
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    gz.write_all(&layer_tar)?;
    let layer = Blob::new(gz.finish()?);

    let labels = provenance.labels()?;
    let created = provenance.created()?;
    let config = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .config(
            ConfigBuilder::default()
                .user(USER)
                .entrypoint(vec![ENTRYPOINT.to_string()])
                .working_dir("/")
                .labels(labels.clone().into_iter().collect::<HashMap<_, _>>())
                .build()?,
        )
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![diff_id])
                .build()?,
        )
        .history(vec![
            HistoryBuilder::default()
                .created(created)
                .created_by(format!(
                    "cargo xtask image: /bin/controller ({service}-controller, {TARGET}), {CA_BUNDLE}"
                ))
                .build()?,
        ])
        .build()?;
    let config = Blob::json(&config)?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageManifest)
        .config(config.descriptor(MediaType::ImageConfig)?)
        .layers(vec![layer.descriptor(MediaType::ImageLayerGzip)?])
        .annotations(labels.into_iter().collect::<HashMap<_, _>>())
        .build()?;
    let manifest = Blob::json(&manifest)?;

    let reference = format!("{}:{TAG}", repository(service));
    let mut manifest_desc = manifest.descriptor(MediaType::ImageManifest)?;
    manifest_desc.set_annotations(Some(HashMap::from([
        // containerd (ctr, docker with the containerd store) names the image after this one,
        // fully qualified as containerd and kubelet spell it...
        (
            "io.containerd.image.name".to_string(),
            format!("docker.io/{reference}"),
        ),
        // ...and OCI tools (skopeo's oci-archive:path:TAG) by the tag.
        (
            "org.opencontainers.image.ref.name".to_string(),
            TAG.to_string(),
        ),
    ])));
    let index = ImageIndexBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest_desc])
        .build()?;
    let index = canonical_json(&index)?;
    let oci_layout = canonical_json(
        &OciLayoutBuilder::default()
            .image_layout_version("1.0.0")
            .build()?,
    )?;
    // Docker's archive manifest (what `docker load` reads); it has no type in any crate.
    let docker_manifest = canonical_json(&serde_json::json!([{
        "Config": config.path(),
        "RepoTags": [reference],
        "Layers": [layer.path()],
    }]))?;

    // Every file of the layout, sorted by path, with each directory before its contents.
    let mut blobs = [&config, &layer, &manifest];
    blobs.sort_by(|a, b| a.digest.cmp(&b.digest));
    let blob_paths: Vec<String> = blobs.iter().map(|b| b.path()).collect();
    let mut entries = vec![Entry::Dir("blobs/"), Entry::Dir("blobs/sha256/")];
    for (blob, path) in blobs.iter().zip(&blob_paths) {
        entries.push(Entry::File(path, 0o644, &blob.bytes));
    }
    entries.push(Entry::File("index.json", 0o644, &index));
    entries.push(Entry::File("manifest.json", 0o644, &docker_manifest));
    entries.push(Entry::File("oci-layout", 0o644, &oci_layout));
    let archive_bytes = tar(&entries, provenance.epoch)?;

    // Written beside, then renamed, so a reader never sees half an image.
    let name = format!("{service}-controller");
    let layout = out_dir.join(&name);
    let staging = out_dir.join(format!(".{name}.{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    for entry in &entries {
        match entry {
            Entry::Dir(path) => fs::create_dir_all(staging.join(path))?,
            Entry::File(path, _, data) => fs::write(staging.join(path), data)?,
        }
    }
    if layout.exists() {
        fs::remove_dir_all(&layout).with_context(|| format!("removing {}", layout.display()))?;
    }
    fs::rename(&staging, &layout).with_context(|| format!("writing {}", layout.display()))?;
    let archive = out_dir.join(format!("{name}.tar"));
    let staging = out_dir.join(format!(".{name}.tar.{}", std::process::id()));
    fs::write(&staging, &archive_bytes)?;
    fs::rename(&staging, &archive).with_context(|| format!("writing {}", archive.display()))?;

    Ok(Image {
        service: service.to_string(),
        reference,
        layout,
        archive,
        manifest_digest: manifest.digest.clone(),
        compressed_size: layer.bytes.len() as u64,
        unpacked_size: (binary.len() + ca.len()) as u64,
        binary_size: binary.len() as u64,
    })
}

/// An image read back from an OCI image layout, every blob checked against its digest and size.
pub struct Layout {
    pub index: ImageIndex,
    pub manifest: ImageManifest,
    pub manifest_bytes: Vec<u8>,
    pub manifest_digest: String,
    pub config: ImageConfiguration,
    pub config_bytes: Vec<u8>,
    /// The layers as stored (gzip), in manifest order.
    pub layers: Vec<Vec<u8>>,
}

impl Layout {
    /// The config and layer blobs, by digest: what a registry needs before the manifest.
    pub fn blobs(&self) -> Vec<(&str, &[u8])> {
        let mut blobs = vec![(
            self.manifest.config().digest().as_ref(),
            self.config_bytes.as_slice(),
        )];
        for (desc, bytes) in self.manifest.layers().iter().zip(&self.layers) {
            blobs.push((desc.digest().as_ref(), bytes.as_slice()));
        }
        blobs
    }
}

/// Reads the one image of the layout at `dir`.
pub fn read_layout(dir: &Path) -> Result<Layout> {
    let read = |path: &str| -> Result<Vec<u8>> {
        let path = dir.join(path);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let blob = |desc: &Descriptor| -> Result<Vec<u8>> {
        let digest = desc.digest().to_string();
        let bytes = read(&format!("blobs/{}", digest.replacen(':', "/", 1)))?;
        ensure!(
            sha256(&bytes) == digest && bytes.len() as u64 == desc.size(),
            "blob {digest} of {} does not match its descriptor",
            dir.display()
        );
        Ok(bytes)
    };
    let layout: oci_spec::image::OciLayout = serde_json::from_slice(&read("oci-layout")?)?;
    ensure!(
        layout.image_layout_version() == "1.0.0",
        "{}: unknown layout version {}",
        dir.display(),
        layout.image_layout_version()
    );
    let index: ImageIndex =
        serde_json::from_slice(&read("index.json")?).context("parsing index.json")?;
    let [desc] = index.manifests().as_slice() else {
        bail!(
            "{}: index.json lists {} manifests, expected one",
            dir.display(),
            index.manifests().len()
        );
    };
    ensure!(
        *desc.media_type() == MediaType::ImageManifest,
        "{}: index.json points at a {}, not an image manifest",
        dir.display(),
        desc.media_type()
    );
    let manifest_bytes = blob(desc)?;
    let manifest: ImageManifest =
        serde_json::from_slice(&manifest_bytes).context("parsing the manifest")?;
    let config_bytes = blob(manifest.config())?;
    let config: ImageConfiguration =
        serde_json::from_slice(&config_bytes).context("parsing the image config")?;
    let layers = manifest
        .layers()
        .iter()
        .map(&blob)
        .collect::<Result<Vec<_>>>()?;
    Ok(Layout {
        manifest_digest: desc.digest().to_string(),
        index,
        manifest,
        manifest_bytes,
        config,
        config_bytes,
        layers,
    })
}
