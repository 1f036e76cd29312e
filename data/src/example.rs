//! One labelled text: the unit every reader produces and every trainer consumes.

use sentiment_core::Label;
use serde::{Deserialize, Serialize};

/// A text with its sentiment. The text is kept exactly as it was in the source (not
/// normalised), so that a dataset written back out is the dataset that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: Label,
}

impl Example {
    /// Convenience constructor.
    pub fn new(text: impl Into<String>, label: Label) -> Self {
        Example {
            text: text.into(),
            label,
        }
    }
}
