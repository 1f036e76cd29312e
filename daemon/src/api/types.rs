//! Request and response bodies of the public API. They are defined, with their OpenAPI
//! schemas, in the protocol crate (`sentiment_protocol`), which the console shares;
//! here is what only the daemon needs: conversions from its own types, the text
//! clean-up, query parameters, and touches to the document.

use serde::Deserialize;
use utoipa::IntoParams;

pub use sentiment_protocol::*;

/// A value as it goes on the wire: the daemon's internal types (engine and store)
/// become the protocol crate's here.
pub trait ToWire {
    type Wire;
    fn to_wire(self) -> Self::Wire;
}

impl ToWire for sentiment_core::Label {
    type Wire = Label;
    fn to_wire(self) -> Label {
        match self {
            sentiment_core::Label::Negative => Label::Negative,
            sentiment_core::Label::Positive => Label::Positive,
        }
    }
}

/// A wire label as the engine's.
pub fn core_label(label: Label) -> sentiment_core::Label {
    match label {
        Label::Negative => sentiment_core::Label::Negative,
        Label::Positive => sentiment_core::Label::Positive,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// Add the n-grams that pushed the prediction towards each class.
    #[serde(default)]
    pub explain: bool,
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
