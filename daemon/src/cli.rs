//! Command-line interface: every command, flag and its help text.

use clap::{Args, Parser, Subcommand};
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
    /// Print the result as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
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
    /// Print the metrics as JSON.
    #[arg(long)]
    pub json: bool,
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
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
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
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data_args: DataArgs,
}
