//! The real `sentimentd serve` in a temporary data directory on a free loopback port,
//! and the one-shot commands through the binary.

use super::fixtures::{copy_dir, short_tempdir, small_base_data};
use super::http::{try_request, Target};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sentimentd")
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

/// Runs a one-shot `sentimentd` command.
pub fn sentimentd(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("sentimentd runs")
}

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
