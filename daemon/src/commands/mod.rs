//! One module per one-shot command.

pub mod data;
pub mod eval;
pub mod feedback;
pub mod hub_retrain;
pub mod keys;
pub mod models;
pub mod predict;
pub mod push;
pub mod replay;
pub mod serve;
pub mod train;
pub mod tune;

use crate::cli::ModelArgs;
use sentiment_core::TrainConfig;

/// The training configuration the flags describe.
pub fn train_config(args: &ModelArgs) -> TrainConfig {
    let mut config = TrainConfig::default();
    config.logistic.c = args.c;
    config.logistic.max_iter = args.max_iter;
    config.vectorizer.min_df = args.min_df;
    config.vectorizer.max_features = args.max_features;
    config.vectorizer.mark_negation = !args.no_negation;
    config.vectorizer.punctuation_features = args.punctuation_features;
    config.naive_bayes_smoothing = (args.nb_smoothing > 0.0).then_some(args.nb_smoothing);
    config
}
