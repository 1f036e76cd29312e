//! Command-line interface: every command, flag and its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A self-learning sentiment analysis service: serves predictions, learns from
/// corrections, retrains itself and promotes a model only when it is better.
#[derive(Debug, Parser)]
#[command(name = "sentimentd", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: the HTTP API on TCP and the operator socket.
    ///
    /// Configured by a TOML file (--config, else ~/.config/sentimentd/config.toml if it
    /// exists), SENTIMENT_* environment variables and flags; flags win over variables,
    /// which win over the file. On first start with an empty data directory it trains
    /// version 1 from --base-data (else from the Hub's stanfordnlp/sst2) before serving.
    /// Example:
    /// `sentimentd serve --base-data ../shared/data/sst2`
    Serve(ServeArgs),
    /// Retrain now: accepted feedback + base data -> candidate -> gate -> promoted or
    /// rejected. Exit code 0 when a new version was promoted, 3 when not, 1 on error.
    /// A running daemon on the same data directory serves a promoted version within a
    /// second.
    Retrain(RetrainArgs),
    /// Make an earlier version current again (default: the current version's parent).
    Rollback(RollbackArgs),
    /// List the model versions: accuracy on each evaluation set, promoted or why not.
    Models(ModelsArgs),
    /// Drive a running daemon with a stream of labelled texts, as users would: predict
    /// each, correct the wrong ones, retrain every N feedback, and print each version's
    /// accuracy on the base test set and on a held-out part of the stream. Example:
    /// `sentimentd replay --stream ../shared/data/domains/yelp.tsv --stream ../shared/data/domains/amazon.tsv --confirm-share 1`
    Replay(ReplayArgs),
    /// Base data from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN).
    #[command(subcommand)]
    Data(DataCommand),
    /// Push a model version (default: the current one) to the Hub's model repository
    /// (hub.model_repo): versions/vN/model.bin, versions/vN/metadata.json and the index
    /// registry.json, in one commit. Needs HF_TOKEN with write access.
    Push(PushArgs),
    /// Pull a model version (default: the one the Hub's registry.json names current)
    /// into the local registry, and make it current if the Hub says so.
    Pull(PullArgs),
    /// Work with stored feedback (export it as CSV, also while the daemon runs).
    #[command(subcommand)]
    Feedback(FeedbackCommand),
    /// Manage API keys (stored hashed in the keys file).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Train a model on labelled texts and write it to a model file.
    ///
    /// Prints the model's metrics on the validation split (when one is given or found
    /// beside the training split). Example:
    /// `sentimentd train --data ../shared/data/sst2 --out model.bin`
    Train(TrainArgs),
    /// Evaluate a model file on labelled texts and print its metrics.
    ///
    /// Example: `sentimentd eval --model model.bin --data ../shared/data/sst2/validation.tsv`
    Eval(EvalArgs),
    /// Predict the sentiment of texts given as arguments, or one per line on stdin.
    ///
    /// Example: `sentimentd predict --model model.bin --explain "not bad at all"`
    Predict(PredictArgs),
    /// Choose hyper-parameters by grouped k-fold cross-validation on training data.
    ///
    /// Never looks at a validation or test split. Phrases are kept in the fold of the
    /// sentence that contains them (SST-2 holds both), so nothing leaks between folds.
    Tune(TuneArgs),
}

/// Where labelled data comes from, and what to do with bad rows.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Stop at the first malformed row instead of skipping it (skipped rows are
    /// counted and the first few reported with file and line).
    #[arg(long)]
    pub strict: bool,
}

/// Hyper-parameters; the defaults are the ones chosen by `tune` on SST-2.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Inverse regularisation strength (larger: weaker L2 penalty).
    #[arg(long, default_value_t = sentiment_core::LogisticConfig::default().c)]
    pub c: f64,
    /// Minimum number of training texts an n-gram must occur in to be a feature.
    #[arg(long, default_value_t = sentiment_core::VectorizerConfig::default().min_df)]
    pub min_df: u32,
    /// Keep at most this many features, the most frequent first.
    #[arg(long, default_value_t = sentiment_core::VectorizerConfig::default().max_features)]
    pub max_features: usize,
    /// Do not mark words after a negator (`not good` -> `NOT_good`).
    #[arg(long)]
    pub no_negation: bool,
    /// Make punctuation other than `!` and `?` features too.
    #[arg(long)]
    pub punctuation_features: bool,
    /// Smoothing of the naive-Bayes feature scaling (NB-LR); 0 turns the scaling off.
    #[arg(long, value_name = "ALPHA", default_value_t = sentiment_core::TrainConfig::default().naive_bayes_smoothing.unwrap_or(0.0))]
    pub nb_smoothing: f64,
    /// Upper bound on optimiser iterations.
    #[arg(long, default_value_t = sentiment_core::LogisticConfig::default().max_iter)]
    pub max_iter: usize,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data: a file (.tsv, .csv, .jsonl, .parquet) or a directory holding a
    /// train split (and optionally validation/test splits), e.g. ../shared/data/sst2
    /// or a Hub dataset folder with data/train-*.parquet.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Validation data to report metrics on (default: the validation split found
    /// beside the training data, if any). Never trained on.
    #[arg(long, value_name = "PATH")]
    pub validation: Option<PathBuf>,
    /// Where to write the model file (parent directories are created).
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub data_args: DataArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file to evaluate.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Labelled data: a file, or a directory whose validation (else test) split is used.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub data_args: DataArgs,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file to predict with.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Texts to classify; without any, one text per line is read from stdin.
    #[arg(value_name = "TEXT")]
    pub texts: Vec<String>,
    /// Show the n-grams that pushed each prediction most towards each class.
    #[arg(long)]
    pub explain: bool,
    /// How many n-grams per class `--explain` shows.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Training data (file or directory; only the train split is used).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Values of C to try.
    #[arg(long, value_delimiter = ',', default_values_t = [1.0, 2.0, 4.0, 8.0])]
    pub c: Vec<f64>,
    /// Naive-Bayes smoothing values to try (0: no NB scaling).
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.5, 1.0])]
    pub nb_smoothing: Vec<f64>,
    /// Try negation marking on and off (otherwise only the default, on).
    #[arg(long)]
    pub both_negation: bool,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub data_args: DataArgs,
}

/// What every command that works in a data directory shares: the directory and the
/// config file, resolved together by [`crate::config::load`] (flag or environment,
/// then the config file's `data_dir`, then the default), the same way for `serve` and
/// every one-shot command.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Where the daemon keeps everything it persists (models, feedback database,
    /// socket, keys). Default: the config file's `data_dir`, else
    /// $XDG_DATA_HOME/sentimentd (~/.local/share/sentimentd).
    #[arg(long, value_name = "DIR", env = "SENTIMENT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (TOML; its keys and sections are in the README). Default:
    /// $XDG_CONFIG_HOME/sentimentd/config.toml if it exists.
    #[arg(long, value_name = "FILE", env = "SENTIMENT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Whether requests on TCP need an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Off on a loopback address, on anywhere else.
    Auto,
    On,
    Off,
}

/// How a command prints its result.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct Output {
    /// Print JSON instead of text, in the shapes the HTTP API uses (`predict`: one
    /// object per input line).
    #[arg(long)]
    pub json: bool,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
    /// TCP address to serve the API on [default: 127.0.0.1:8000].
    #[arg(long, value_name = "ADDR:PORT", env = "SENTIMENT_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Base dataset for the first model when the data directory has none: a file, or a
    /// directory with a train split and optionally a validation split (such as
    /// ../shared/data/sst2 or a Hub Parquet folder). Without it, the first start
    /// downloads hub.base_dataset (stanfordnlp/sst2) from the Hugging Face Hub.
    #[arg(long, value_name = "PATH", env = "SENTIMENT_BASE_DATA")]
    pub base_data: Option<PathBuf>,
    /// Whether TCP requests need an API key [default: auto = off on loopback, on elsewhere].
    #[arg(long, value_enum, env = "SENTIMENT_AUTH")]
    pub auth: Option<AuthMode>,
    /// The API keys file [default: DATA_DIR/keys.toml].
    #[arg(long, value_name = "FILE", env = "SENTIMENT_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// Log format [default: human].
    #[arg(long, value_enum, env = "SENTIMENT_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Predictions less confident than this are queued for labelling [default: 0.55].
    #[arg(long, value_name = "P", env = "SENTIMENT_LOW_CONFIDENCE_THRESHOLD")]
    pub low_confidence_threshold: Option<f64>,
    /// Most texts accepted by /predict/batch [default: 1000].
    #[arg(long, value_name = "N", env = "SENTIMENT_MAX_BATCH")]
    pub max_batch: Option<usize>,
    /// When to retrain: a cron expression with seconds, e.g. "0 0 3 * * Sun" (the
    /// default: Sundays 03:00), or "off".
    #[arg(long, value_name = "CRON", env = "SENTIMENT_RETRAIN_SCHEDULE")]
    pub retrain_schedule: Option<String>,
    /// Retrain once this many accepted feedback rows arrived (debounced: see the
    /// [retrain] section); 0: only on the schedule and by hand [default: 1].
    #[arg(long, value_name = "N", env = "SENTIMENT_RETRAIN_AFTER_FEEDBACK")]
    pub retrain_after_feedback: Option<usize>,
    /// Share of live predictions sampled at random into the review queue as audit
    /// items, whose operator labels measure live accuracy (never trained on); 0: off
    /// [default: 0.01].
    #[arg(long, value_name = "SHARE", env = "SENTIMENT_AUDIT_SHARE")]
    pub audit_share: Option<f64>,
    /// Draw the audit sample from this seed, so that a replay or benchmark gives the
    /// same figures twice [default: at random].
    #[arg(long, value_name = "SEED", env = "SENTIMENT_AUDIT_SEED")]
    pub audit_seed: Option<u64>,
    /// Seconds between polls of the Hub's model repository (hub.model_repo): a newly
    /// promoted version there is pulled, checked and served. 0: off [default: 300].
    #[arg(long, value_name = "SECS", env = "SENTIMENT_HUB_POLL_INTERVAL")]
    pub hub_poll_interval: Option<u64>,
    /// Seconds between uploads of new accepted feedback to the Hub's dataset repository
    /// (hub.dataset_repo), also done on shutdown. 0: only on shutdown [default: 3600].
    #[arg(long, value_name = "SECS", env = "SENTIMENT_HUB_SHARD_INTERVAL")]
    pub hub_shard_interval: Option<u64>,
    /// This daemon's name in feedback shard paths on the Hub [default: generated once
    /// and kept in DATA_DIR/node_id].
    #[arg(long, value_name = "ID", env = "SENTIMENT_NODE_ID")]
    pub node_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download the base dataset's train and validation Parquet files (default
    /// stanfordnlp/sst2) into the Hub cache and print where they are. Files already
    /// cached at the Hub's current commit are not downloaded again.
    ///
    /// The cache is DATA_DIR/hub-cache, or the Hugging Face cache when HF_HUB_CACHE or
    /// HF_HOME is set. Example: `sentimentd data fetch --data-dir /var/lib/sentimentd`
    Fetch(DataFetchArgs),
}

#[derive(Debug, Args)]
pub struct DataFetchArgs {
    #[command(flatten)]
    pub common: Common,
    /// The dataset repository [default: hub.base_dataset, else stanfordnlp/sst2].
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Also lay the download out as a shared data directory, as the tests read it:
    /// DIR/NAME/{train,validation}.tsv and DIR/hub/datasets/OWNER/NAME/data/*.parquet,
    /// marked partial (DIR/PARTIAL). For CI machines without ../shared/data.
    #[arg(long, value_name = "DIR")]
    pub shared_dir: Option<PathBuf>,
    #[command(flatten)]
    pub output: Output,
}

/// `--repo` of the commands that move model versions to and from the Hub.
#[derive(Debug, Args)]
pub struct ModelRepo {
    /// The model repository [default: hub.model_repo].
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub model: ModelRepo,
    /// The version to push, e.g. v3 [default: the current one].
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub model: ModelRepo,
    /// The version to pull, e.g. v3 [default: the Hub's current one].
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// Write stored feedback to a CSV file (safe while the daemon runs).
    Export(FeedbackExportArgs),
}

#[derive(Debug, Args)]
pub struct FeedbackExportArgs {
    #[command(flatten)]
    pub common: Common,
    /// The CSV file to write (replaced atomically).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// Only feedback in this state (accepted, held or rejected); default: all.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key, print it once, and store only its hash in the keys file.
    Add(KeysAddArgs),
    /// List key names, tiers and roles (never the keys themselves).
    List(KeysListArgs),
    /// Remove a key by name.
    Remove(KeysRemoveArgs),
}

#[derive(Debug, Args)]
pub struct KeysFileArgs {
    #[command(flatten)]
    pub common: Common,
    /// The keys file [default: DATA_DIR/keys.toml].
    #[arg(long, value_name = "FILE", env = "SENTIMENT_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysAddArgs {
    #[command(flatten)]
    pub file: KeysFileArgs,
    /// A unique name for the key (shown in logs and metrics instead of the key).
    #[arg(long)]
    pub name: String,
    /// Rate-limit tier (free: 10 requests/min, standard: 600/min, unlimited, or one
    /// from the config file's [tiers]); any other is refused.
    #[arg(long, default_value = "free")]
    pub tier: String,
    /// user: predict and feedback; admin: also operator routes.
    #[arg(long, value_enum, default_value = "user")]
    pub role: crate::auth::Role,
}

#[derive(Debug, Args)]
pub struct KeysListArgs {
    #[command(flatten)]
    pub file: KeysFileArgs,
}

#[derive(Debug, Args)]
pub struct KeysRemoveArgs {
    #[command(flatten)]
    pub file: KeysFileArgs,
    /// The key's name.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RetrainArgs {
    #[command(flatten)]
    pub common: Common,
    /// Retrain from and to the Hugging Face Hub, as the weekly workflow does: pull the
    /// current model from hub.model_repo, base data from hub.base_dataset (unless
    /// --base-data), every feedback shard from hub.dataset_repo plus this data
    /// directory's feedback, and push a promoted version with registry.json in one
    /// commit. Needs HF_TOKEN with write access.
    #[arg(long)]
    pub hub: bool,
    /// Also write the comparison as Markdown to this file (appended; with --hub the
    /// default is $GITHUB_STEP_SUMMARY when set, the job summary on GitHub Actions).
    #[arg(long, value_name = "PATH")]
    pub summary_file: Option<PathBuf>,
    /// The base dataset [default: the one the model versions recorded].
    #[arg(long, value_name = "PATH", env = "SENTIMENT_BASE_DATA")]
    pub base_data: Option<PathBuf>,
    /// Weight of a feedback example relative to a base example [default: 5].
    #[arg(long, value_name = "W")]
    pub feedback_weight: Option<f64>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub common: Common,
    /// The version to serve, e.g. v2 [default: the current version's parent].
    pub version: Option<String>,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The daemon to drive, through its socket in this data directory (unless --url).
    #[command(flatten)]
    pub common: Common,
    /// Drive the daemon over TCP instead, e.g. http://127.0.0.1:8000 (needs --key with
    /// the admin role for retraining).
    #[arg(long)]
    pub url: Option<String>,
    /// API key for --url.
    #[arg(long, env = "SENTIMENT_API_KEY")]
    pub key: Option<String>,
    /// Labelled texts to replay (repeatable; any format `train` reads).
    #[arg(long, value_name = "PATH", required = true)]
    pub stream: Vec<PathBuf>,
    /// Share of the texts held out (never sent) to measure each version on.
    #[arg(long, default_value_t = 0.5)]
    pub holdout: f64,
    /// Share of wrong predictions the simulated users correct.
    #[arg(long, default_value_t = 1.0)]
    pub correct_share: f64,
    /// Share of right predictions the simulated users confirm.
    #[arg(long, default_value_t = 0.0)]
    pub confirm_share: f64,
    /// Retrain after this many feedback.
    #[arg(long, default_value_t = 300)]
    pub retrain_every: usize,
    /// Send every label flipped: a poisoning campaign.
    #[arg(long)]
    pub flip_labels: bool,
    /// Seed of the split and of the simulated users.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Characters of each version's decision shown in the table.
    #[arg(long, default_value_t = 90)]
    pub decision_width: usize,
    #[command(flatten)]
    pub output: Output,
}
