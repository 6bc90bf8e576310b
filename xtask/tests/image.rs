//! `cargo xtask image`: the controller images, built once per test run into the target dir
//! (`testenv::image::build` is idempotent, and the in-cluster e2e uses the same images), checked
//! for what is in them, reproducibility, and that skopeo, containerd and an OCI registry take them.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use testenv::image::{self, Image, Provenance};

/// ACK's controller binaries, stripped, in MB (10^6 bytes): ours must be at most a quarter.
const ACK_BINARY_MB: [(&str, f64); 3] = [("sqs", 59.6), ("s3", 65.2), ("dynamodb", 61.3)];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// Every controller's image, built (or found up to date) once per test binary.
fn images() -> &'static [Image] {
    static IMAGES: OnceLock<Vec<Image>> = OnceLock::new();
    IMAGES.get_or_init(|| {
        image::build(&repo(), &[]).unwrap_or_else(|e| panic!("building the images: {e:#}"))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_ok(cmd: &mut Command) -> Output {
    let what = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn tempdir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ack-rs-image-{name}-"))
        .tempdir()
        .expect("creating a temp dir")
}

/// One entry of a layer tar, as the checks see it.
#[derive(Debug, PartialEq, Eq)]
struct LayerEntry {
    path: String,
    dir: bool,
    mode: u32,
    owner: (u64, u64),
    mtime: u64,
}

/// The entries and file contents of a gzip'd layer.
fn unpack_layer(gz: &[u8]) -> (Vec<LayerEntry>, BTreeMap<String, Vec<u8>>) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut entries = Vec::new();
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("reading the layer tar") {
        let mut entry = entry.expect("a layer tar entry");
        let header = entry.header();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let e = LayerEntry {
            path: path.clone(),
            dir: header.entry_type().is_dir(),
            mode: header.mode().unwrap(),
            owner: (header.uid().unwrap(), header.gid().unwrap()),
            mtime: header.mtime().unwrap(),
        };
        if !e.dir {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            files.insert(path, data);
        }
        entries.push(e);
    }
    (entries, files)
}

/// The ELF program header types of a 64-bit little-endian executable.
fn program_header_types(elf: &[u8]) -> Vec<u32> {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum)
        .map(|i| {
            let at = phoff + i * phentsize;
            u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
        })
        .collect()
}

const PT_INTERP: u32 = 3;

/// Runs `exe --help` with an empty environment. Another test thread forking while the file was
/// open for writing makes exec fail with ETXTBSY for a moment, hence the retries.
fn run_static(exe: &Path) -> Output {
    for _ in 0..50 {
        match Command::new(exe).arg("--help").env_clear().output() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("running {}: {e}", exe.display()),
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "{}: {}",
                    exe.display(),
                    text(&out.stderr)
                );
                return out;
            }
        }
    }
    panic!("{} stayed busy", exe.display())
}

#[test]
fn each_image_holds_the_static_binary_and_the_ca_bundle_only() {
    let provenance = Provenance::from_repo(&repo()).unwrap();
    for img in images() {
        let layout = image::read_layout(&img.layout)
            .unwrap_or_else(|e| panic!("{}: {e:#}", img.layout.display()));
        assert_eq!(layout.manifest_digest, img.manifest_digest);
        assert_eq!(
            layout.index.manifests()[0].annotations().as_ref().unwrap()["io.containerd.image.name"],
            format!("docker.io/ack-rs/{}-controller:{}", img.service, image::TAG)
        );

        // The config: user, entrypoint, workdir (ACK's chart runs ./bin/controller), labels.
        let config = layout.config.config().as_ref().expect("a runtime config");
        assert_eq!(config.user().as_deref(), Some("65532:65532"));
        assert_eq!(
            config.entrypoint().as_deref(),
            Some(&["/bin/controller".to_string()][..])
        );
        assert_eq!(config.working_dir().as_deref(), Some("/"));
        let labels = config.labels().as_ref().expect("labels");
        assert_eq!(labels["org.opencontainers.image.version"], image::TAG);
        assert_eq!(
            labels["org.opencontainers.image.revision"],
            provenance.revision
        );
        assert!(
            labels["org.opencontainers.image.source"].starts_with("https://"),
            "{labels:?}"
        );
        let annotations = layout.manifest.annotations().as_ref().expect("annotations");
        assert_eq!(
            annotations["org.opencontainers.image.revision"],
            provenance.revision
        );
        assert_eq!(layout.config.os().to_string(), "linux");
        assert_eq!(layout.config.architecture().to_string(), "amd64");

        // One layer, whose uncompressed digest is the config's diff_id.
        assert_eq!(layout.layers.len(), 1);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&layout.layers[0][..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(
            layout.config.rootfs().diff_ids(),
            &vec![image::sha256(&tar)]
        );

        // Exactly these entries, owned by root, dated at the commit: no shell, nothing else.
        let (entries, files) = unpack_layer(&layout.layers[0]);
        let expected: Vec<(&str, bool, u32)> = vec![
            ("bin", true, 0o755),
            ("bin/controller", false, 0o755),
            ("etc", true, 0o755),
            ("etc/ssl", true, 0o755),
            ("etc/ssl/certs", true, 0o755),
            ("etc/ssl/certs/ca-certificates.crt", false, 0o644),
        ];
        let got: Vec<(&str, bool, u32)> = entries
            .iter()
            .map(|e| (e.path.trim_end_matches('/'), e.dir, e.mode))
            .collect();
        assert_eq!(got, expected, "{}: layer entries", img.reference);
        for e in &entries {
            assert_eq!(e.owner, (0, 0), "{e:?}");
            assert_eq!(e.mtime, provenance.epoch as u64, "{e:?}");
        }
        assert!(
            !files.keys().any(|p| p.ends_with("sh")),
            "a shell: {files:?}"
        );

        // The binary is static (no ELF interpreter) and runs on its own.
        let binary = &files["bin/controller"];
        assert!(
            !program_header_types(binary).contains(&PT_INTERP),
            "{}: /bin/controller is dynamically linked",
            img.reference
        );
        let dir = tempdir("run");
        let exe = dir.path().join("controller");
        fs::write(&exe, binary).unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let help = run_static(&exe);
        assert!(
            text(&help.stdout).contains("--aws-region"),
            "{}",
            text(&help.stdout)
        );

        // The CA bundle: Mozilla's roots as PEM.
        let certs = pem::parse_many(&files["etc/ssl/certs/ca-certificates.crt"]).unwrap();
        assert!(certs.len() > 100, "only {} CA certificates", certs.len());
        assert!(certs.iter().all(|c| c.tag() == "CERTIFICATE"));

        // At most a quarter of ACK's binary for the same service.
        let ack_mb = ACK_BINARY_MB
            .iter()
            .find(|(svc, _)| *svc == img.service)
            .expect("ACK's size is known")
            .1;
        let unpacked_mb = img.unpacked_size as f64 / 1e6;
        assert!(
            unpacked_mb <= ack_mb / 4.0,
            "{}: {unpacked_mb:.1} MB unpacked, over a quarter of ACK's {ack_mb} MB",
            img.reference
        );
    }
}

#[test]
fn the_same_commit_gives_the_same_digest() {
    let provenance = Provenance::from_repo(&repo()).unwrap();
    // One service is enough here: the writer is the same for all (and slow in a debug build).
    for img in images().iter().filter(|i| i.service == "sqs") {
        // The binary as built, written again into another directory: same bytes, same digest.
        let layout = image::read_layout(&img.layout).unwrap();
        let (_, files) = unpack_layer(&layout.layers[0]);
        let dir = tempdir("again");
        let again = image::write_image(
            &img.service,
            &files["bin/controller"],
            &provenance,
            dir.path(),
        )
        .unwrap();
        assert_eq!(
            again.manifest_digest, img.manifest_digest,
            "{}",
            img.service
        );
        assert_eq!(
            fs::read(&again.archive).unwrap(),
            fs::read(&img.archive).unwrap(),
            "{}: the archives differ",
            img.service
        );
    }
    // A second build of the same commit (cargo and the image writer again) changes nothing.
    let rebuilt = image::build(&repo(), &["sqs".to_string()]).unwrap();
    let first = images().iter().find(|i| i.service == "sqs").unwrap();
    assert_eq!(rebuilt[0].manifest_digest, first.manifest_digest);
}

#[test]
fn skopeo_reads_the_archive_as_oci_and_as_docker_archive() {
    testenv::debian::ensure(&[("skopeo", "skopeo")], "the image tests").unwrap();
    let img = &images()[0];
    let inspect = |transport: &str| -> serde_json::Value {
        let out = run_ok(Command::new("skopeo").args([
            "inspect",
            "--config",
            &format!("{transport}:{}", img.archive.display()),
        ]));
        serde_json::from_slice(&out.stdout).expect("skopeo's JSON")
    };
    for transport in ["oci-archive", "docker-archive"] {
        let config = inspect(transport);
        assert_eq!(config["config"]["User"], "65532:65532", "{transport}");
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/bin/controller"]),
            "{transport}"
        );
    }
    // As OCI, skopeo sees the very manifest the layout has.
    let out = run_ok(
        Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", img.archive.display())]),
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["Digest"], img.manifest_digest.as_str());
}

/// A child process killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (bounded) until `ready` is true, failing with `what` and the daemon's log.
fn wait_until(what: &str, daemon: &mut Daemon, log: &Path, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if let Ok(Some(status)) = daemon.0.try_wait() {
            panic!(
                "{what} exited ({status}):\n{}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start:\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn containerd_imports_the_archive() {
    testenv::debian::ensure(
        &[("containerd", "containerd"), ("ctr", "containerd")],
        "the image tests",
    )
    .unwrap();
    // A private containerd: its own root, state and socket in a temp dir, no CRI.
    let dir = tempdir("containerd");
    let d = dir.path();
    let socket = d.join("containerd.sock");
    let config = format!(
        "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
         disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
         [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{ttrpc}\"\n",
        root = d.join("root").display(),
        state = d.join("state").display(),
        sock = socket.display(),
        ttrpc = d.join("ttrpc.sock").display(),
    );
    fs::write(d.join("config.toml"), config).unwrap();
    let log = d.join("containerd.log");
    let mut daemon = Daemon(
        Command::new("containerd")
            .arg("--config")
            .arg(d.join("config.toml"))
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting containerd"),
    );
    let ctr = |args: &[&str]| -> Output {
        run_ok(
            Command::new("ctr")
                .arg("--address")
                .arg(&socket)
                .args(["--namespace", "ack-rs-test"])
                .args(args),
        )
    };
    wait_until("containerd", &mut daemon, &log, || {
        socket.exists()
            && Command::new("ctr")
                .arg("--address")
                .arg(&socket)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
    });
    for img in images() {
        ctr(&["images", "import", &img.archive.display().to_string()]);
    }
    // Listed under the name kubelet asks for, with the layout's digest, and unpacked.
    let listed = text(&ctr(&["images", "ls"]).stdout);
    for img in images() {
        let name = format!("docker.io/{}", img.reference);
        let line = listed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name} not imported:\n{listed}"));
        assert!(line.contains(&img.manifest_digest), "{line}");
        let check = text(&ctr(&["images", "check", &format!("name=={name}")]).stdout);
        assert!(check.contains("complete"), "{check}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running xtask")
}

/// GETs `path` of the registry: the body and the Docker-Content-Digest header.
fn registry_get(base: &str, path: &str, accept: &str) -> (Vec<u8>, Option<String>) {
    let mut res = ureq::get(format!("{base}{path}"))
        .header("Accept", accept)
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let digest = res
        .headers()
        .get("Docker-Content-Digest")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.body_mut().read_to_vec().unwrap();
    (body, digest)
}

#[test]
fn push_to_a_loopback_registry_and_read_it_back() {
    testenv::debian::ensure(&[("docker-registry", "docker-registry")], "the image tests").unwrap();
    let images = images();
    let dir = tempdir("registry");
    let port = free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
         http:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    fs::write(dir.path().join("config.yml"), config).unwrap();
    let log = dir.path().join("registry.log");
    let mut daemon = Daemon(
        Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting docker-registry"),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_until("docker-registry", &mut daemon, &log, || {
        ureq::get(format!("{base}/v2/")).call().is_ok()
    });
    let manifest_type = "application/vnd.oci.image.manifest.v1+json";

    // One image to a named repository and tag.
    let sqs = images.iter().find(|i| i.service == "sqs").unwrap();
    let target = format!("127.0.0.1:{port}/ack-rs/sqs-controller:e2e");
    let out = xtask(&["image", "sqs", "--push", &target]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("pushed {target}@{}", sqs.manifest_digest)),
        "{}",
        text(&out.stdout)
    );
    // Read back by another client: the same manifest bytes, and its blobs.
    let (body, digest) = registry_get(
        &base,
        "/v2/ack-rs/sqs-controller/manifests/e2e",
        manifest_type,
    );
    assert_eq!(image::sha256(&body), sqs.manifest_digest);
    assert_eq!(digest.as_deref(), Some(sqs.manifest_digest.as_str()));
    let layout = image::read_layout(&sqs.layout).unwrap();
    for (blob_digest, bytes) in layout.blobs() {
        let (blob, _) = registry_get(
            &base,
            &format!("/v2/ack-rs/sqs-controller/blobs/{blob_digest}"),
            "*/*",
        );
        assert_eq!(blob, bytes, "blob {blob_digest}");
    }

    // Every image under a namespace, each at <svc>-controller:<version>.
    let out = xtask(&["image", "--push", &format!("127.0.0.1:{port}/team")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for img in images {
        let path = format!(
            "/v2/team/{}-controller/manifests/{}",
            img.service,
            image::TAG
        );
        let (body, _) = registry_get(&base, &path, manifest_type);
        assert_eq!(image::sha256(&body), img.manifest_digest, "{path}");
    }

    // A tag with several images is refused before anything is built or pushed.
    let out = xtask(&["image", "--push", &format!("127.0.0.1:{port}/team/x:1")]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("names one image"),
        "{}",
        text(&out.stderr)
    );
    let res = ureq::get(format!("{base}/v2/team/x/tags/list")).call();
    assert!(res.is_err(), "team/x exists after a refused push");
}

#[test]
fn charts_default_to_these_images() {
    for svc in image::SERVICES {
        let path = repo().join(format!("charts/{svc}-controller/values.yaml"));
        let values: serde_yaml::Value =
            serde_yaml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            values["image"]["repository"].as_str(),
            Some(image::repository(svc).as_str()),
            "{}",
            path.display()
        );
        assert_eq!(values["image"]["tag"].as_str(), Some(image::TAG));
    }
}
