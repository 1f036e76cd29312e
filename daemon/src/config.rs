//! The daemon's configuration: a TOML file, overridden by `SENTIMENT_*` environment
//! variables, overridden by flags.
//!
//! clap reads flags and environment variables into `Option`s (a flag wins over its
//! variable); whatever both leave unset falls back to the file, then to the defaults
//! below. The resolved [`ServeConfig`] is what the rest of the daemon sees.

pub use crate::cli::AuthMode;
use crate::cli::{Common, KeysFileArgs, LogFormat, ServeArgs};
pub use crate::rate_limit::default_tiers;
use crate::retrain::RetrainSettings;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file's shape. Every field is optional; unknown fields are an error so that a
/// typo does not silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub base_data: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub low_confidence_threshold: Option<f64>,
    /// Share of live predictions queued at random as audit items.
    pub audit_share: Option<f64>,
    /// Draws the audit sample from this seed (reproducible replays); unset: at random.
    pub audit_seed: Option<u64>,
    /// Texts with fewer n-grams the model knows are flagged as unknown.
    pub min_known_ngrams: Option<usize>,
    pub recent_predictions: Option<usize>,
    #[serde(default)]
    pub auth: AuthFile,
    #[serde(default)]
    pub limits: LimitsFile,
    /// Requests per minute by tier name; 0 means unlimited.
    #[serde(default)]
    pub tiers: BTreeMap<String, u32>,
    #[serde(default)]
    pub retrain: RetrainFile,
    #[serde(default)]
    pub hub: HubFile,
    /// `[feedback]`: per-key quota and hold-for-review.
    #[serde(default)]
    pub feedback: crate::feedback_guard::FeedbackPolicy,
}

/// `[hub]`: which Hugging Face Hub repositories the service uses. The endpoint and
/// token are not here: they come from `HF_ENDPOINT` and `HF_TOKEN`, as for every
/// Hugging Face tool, so a token never sits in a config file.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubFile {
    /// Model repository for versions (`owner/name`).
    pub model_repo: Option<String>,
    /// Dataset repository for feedback shards (`owner/name`).
    pub dataset_repo: Option<String>,
    /// Dataset repository of the base data [default: stanfordnlp/sst2].
    pub base_dataset: Option<String>,
    /// This daemon's name in feedback shard paths (`feedback/{node_id}/...`)
    /// [default: one generated once and kept in DATA_DIR/node_id].
    pub node_id: Option<String>,
    /// Seconds between polls of the model repository's index (replicas follow its
    /// current version); 0 turns polling off [default: 300].
    pub poll_interval: Option<u64>,
    /// Seconds between feedback shard uploads to the dataset repository; 0 uploads
    /// only on shutdown [default: 3600].
    pub shard_interval: Option<u64>,
}

/// The default seconds between polls of the model repository (5 minutes).
pub const DEFAULT_POLL_INTERVAL: u64 = 300;
/// The default seconds between feedback shard uploads (hourly).
pub const DEFAULT_SHARD_INTERVAL: u64 = 3_600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrainFile {
    /// Cron expression with seconds (`0 0 3 * * Sun`), or "off".
    pub schedule: Option<String>,
    /// How many model versions the registry keeps (0: all).
    pub keep_versions: Option<usize>,
    /// Replaced by cross-fitting; accepted and ignored (with a warning) so that an
    /// older config file still loads.
    pub holdout_fraction: Option<f64>,
    pub feedback_weights: Option<Vec<f64>>,
    pub feedback_weight: Option<f64>,
    pub folds: Option<usize>,
    pub base_tolerance: Option<f64>,
    pub max_share_per_key: Option<f64>,
    pub min_rows_per_key: Option<usize>,
    pub after_feedback: Option<usize>,
    pub quiet_seconds: Option<u64>,
    pub max_delay_seconds: Option<u64>,
    pub min_interval_seconds: Option<u64>,
}

impl RetrainFile {
    /// The settings this section asks for, over the defaults; checked.
    pub fn settings(&self) -> Result<RetrainSettings> {
        if self.holdout_fraction.is_some() {
            tracing::warn!("retrain.holdout_fraction is no longer used: feedback is cross-fitted (retrain.folds); remove it from the config file");
        }
        let d = RetrainSettings::default();
        let settings = RetrainSettings {
            feedback_weights: self.feedback_weights.clone().unwrap_or(d.feedback_weights),
            feedback_weight: self.feedback_weight.unwrap_or(d.feedback_weight),
            folds: self.folds.unwrap_or(d.folds),
            base_tolerance: self.base_tolerance.unwrap_or(d.base_tolerance),
            max_share_per_key: self.max_share_per_key.unwrap_or(d.max_share_per_key),
            min_rows_per_key: self.min_rows_per_key.unwrap_or(d.min_rows_per_key),
            after_feedback: self.after_feedback.unwrap_or(d.after_feedback),
            quiet_seconds: self.quiet_seconds.unwrap_or(d.quiet_seconds),
            max_delay_seconds: self.max_delay_seconds.unwrap_or(d.max_delay_seconds),
            min_interval_seconds: self.min_interval_seconds.unwrap_or(d.min_interval_seconds),
        };
        settings.validate().map_err(|m| anyhow::anyhow!(m))?;
        Ok(settings)
    }
}

/// The retrain settings of a command that has no daemon configuration of its own
/// (`sentimentd retrain`): the config file's `[retrain]` section over the defaults,
/// resolved as `serve` resolves it.
pub fn retrain_settings(file: &FileConfig) -> Result<(RetrainSettings, usize)> {
    Ok((
        file.retrain.settings()?,
        file.retrain.keep_versions.unwrap_or(DEFAULT_KEEP_VERSIONS),
    ))
}

/// Share of live predictions audited by default: 1%.
pub const DEFAULT_AUDIT_SHARE: f64 = 0.01;

/// Versions the registry keeps by default.
pub const DEFAULT_KEEP_VERSIONS: usize = 20;

/// The default retrain schedule: Sundays at 03:00 UTC, weekly (besides the
/// feedback trigger).
pub const DEFAULT_SCHEDULE: &str = "0 0 3 * * Sun";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub mode: Option<AuthMode>,
    pub keys_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_batch: Option<usize>,
    pub max_text_bytes: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub request_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub header_read_timeout_ms: Option<u64>,
}

/// Request limits.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub max_batch: usize,
    pub max_text_bytes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Open connections per listener; the next one gets 503 and is closed.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers (or, kept alive,
    /// to start the next request) before it is dropped: the slow-loris bound.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch: 1_000,
            max_text_bytes: 20_000,
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            max_connections: 1_024,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub base_data: Option<PathBuf>,
    pub log_format: LogFormat,
    pub low_confidence_threshold: f64,
    /// Share of live predictions queued at random as audit items (0: off).
    pub audit_share: f64,
    /// The audit sample's seed, for replays and benchmarks that must give the same
    /// figures twice; `None` (the default): drawn from the operating system's entropy.
    pub audit_seed: Option<u64>,
    /// A text with fewer known n-grams than this is flagged `unknown_text`, queued
    /// for review and answered with confidence 0.5.
    pub min_known_ngrams: usize,
    pub recent_predictions: usize,
    pub auth_required: bool,
    pub keys_file: PathBuf,
    pub limits: Limits,
    pub tiers: BTreeMap<String, u32>,
    /// Cron expression, or None when scheduled retraining is off.
    pub retrain_schedule: Option<String>,
    pub retrain: RetrainSettings,
    pub keep_versions: usize,
    /// Hub repositories (`[hub]` in the file), with the flags applied.
    pub hub: HubFile,
    /// Per-key feedback quota and hold-for-review (`[feedback]`).
    pub feedback: crate::feedback_guard::FeedbackPolicy,
    /// Between polls of the model repository's index; None: no polling.
    pub hub_poll_interval: Option<Duration>,
    /// Between feedback shard uploads; None: only on shutdown.
    pub hub_shard_interval: Option<Duration>,
}

impl ServeConfig {
    /// The defaults: what `serve` resolves for `data_dir` when no config file,
    /// environment variable or flag sets anything (loopback, so auth off; no base
    /// data, no Hub). [`resolve`] starts from it; tests build one in code.
    pub fn new(data_dir: PathBuf) -> ServeConfig {
        let listen = SocketAddr::from(([127, 0, 0, 1], 8000));
        ServeConfig {
            keys_file: data_dir.join("keys.toml"),
            data_dir,
            listen,
            base_data: None,
            log_format: LogFormat::Human,
            low_confidence_threshold: 0.55,
            audit_share: DEFAULT_AUDIT_SHARE,
            audit_seed: None,
            min_known_ngrams: 1,
            recent_predictions: 1_000,
            auth_required: auth_required(AuthMode::Auto, listen),
            limits: Limits::default(),
            tiers: default_tiers(),
            retrain_schedule: Some(DEFAULT_SCHEDULE.to_string()),
            retrain: RetrainSettings::default(),
            keep_versions: DEFAULT_KEEP_VERSIONS,
            hub: HubFile::default(),
            feedback: Default::default(),
            hub_poll_interval: seconds(DEFAULT_POLL_INTERVAL),
            hub_shard_interval: seconds(DEFAULT_SHARD_INTERVAL),
        }
    }

    pub fn socket_path(&self) -> PathBuf {
        socket_path(&self.data_dir)
    }
    pub fn database_path(&self) -> PathBuf {
        database_path(&self.data_dir)
    }
    pub fn registry_dir(&self) -> PathBuf {
        registry_dir(&self.data_dir)
    }
}

/// The default data directory: `$XDG_DATA_HOME/sentimentd` (or the platform's).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("sentimentd")
}

/// The default config file: `$XDG_CONFIG_HOME/sentimentd/config.toml`.
pub fn default_config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("sentimentd").join("config.toml"))
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("sentimentd.sock")
}
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sentiment.db")
}
pub fn registry_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// Reads the config file: the one named, else the default location if it exists.
pub fn read_file(explicit: Option<&Path>) -> Result<FileConfig> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => match default_config_file().filter(|p| p.is_file()) {
            Some(path) => path,
            None => return Ok(FileConfig::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid config file", path.display()))
}

/// A command's data directory and config file, resolved once.
pub struct Loaded {
    pub data_dir: PathBuf,
    pub file: FileConfig,
}

/// Reads the config file and resolves the data directory: the flag or
/// `SENTIMENT_DATA_DIR`, else the file's `data_dir`, else the default. Every command
/// that works in a data directory starts here, so they all agree on where it is.
pub fn load(common: &Common) -> Result<Loaded> {
    let file = read_file(common.config.as_deref())?;
    let data_dir = common
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(default_data_dir);
    Ok(Loaded { data_dir, file })
}

/// The data directory and `[hub]` section for a one-shot command: flags, then the
/// config file, then the defaults.
pub fn hub_settings(common: &Common) -> Result<(PathBuf, HubFile)> {
    let Loaded { data_dir, file } = load(common)?;
    Ok((data_dir, with_env(file.hub)))
}

/// `SENTIMENT_HUB_MODEL_REPO`, `SENTIMENT_HUB_DATASET_REPO` and
/// `SENTIMENT_HUB_BASE_DATASET` over the file's `[hub]` (CI sets repositories this way).
pub fn with_env(mut hub: HubFile) -> HubFile {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(repo) = var("SENTIMENT_HUB_MODEL_REPO") {
        hub.model_repo = Some(repo);
    }
    if let Some(repo) = var("SENTIMENT_HUB_DATASET_REPO") {
        hub.dataset_repo = Some(repo);
    }
    if let Some(repo) = var("SENTIMENT_HUB_BASE_DATASET") {
        hub.base_dataset = Some(repo);
    }
    hub
}

/// The keys file of `keys add|list|remove`, as `serve` finds it: the flag or
/// `SENTIMENT_KEYS_FILE`, else the config file's `auth.keys_file`, else
/// `DATA_DIR/keys.toml`.
pub fn keys_file(args: &KeysFileArgs) -> Result<PathBuf> {
    let Loaded { data_dir, file } = load(&args.common)?;
    Ok(args
        .keys_file
        .clone()
        .or(file.auth.keys_file)
        .unwrap_or_else(|| data_dir.join("keys.toml")))
}

/// Resolves flags/env over the file over the defaults ([`ServeConfig::new`]), and
/// checks the result.
pub fn resolve(args: &ServeArgs) -> Result<ServeConfig> {
    let Loaded { data_dir, file } = load(&args.common)?;
    let d = ServeConfig::new(data_dir);
    let listen = args.listen.or(file.listen).unwrap_or(d.listen);
    let auth_mode = args.auth.or(file.auth.mode).unwrap_or(AuthMode::Auto);
    let limits = Limits {
        max_batch: args
            .max_batch
            .or(file.limits.max_batch)
            .unwrap_or(d.limits.max_batch),
        max_text_bytes: file
            .limits
            .max_text_bytes
            .unwrap_or(d.limits.max_text_bytes),
        max_body_bytes: file
            .limits
            .max_body_bytes
            .unwrap_or(d.limits.max_body_bytes),
        request_timeout: file
            .limits
            .request_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(d.limits.request_timeout),
        max_connections: file
            .limits
            .max_connections
            .unwrap_or(d.limits.max_connections),
        header_read_timeout: file
            .limits
            .header_read_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(d.limits.header_read_timeout),
    };
    let mut tiers = d.tiers;
    tiers.extend(file.tiers);
    let schedule = args
        .retrain_schedule
        .clone()
        .or(file.retrain.schedule.clone())
        .unwrap_or_else(|| DEFAULT_SCHEDULE.to_string());
    let mut retrain = file.retrain.settings()?;
    if let Some(n) = args.retrain_after_feedback {
        retrain.after_feedback = n;
    }
    let config = ServeConfig {
        keys_file: args
            .keys_file
            .clone()
            .or(file.auth.keys_file)
            .unwrap_or(d.keys_file),
        data_dir: d.data_dir,
        listen,
        base_data: args.base_data.clone().or(file.base_data),
        log_format: args.log_format.or(file.log_format).unwrap_or(d.log_format),
        low_confidence_threshold: args
            .low_confidence_threshold
            .or(file.low_confidence_threshold)
            .unwrap_or(d.low_confidence_threshold),
        audit_share: args
            .audit_share
            .or(file.audit_share)
            .unwrap_or(d.audit_share),
        audit_seed: args.audit_seed.or(file.audit_seed),
        min_known_ngrams: file.min_known_ngrams.unwrap_or(d.min_known_ngrams),
        recent_predictions: file.recent_predictions.unwrap_or(d.recent_predictions),
        auth_required: auth_required(auth_mode, listen),
        limits,
        tiers,
        retrain_schedule: (!schedule.trim().eq_ignore_ascii_case("off")).then_some(schedule),
        retrain,
        keep_versions: file.retrain.keep_versions.unwrap_or(d.keep_versions),
        feedback: file.feedback,
        hub_poll_interval: seconds(
            args.hub_poll_interval
                .or(file.hub.poll_interval)
                .unwrap_or(DEFAULT_POLL_INTERVAL),
        ),
        hub_shard_interval: seconds(
            args.hub_shard_interval
                .or(file.hub.shard_interval)
                .unwrap_or(DEFAULT_SHARD_INTERVAL),
        ),
        hub: with_env(HubFile {
            node_id: args.node_id.clone().or(file.hub.node_id),
            ..file.hub
        }),
    };
    validate(&config)?;
    Ok(config)
}

/// Whether TCP requests need an API key: `auto` asks for one off loopback.
fn auth_required(mode: AuthMode, listen: SocketAddr) -> bool {
    match mode {
        AuthMode::On => true,
        AuthMode::Off => false,
        AuthMode::Auto => !listen.ip().is_loopback(),
    }
}

/// A positive number of seconds, or None for 0 (off).
fn seconds(value: u64) -> Option<Duration> {
    (value > 0).then(|| Duration::from_secs(value))
}

fn validate(config: &ServeConfig) -> Result<()> {
    if let Some(node_id) = &config.hub.node_id {
        sentiment_data::hub::validate_node_id(node_id)
            .map_err(|e| anyhow::anyhow!("hub.node_id / --node-id: {e}"))?;
    }
    let t = config.low_confidence_threshold;
    if !(0.5..=1.0).contains(&t) {
        bail!("the low-confidence threshold must be between 0.5 and 1.0, got {t}");
    }
    if !(0.0..=1.0).contains(&config.audit_share) {
        bail!(
            "the audit share must be between 0 and 1, got {}",
            config.audit_share
        );
    }
    if config.limits.max_batch == 0 {
        bail!("the batch limit must be at least 1");
    }
    if config.limits.max_text_bytes == 0 || config.limits.max_body_bytes < 1024 {
        bail!("max_text_bytes must be positive and max_body_bytes at least 1024");
    }
    if config.limits.request_timeout.is_zero() || config.limits.header_read_timeout.is_zero() {
        bail!("request_timeout_ms and header_read_timeout_ms must be positive");
    }
    if config.limits.max_connections == 0 {
        bail!("max_connections must be at least 1");
    }
    config
        .feedback
        .validate()
        .map_err(|message| anyhow::anyhow!(message))?;
    if let Some(schedule) = &config.retrain_schedule {
        crate::retrain::schedule::validate(schedule)?;
    }
    if config.recent_predictions == 0 {
        bail!("recent_predictions must be at least 1");
    }
    // A Unix socket path is limited to 107 bytes on Linux.
    let socket = config.socket_path();
    if socket.as_os_str().len() > 107 {
        bail!(
            "the socket path {} is longer than the 107 bytes Unix sockets allow; use a shorter --data-dir",
            socket.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_parses_and_rejects_unknown_fields() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "0.0.0.0:9000"
            low_confidence_threshold = 0.6
            [auth]
            mode = "on"
            [limits]
            max_batch = 50
            [tiers]
            free = 20
            gold = 0
            "#,
        )
        .unwrap();
        assert_eq!(file.listen.unwrap().port(), 9000);
        assert_eq!(file.auth.mode, Some(AuthMode::On));
        assert_eq!(file.limits.max_batch, Some(50));
        assert_eq!(file.tiers["gold"], 0);
        assert!(toml::from_str::<FileConfig>("lissen = \"x\"").is_err());
    }
}
