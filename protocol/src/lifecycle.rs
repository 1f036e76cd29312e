//! Operator routes that change what is served (retrain, promote, roll back), and the
//! degradation alerts.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RetrainStarted {
    pub status: String,
}

/// How a retrain ended, as `/admin/retrain` reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RetrainReport {
    /// promoted, rejected, nothing_new or failed.
    pub outcome: String,
    /// The candidate version, when one was trained.
    pub version: Option<String>,
    /// What happened, in words (the gate's reason for promoted and rejected).
    pub message: String,
    /// cron, operator...
    pub trigger: String,
    pub started_unix_ms: i64,
    pub finished_unix_ms: i64,
    /// Accuracies of current and candidate as the gate saw them; null when no
    /// candidate was trained (nothing new, or an error before training).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>, nullable))]
    pub comparison: Option<serde_json::Value>,
}

impl RetrainReport {
    /// `promoted (v3): ...`, one line.
    pub fn summary(&self) -> String {
        match &self.version {
            Some(v) => format!("{} ({v}): {}", self.outcome, self.message),
            None => format!("{}: {}", self.outcome, self.message),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RetrainStatus {
    pub running: bool,
    pub last: Option<RetrainReport>,
    /// The cron schedule (UTC), or null when off.
    pub schedule: Option<String>,
}

/// The version to roll back to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionRequest {
    /// e.g. "v3". For rollback, optional: default the current version's parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^v?[1-9][0-9]{0,8}$"))]
    pub version: Option<String>,
}

/// The version to promote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    /// e.g. "v3".
    #[cfg_attr(feature = "openapi", schema(pattern = r"^v?[1-9][0-9]{0,8}$"))]
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CurrentVersion {
    pub version: String,
    pub previous: String,
}

/// One degradation alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Alert {
    pub id: u64,
    pub at_unix_ms: i64,
    /// accuracy_drop, confidence_drop or live_accuracy_drop.
    pub rule: String,
    /// What was measured against what.
    pub message: String,
    pub model_version: String,
    pub acknowledged: bool,
}
