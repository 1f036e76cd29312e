//! The sentiment label as it travels: `"negative"` or `"positive"`.

use serde::{Deserialize, Deserializer, Serialize};

/// A sentiment label. Requests may also use `0` (negative) and `1` (positive);
/// responses always send the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Positive,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Positive => "positive",
        }
    }

    /// The other label.
    pub fn flipped(self) -> Label {
        match self {
            Label::Negative => Label::Positive,
            Label::Positive => Label::Negative,
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Label {
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
                "negative" => Ok(Label::Negative),
                "positive" => Ok(Label::Positive),
                _ => Err(invalid(format!("{text:?}"))),
            },
            Raw::Number(0) => Ok(Label::Negative),
            Raw::Number(1) => Ok(Label::Positive),
            Raw::Number(n) => Err(invalid(n.to_string())),
        }
    }
}

/// The schema says exactly what requests may send (and responses send the strings):
/// `"negative"`, `"positive"`, `0` or `1`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Label {
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

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Label {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_strings_or_indices_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<Label>(json);
        assert_eq!(read(r#""positive""#).unwrap(), Label::Positive);
        assert_eq!(read("0").unwrap(), Label::Negative);
        assert_eq!(read("1").unwrap(), Label::Positive);
        for bad in [
            r#""Positive""#,
            r#""pos""#,
            r#""1""#,
            "2",
            "-1",
            "true",
            "null",
        ] {
            let error = read(bad).unwrap_err().to_string();
            assert!(error.contains("invalid label"), "{bad}: {error}");
        }
        assert_eq!(
            serde_json::to_string(&Label::Negative).unwrap(),
            r#""negative""#
        );
    }
}
