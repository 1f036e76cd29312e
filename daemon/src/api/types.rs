//! Request and response bodies of the public API, with their OpenAPI schemas.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A sentiment label. Requests may also use `0` (negative) and `1` (positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiLabel {
    Negative,
    Positive,
}

/// The schema says exactly what requests may send (and responses send the strings):
/// `"negative"`, `"positive"`, `0` or `1`.
impl utoipa::PartialSchema for ApiLabel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["negative", "positive"])),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([0, 1])),
            )
            .description(Some(
                "A sentiment label: \"negative\" or \"positive\" (requests may also send 0 or 1; \
                 responses always send the string)",
            ))
            .into()
    }
}

impl ToSchema for ApiLabel {}

impl From<sentiment_core::Label> for ApiLabel {
    fn from(label: sentiment_core::Label) -> ApiLabel {
        match label {
            sentiment_core::Label::Negative => ApiLabel::Negative,
            sentiment_core::Label::Positive => ApiLabel::Positive,
        }
    }
}

impl From<ApiLabel> for sentiment_core::Label {
    fn from(label: ApiLabel) -> sentiment_core::Label {
        match label {
            ApiLabel::Negative => sentiment_core::Label::Negative,
            ApiLabel::Positive => sentiment_core::Label::Positive,
        }
    }
}

impl<'de> Deserialize<'de> for ApiLabel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        let invalid = |shown: String| {
            serde::de::Error::custom(format!(
                "invalid label {shown}: use \"positive\", \"negative\", 1 or 0"
            ))
        };
        let raw = Raw::deserialize(deserializer).map_err(|error: D::Error| {
            // A label field that is absent is reported as missing (serde's "missing
            // field `correct_label`"), not as an invalid label.
            if error.to_string().starts_with("missing field") {
                error
            } else {
                invalid("(not a string or integer)".into())
            }
        })?;
        match raw {
            // Exactly as the schema says: no other spellings ("Positive", "pos", "1").
            Raw::Text(text) => match text.as_str() {
                "negative" => Ok(ApiLabel::Negative),
                "positive" => Ok(ApiLabel::Positive),
                _ => Err(invalid(format!("{text:?}"))),
            },
            Raw::Number(n) => sentiment_core::Label::from_index(n)
                .map(ApiLabel::from)
                .ok_or_else(|| invalid(n.to_string())),
        }
    }
}

/// Incoming text through the one clean-up every entry applies
/// ([`sentiment_core::text::clean`]: C1 controls read as Windows-1252, other controls
/// as spaces), before it is checked, stored or predicted.
pub fn clean_text(text: String) -> String {
    match sentiment_core::text::clean(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cleaned) => cleaned,
    }
}

/// A text to classify, as the schema states it: at least one character that is neither
/// whitespace nor a control character (after the clean-up such a text would be empty).
pub struct Text;

/// The `pattern` of [`Text`] (JSON Schema patterns match anywhere in the string).
pub const TEXT_PATTERN: &str = r"[^\s\x00-\x1f\x7f-\x9f]";

impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .pattern(Some(TEXT_PATTERN))
            .description(Some(
                "A text to classify: UTF-8, at most `limits.max_text_bytes` bytes, not only \
                 whitespace; control characters are cleaned up as in /predict",
            ))
            .into()
    }
}

impl ToSchema for Text {}

fn cleaned<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    String::deserialize(deserializer).map(clean_text)
}

fn cleaned_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(deserializer)
        .map(|texts| texts.into_iter().map(clean_text).collect())
}

fn cleaned_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|text| text.map(clean_text))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The text to classify (UTF-8, not empty, at most `limits.max_text_bytes` bytes).
    /// Control characters are cleaned up, not refused: C1 controls (U+0080-U+009F) read
    /// as their Windows-1252 meaning (U+0096 is an en dash), others as spaces.
    #[serde(deserialize_with = "cleaned")]
    #[schema(min_length = 1, pattern = r"[^\s\x00-\x1f\x7f-\x9f]")]
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// Add the n-grams that pushed the prediction towards each class.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Probabilities {
    pub negative: f64,
    pub positive: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NgramContribution {
    pub ngram: String,
    /// The n-gram's TF-IDF value in this text.
    pub tfidf: f64,
    /// The model's weight for it.
    pub weight: f64,
    /// tfidf x weight: its push on the log-odds of positive.
    pub contribution: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationBody {
    pub towards_positive: Vec<NgramContribution>,
    pub towards_negative: Vec<NgramContribution>,
    /// The model's bias (log-odds before any n-gram).
    pub bias: f64,
    /// How many of the text's n-grams the model knows.
    pub known_ngrams: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictResponse {
    /// Pass it to /feedback as `prediction_id` to correct this prediction.
    pub prediction_id: String,
    pub label: ApiLabel,
    /// The probability of the predicted label.
    pub confidence: f64,
    pub probabilities: Probabilities,
    /// Below the low-confidence threshold, or about a text the model knows too few
    /// n-grams of: queued for an operator's label.
    pub low_confidence: bool,
    /// Why it is low-confidence: `below_threshold`, or `unknown_text` (too few known
    /// n-grams; the confidence is then 0.5). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
    pub model_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationBody>,
}

/// An unrecorded prediction with its explanation (operators only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainResponse {
    pub label: ApiLabel,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub model_version: String,
    pub explanation: ExplanationBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Texts to classify (at most `limits.max_batch`), each cleaned up as `text` is
    /// in /predict.
    #[serde(deserialize_with = "cleaned_list")]
    #[schema(value_type = Vec<Text>, min_items = 1)]
    pub texts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    pub label: ApiLabel,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub low_confidence: bool,
    /// `below_threshold` or `unknown_text`, as for /predict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub model_version: String,
    /// One per text, in order.
    pub predictions: Vec<BatchItem>,
}

/// A correction: either the full form (`text`, `predicted_label`,
/// `correct_label`, `confidence`) or `prediction_id` + `correct_label`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The text that was classified (cleaned up as in /predict).
    #[serde(default, deserialize_with = "cleaned_option")]
    #[schema(min_length = 1, pattern = r"[^\s\x00-\x1f\x7f-\x9f]")]
    pub text: Option<String>,
    pub predicted_label: Option<ApiLabel>,
    pub correct_label: ApiLabel,
    /// The confidence the prediction had, between 0 and 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: Option<f64>,
    /// The id /predict returned; replaces `text`, `predicted_label` and `confidence`.
    #[schema(min_length = 1, max_length = 64)]
    pub prediction_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackResponse {
    /// The stored feedback's id.
    pub id: i64,
    /// `accepted` (used by the next retrain) or `held` (awaiting an operator).
    pub status: String,
    /// When the retrain that learns this feedback is due (Unix milliseconds), when
    /// one is: accepted feedback with learning from feedback on.
    pub retrain_due_unix_ms: Option<i64>,
    /// When this feedback takes effect, in words.
    pub learning: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when ready, else `degraded`.
    pub status: String,
    pub live: bool,
    pub ready: bool,
    pub model_loaded: bool,
    pub model_version: Option<String>,
    pub store_writable: bool,
    /// Why the daemon is not ready, if it is not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub uptime_seconds: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingData {
    pub examples: u64,
    pub positive: u64,
    pub negative: u64,
    pub features: u64,
    /// SHA-256 of the training texts and labels.
    pub data_sha256: String,
    /// Rows by origin (base, feedback).
    pub rows: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfoResponse {
    pub version: String,
    pub created_unix_ms: u64,
    /// RFC 3339.
    pub created: String,
    pub status: String,
    pub decision: String,
    pub parent: Option<String>,
    pub trained_on: TrainingData,
    /// Metrics by evaluation set (accuracy, per-class precision/recall/F1, confusion,
    /// log loss, expected calibration error).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    /// Hyper-parameters.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    #[schema(value_type = Object)]
    pub notes: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LatencySummary {
    pub count: u64,
    /// Upper bounds of the histogram buckets holding each percentile, in ms.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsResponse {
    pub total_predictions: u64,
    pub total_feedback: u64,
    pub low_confidence_count: u64,
    pub model_version: String,
    /// Accuracy of the served model on its base test split.
    pub test_accuracy: Option<f64>,
    /// Mean confidence of the most recent predictions.
    pub average_confidence: Option<f64>,
    pub queue_pending: u64,
    pub rate_limited: u64,
    /// Degradation alerts not yet acknowledged (see /admin/alerts).
    pub alerts_unacknowledged: usize,
    pub latency: BTreeMap<String, LatencySummary>,
    pub uptime_seconds: f64,
    /// Live accuracy of the served version on operator-labelled audit samples, with
    /// its 95% interval; null until one of its predictions is audited.
    pub live_accuracy: Option<crate::live_accuracy::LiveAccuracy>,
    /// Live accuracy of every version that served an audited prediction.
    pub live_accuracy_by_version: Vec<crate::live_accuracy::LiveAccuracy>,
    /// Predictions drawn at random into the review queue as audit items.
    pub audit_sampled: u64,
    /// Feedback rows left out of retrains by the per-sender share cap.
    pub feedback_capped: u64,
    /// Feedback rows held for an operator's review.
    pub feedback_held: u64,
    /// Accepted feedback waiting for the next retrain, and when it is due (Unix ms).
    pub feedback_waiting: usize,
    pub retrain_due_unix_ms: Option<i64>,
}

/// Makes the document say what `/feedback` checks beyond the fields: `text` or
/// `prediction_id` must be there (one of the two forms). utoipa's derive cannot say
/// "at least one of", so the object schema becomes `allOf: [fields, anyOf: [requires
/// text, requires prediction_id]]`.
pub fn require_text_or_prediction_id(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema};
    use utoipa::openapi::RefOr;
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(fields) = components.schemas.remove("FeedbackRequest") else {
        return;
    };
    // Present and not null.
    let requires = |field: &str| {
        ObjectBuilder::new().required(field).property(
            field,
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String),
        )
    };
    let forms = AnyOfBuilder::new()
        .item(requires("text"))
        .item(requires("prediction_id"))
        .description(Some(
            "Either form: `text` (with `predicted_label` and `confidence`), or `prediction_id`",
        ));
    let schema = AllOfBuilder::new().item(fields).item(forms).build();
    components
        .schemas
        .insert("FeedbackRequest".into(), RefOr::T(Schema::AllOf(schema)));
}

/// Request bodies refuse unknown fields (`deny_unknown_fields`); utoipa says so
/// (`additionalProperties: false`) for structs but not for the variants of a tagged
/// enum such as the queue decision, so those are marked here.
pub fn close_enum_variants(doc: &mut utoipa::openapi::OpenApi, names: &[&str]) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    use utoipa::openapi::RefOr;
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in names {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(*name) {
            for item in &mut one_of.items {
                if let RefOr::T(Schema::Object(object)) = item {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}
