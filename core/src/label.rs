//! The two sentiment classes and how they are spelled in files and requests.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A sentiment class. The numeric value (0 negative, 1 positive) is the one SST-2 and
/// the Hub's `stanfordnlp/sst2` use, so it is also the on-disk encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Positive,
}

/// A label that could not be read; the message lists what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label {0:?}: expected 0/1, negative/positive or neg/pos")]
pub struct InvalidLabel(pub String);

impl Label {
    pub const ALL: [Label; 2] = [Label::Negative, Label::Positive];

    /// 0 for negative, 1 for positive.
    pub fn index(self) -> usize {
        match self {
            Label::Negative => 0,
            Label::Positive => 1,
        }
    }

    /// The label for a class index; anything but 0 or 1 is `None`.
    pub fn from_index(index: i64) -> Option<Label> {
        match index {
            0 => Some(Label::Negative),
            1 => Some(Label::Positive),
            _ => None,
        }
    }

    /// The canonical spelling used in JSON and files: `negative` or `positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Positive => "positive",
        }
    }

    /// The other class.
    pub fn flipped(self) -> Label {
        match self {
            Label::Negative => Label::Positive,
            Label::Positive => Label::Negative,
        }
    }

    /// 1.0 for positive, 0.0 for negative: the regression target.
    pub fn target(self) -> f64 {
        self.index() as f64
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = InvalidLabel;

    /// Accepts `0`/`1`, `negative`/`positive`, `neg`/`pos`, in any case, with
    /// surrounding whitespace ignored.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let trimmed = raw.trim();
        match trimmed.to_ascii_lowercase().as_str() {
            "0" | "negative" | "neg" => Ok(Label::Negative),
            "1" | "positive" | "pos" => Ok(Label::Positive),
            _ => Err(InvalidLabel(raw.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_accepted_spelling() {
        for raw in ["0", "negative", "NEG", " Negative "] {
            assert_eq!(raw.parse::<Label>().unwrap(), Label::Negative, "{raw}");
        }
        for raw in ["1", "positive", "pos", "POSITIVE\n"] {
            assert_eq!(raw.parse::<Label>().unwrap(), Label::Positive, "{raw}");
        }
    }

    #[test]
    fn rejects_other_values_with_the_value_in_the_message() {
        let err = "2".parse::<Label>().unwrap_err();
        assert!(err.to_string().contains("\"2\""));
        assert!("".parse::<Label>().is_err());
        assert!("neutral".parse::<Label>().is_err());
    }

    #[test]
    fn index_round_trips() {
        for label in Label::ALL {
            assert_eq!(Label::from_index(label.index() as i64), Some(label));
        }
        assert_eq!(Label::from_index(2), None);
        assert_eq!(Label::from_index(-1), None);
    }

    #[test]
    fn serialises_lowercase() {
        assert_eq!(
            serde_json::to_string(&Label::Positive).unwrap(),
            "\"positive\""
        );
    }
}
