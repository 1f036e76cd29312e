//! `POST /predict`, `POST /predict/batch` and the operator's `POST /admin/explain`.

use crate::Label;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A text to classify, as the schema states it: at least one character that is neither
/// whitespace nor a control character (after the daemon's clean-up such a text would
/// be empty).
#[cfg(feature = "openapi")]
pub struct Text;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .pattern(Some(crate::TEXT_PATTERN))
            .description(Some(
                "A text to classify: UTF-8, at most `limits.max_text_bytes` bytes, not only \
                 whitespace; control characters are cleaned up as in /predict",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for Text {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The text to classify (UTF-8, not empty, at most `limits.max_text_bytes` bytes).
    /// Control characters are cleaned up, not refused: C1 controls (U+0080-U+009F) read
    /// as their Windows-1252 meaning (U+0096 is an en dash), others as spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, pattern = r"[^\s\x00-\x1f\x7f-\x9f]")
    )]
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Probabilities {
    pub negative: f64,
    pub positive: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NgramContribution {
    pub ngram: String,
    /// The n-gram's TF-IDF value in this text.
    pub tfidf: f64,
    /// The model's weight for it.
    pub weight: f64,
    /// tfidf x weight: its push on the log-odds of positive.
    pub contribution: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExplanationBody {
    pub towards_positive: Vec<NgramContribution>,
    pub towards_negative: Vec<NgramContribution>,
    /// The model's bias (log-odds before any n-gram).
    pub bias: f64,
    /// How many of the text's n-grams the model knows.
    pub known_ngrams: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PredictResponse {
    /// Pass it to /feedback as `prediction_id` to correct this prediction.
    pub prediction_id: String,
    pub label: Label,
    /// The probability of the predicted label.
    pub confidence: f64,
    pub probabilities: Probabilities,
    /// Below the low-confidence threshold, or about a text the model knows too few
    /// n-grams of: queued for an operator's label.
    pub low_confidence: bool,
    /// Why it is low-confidence: `below_threshold`, or `unknown_text` (too few known
    /// n-grams; the confidence is then 0.5). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
    pub model_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationBody>,
}

/// An unrecorded prediction with its explanation (operators only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExplainResponse {
    pub label: Label,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub model_version: String,
    pub explanation: ExplanationBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Texts to classify (at most `limits.max_batch`), each cleaned up as `text` is
    /// in /predict.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Text>, min_items = 1))]
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BatchItem {
    pub label: Label,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub low_confidence: bool,
    /// `below_threshold` or `unknown_text`, as for /predict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BatchResponse {
    pub model_version: String,
    /// One per text, in order.
    pub predictions: Vec<BatchItem>,
}
