//! A harness for end-to-end tests: the real `sentimentd serve` in a temporary data
//! directory on a free loopback port, and a small HTTP/1.1 client that speaks to it
//! over TCP or the Unix socket (and can send malformed bytes on purpose).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn shared_data() -> PathBuf {
    match std::env::var_os("SENTIMENT_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sentimentd")
}

/// A small base dataset (the first 8,000 SST-2 training rows, and SST-2's validation
/// split as the test split) written to a temporary directory once per test binary.
pub fn small_base_data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("sentimentd-base-")
            .tempdir()
            .unwrap()
            .keep();
        let sst2 = shared_data().join("sst2");
        let train = std::fs::read_to_string(sst2.join("train.tsv")).expect("shared SST-2 train");
        let head: Vec<&str> = train.lines().take(8_001).collect();
        std::fs::write(dir.join("train.tsv"), head.join("\n") + "\n").unwrap();
        std::fs::copy(sst2.join("validation.tsv"), dir.join("validation.tsv")).unwrap();
        dir
    })
}

/// A data directory where version 1 was already bootstrapped from the small base
/// data, so each test's daemon starts without training.
fn template_data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = short_tempdir();
        let mut daemon = Daemon::start_in(
            dir.clone(),
            &["--base-data", small_base_data().to_str().unwrap()],
        );
        daemon.terminate();
        // Keep the directory: it is the template.
        daemon.data_dir = PathBuf::new();
        let _ = std::fs::remove_file(dir.join("sentiment.db"));
        let _ = std::fs::remove_file(dir.join("sentiment.db-wal"));
        let _ = std::fs::remove_file(dir.join("sentiment.db-shm"));
        dir
    })
}

/// Temp dirs under /tmp keep the socket path short (Unix sockets allow 107 bytes).
pub fn short_tempdir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("sd-")
        .tempdir_in("/tmp")
        .unwrap()
        .keep()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub data_dir: PathBuf,
    pub port: u16,
    pub args: Vec<String>,
    pub log: PathBuf,
}

impl Daemon {
    /// A daemon on a fresh data directory holding the template's model.
    pub fn start(extra: &[&str]) -> Daemon {
        let dir = short_tempdir();
        copy_dir(&template_data_dir().join("models"), &dir.join("models"));
        Daemon::start_in(dir, extra)
    }

    /// [`Daemon::start`] with extra environment variables.
    pub fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let dir = short_tempdir();
        copy_dir(&template_data_dir().join("models"), &dir.join("models"));
        Daemon::start_in_env(dir, extra, env)
    }

    /// A daemon on `data_dir` (e.g. a small file system mounted there), after copying
    /// the template's model into it.
    pub fn start_with_model_in(data_dir: PathBuf, extra: &[&str]) -> Daemon {
        copy_dir(
            &template_data_dir().join("models"),
            &data_dir.join("models"),
        );
        Daemon::start_in(data_dir, extra)
    }

    pub fn start_in(data_dir: PathBuf, extra: &[&str]) -> Daemon {
        Daemon::start_in_env(data_dir, extra, &[])
    }

    /// [`Daemon::start_in`] with extra environment variables (e.g. `HF_ENDPOINT`).
    pub fn start_in_env(data_dir: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let port = free_port();
        let mut args = vec![
            "serve".to_string(),
            "--data-dir".into(),
            data_dir.to_str().unwrap().into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        // Most tests drive retraining by hand and count queue items: unless a test
        // asks for them, the daemon neither retrains on feedback by itself nor draws
        // audit samples (the environment variables leave a test's flags the last
        // word). tests/learning.rs runs the defaults.
        let mut env: Vec<(&str, &str)> = env.to_vec();
        if !env.iter().any(|(k, _)| *k == "SENTIMENT_DEFAULT_LEARNING") {
            env.push(("SENTIMENT_RETRAIN_AFTER_FEEDBACK", "0"));
            env.push(("SENTIMENT_AUDIT_SHARE", "0"));
        }
        Daemon::spawn(data_dir, port, args, &env)
    }

    fn spawn(data_dir: PathBuf, port: u16, args: Vec<String>, env: &[(&str, &str)]) -> Daemon {
        let log = data_dir.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = hermetic(Command::new(bin()))
            .args(&args)
            .env("HOME", &data_dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("sentimentd starts");
        let mut daemon = Daemon {
            child,
            data_dir,
            port,
            args,
            log,
        };
        daemon.wait_ready();
        daemon
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "sentimentd exited with {status} before it was ready:\n{}",
                    self.logs()
                );
            }
            if let Ok(r) = try_request(&self.tcp(), "GET", "/health", &[], b"") {
                if r.status == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn tcp(&self) -> Target {
        Target::Tcp(format!("127.0.0.1:{}", self.port))
    }

    pub fn socket(&self) -> Target {
        Target::Unix(self.data_dir.join("run/sentimentd.sock"))
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn terminate(&mut self) {
        unsafe_kill(self.child.id(), "TERM");
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "graceful stop failed ({status}):\n{}",
            self.logs()
        );
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the daemon in KiB (`VmRSS` in `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status of the daemon");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts again on the same data directory and port.
    pub fn restart(mut self) -> Daemon {
        let _ = self.child.try_wait();
        let (dir, port, args) = (self.data_dir.clone(), self.port, self.args.clone());
        self.data_dir = PathBuf::new();
        std::mem::forget(self);
        Daemon::spawn(dir, port, args, &[])
    }
}

/// A command that sees none of the caller's sentimentd or Hugging Face settings: no
/// test may reach the real Hub or a developer's cache by accident.
pub fn hermetic(mut command: Command) -> Command {
    for var in [
        "SENTIMENT_BASE_DATA",
        "SENTIMENT_CONFIG",
        "SENTIMENT_DATA_DIR",
        "HF_ENDPOINT",
        "HF_TOKEN",
        "HF_TOKEN_PATH",
        "HF_HOME",
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "XDG_CACHE_HOME",
        "SENTIMENT_HUB_MODEL_REPO",
        "SENTIMENT_HUB_DATASET_REPO",
        "SENTIMENT_HUB_BASE_DATASET",
        "SENTIMENT_HUB_POLL_INTERVAL",
        "SENTIMENT_HUB_SHARD_INTERVAL",
        "SENTIMENT_HUB_RETRIES",
        "SENTIMENT_NODE_ID",
        "GITHUB_STEP_SUMMARY",
    ] {
        command.env_remove(var);
    }
    command
}

fn unsafe_kill(pid: u32, signal: &str) {
    Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.data_dir.as_os_str().is_empty() && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Where to send a request.
#[derive(Clone, Debug)]
pub enum Target {
    Tcp(String),
    Unix(PathBuf),
}

pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

impl Target {
    pub fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(match self {
            Target::Tcp(addr) => {
                let s = TcpStream::connect(addr)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                Box::new(s)
            }
            Target::Unix(path) => {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                Box::new(s)
            }
        })
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The error code of an error response.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

pub fn try_request(
    target: &Target,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = target.connect()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    // Head and body in one write: the daemon may answer (401, 413, ...) and close
    // before reading the body, and a second write would then race with the close.
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    let written = stream.write_all(&request);
    let mut reader = BufReader::new(stream);
    match (written, read_response(&mut reader)) {
        // The answer came back even though the rest of the body was refused.
        (_, Ok(response)) => Ok(response),
        (Err(write_error), Err(_)) => Err(write_error),
        (Ok(()), Err(read_error)) => Err(read_error),
    }
}

/// One HTTP/1.1 keep-alive connection, reused for many requests (a load generator's
/// client: a new TCP connection per request would measure the handshake, not the
/// daemon, and would run the loopback out of ports in a long run).
pub struct KeepAlive {
    target: Target,
    reader: Option<BufReader<Box<dyn Stream>>>,
}

impl KeepAlive {
    pub fn new(target: Target) -> KeepAlive {
        KeepAlive {
            target,
            reader: None,
        }
    }

    /// Sends a request on the open connection (opening one if needed). An error closes
    /// the connection; the next request opens a new one. Never retries: a failure is
    /// the caller's to count.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let result = self.send(method, path, headers, body);
        match &result {
            Ok(r) if r.header("connection") != Some("close") => {}
            _ => self.reader = None,
        }
        result
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        if self.reader.is_none() {
            self.reader = Some(BufReader::new(self.target.connect()?));
        }
        let reader = self.reader.as_mut().expect("connected");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        reader.get_mut().write_all(&message)?;
        read_response(reader)
    }
}

fn read_response(reader: &mut impl BufRead) -> std::io::Result<Response> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((n, v)) = trimmed.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(length) = find("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body)?;
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

pub fn request(
    target: &Target,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    try_request(target, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn get(target: &Target, path: &str) -> Response {
    request(target, "GET", path, &[], b"")
}

pub fn post_json(target: &Target, path: &str, body: &serde_json::Value) -> Response {
    request(
        target,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

pub fn post_json_with_key(
    target: &Target,
    path: &str,
    key: &str,
    body: &serde_json::Value,
) -> Response {
    let auth = format!("Bearer {key}");
    request(
        target,
        "POST",
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
        ],
        body.to_string().as_bytes(),
    )
}

/// Runs a one-shot `sentimentd` command.
pub fn sentimentd(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("sentimentd runs")
}

/// A config file with `text` in a fresh temporary directory (kept until the process
/// ends: the daemon reads it at start).
pub fn config_file(text: &str) -> PathBuf {
    let path = short_tempdir().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// For tests about other things than review that send anonymous feedback in a
/// made-up vocabulary from one address: no hold for review, no address quota.
pub const ANONYMOUS_FEEDBACK_UNBOUNDED: &str =
    "[feedback]\nhold_contradicting_confidence = \"off\"\nmax_per_address_per_day = 0\n";

/// Adds an API key with `sentimentd keys add` and returns the key it printed.
pub fn add_key(keys: &Path, name: &str, tier: &str, role: &str) -> String {
    let out = sentimentd(&[
        "keys",
        "add",
        "--keys-file",
        keys.to_str().unwrap(),
        "--name",
        name,
        "--tier",
        tier,
        "--role",
        role,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
