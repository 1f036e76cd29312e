//! The sentiment engine: a text pipeline (normalise -> tokenise -> n-grams -> TF-IDF)
//! feeding a sparse L2-regularised logistic regression, with explanations, metrics and a
//! versioned, checksummed model artifact. No I/O beyond reading and writing artifacts.

pub mod artifact;
mod dense;
pub mod features;
pub mod label;
pub mod logreg;
pub mod metrics;
pub mod model;
pub mod sparse;
pub mod text;
pub mod train;

pub use artifact::{load_model, save_model, ArtifactError};
pub use features::VectorizerConfig;
pub use label::{InvalidLabel, Label};
pub use logreg::{Design, LinearModel, LogisticConfig};
pub use metrics::{evaluate, EvaluationReport};
pub use model::{Contribution, Explanation, ModelMetadata, Prediction, SentimentModel};
pub use train::{
    containment_groups, cross_validate, train, PreparedFit, PreparedTexts, RowScorer, TrainConfig,
    TrainError, TrainProgress,
};
