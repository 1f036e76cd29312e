//! Feedback on the Hub: every daemon uploads its accepted feedback to the dataset
//! repository as append-only CSV shards, one new file per upload, named by node and
//! time, so no two writers ever touch one file:
//!
//! ```text
//! feedback/{node_id}/{utc_timestamp}.csv     e.g. feedback/web-1/20261129T030000.000Z.csv
//! ```
//!
//! A feedback row is identified across machines by (node id, local id). The retrain
//! reads every shard plus its own local feedback and de-duplicates on that pair, so a
//! row that reached the Hub twice (or is both local and uploaded) counts once.

use super::client::HubClient;
use super::error::HubError;
use crate::store::{FeedbackRecord, FeedbackStatus};
use sentiment_core::Label;
use std::collections::BTreeMap;
use std::path::Path;
use time::OffsetDateTime;

/// The folder of the dataset repository that holds the shards.
pub const FEEDBACK_DIR: &str = "feedback";

/// What `snapshot_download` fetches: every shard of every node.
pub const SHARD_PATTERN: &str = "feedback/**/*.csv";

/// A shard's columns, in order. Timestamps are Unix milliseconds (exact, no parsing
/// ambiguity); labels are `negative`/`positive`; `api_key` is the key's name on its
/// node, never a secret.
pub const SHARD_COLUMNS: [&str; 11] = [
    "node_id",
    "id",
    "created_unix_ms",
    "text",
    "correct_label",
    "predicted_label",
    "confidence",
    "source",
    "api_key",
    "model_version",
    "status",
];

/// A node id must be one safe path segment: it names a folder of the dataset repo.
pub fn validate_node_id(node_id: &str) -> Result<(), String> {
    let ok_chars = node_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if node_id.is_empty() || node_id.len() > 64 || !ok_chars || node_id.starts_with('.') {
        return Err(format!(
            "the node id {node_id:?} is not usable as a folder name on the Hub: use 1 to 64 \
             letters, digits, '-', '_' or '.', not starting with '.'"
        ));
    }
    Ok(())
}

/// `feedback/{node_id}/{YYYYMMDD}T{HHMMSS}.{mmm}Z.csv` for a shard made at `unix_ms`.
pub fn shard_path(node_id: &str, unix_ms: i64) -> String {
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{FEEDBACK_DIR}/{node_id}/{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z.csv",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

/// A shard's bytes: a header and one line per row, by id.
pub fn shard_csv(node_id: &str, rows: &[FeedbackRecord]) -> Vec<u8> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(SHARD_COLUMNS).expect("writing to memory");
    for r in rows {
        csv.write_record([
            node_id.to_string(),
            r.id.to_string(),
            r.created_unix_ms.to_string(),
            r.text.clone(),
            r.correct_label.to_string(),
            r.predicted_label.map(|l| l.to_string()).unwrap_or_default(),
            r.confidence.map(|c| c.to_string()).unwrap_or_default(),
            r.source.clone(),
            r.api_key.clone().unwrap_or_default(),
            r.model_version.clone().unwrap_or_default(),
            r.status.to_string(),
        ])
        .expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

/// One feedback row from a shard, with the node that took it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedFeedback {
    pub node_id: String,
    pub record: FeedbackRecord,
}

/// Reads a shard written by [`shard_csv`]. Any malformed row fails the whole shard
/// with its line: a shard is machine-written, so a bad one means corruption.
pub fn parse_shard(repo: &str, path: &str, bytes: &[u8]) -> Result<Vec<SharedFeedback>, HubError> {
    let bad = |line: u64, message: String| HubError::BadShard {
        repo: repo.to_string(),
        path: path.to_string(),
        message: format!("line {line}: {message}"),
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    if header.iter().ne(SHARD_COLUMNS) {
        return Err(bad(
            1,
            format!("the header is {header:?}, expected {SHARD_COLUMNS:?}"),
        ));
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let row = row.map_err(|e| bad(line, e.to_string()))?;
        let field = |n: usize| row.get(n).unwrap_or_default();
        let optional = |n: usize| Some(field(n).to_string()).filter(|v| !v.is_empty());
        let number = |n: usize| {
            field(n).parse::<i64>().map_err(|_| {
                bad(
                    line,
                    format!("{} is not a number: {:?}", SHARD_COLUMNS[n], field(n)),
                )
            })
        };
        let label = |n: usize| {
            field(n)
                .parse::<Label>()
                .map_err(|e| bad(line, format!("{}: {e}", SHARD_COLUMNS[n])))
        };
        let predicted_label = match field(5) {
            "" => None,
            _ => Some(label(5)?),
        };
        let confidence = match field(6) {
            "" => None,
            raw => Some(
                raw.parse::<f64>()
                    .map_err(|_| bad(line, format!("confidence is not a number: {raw:?}")))?,
            ),
        };
        let status: FeedbackStatus = field(10)
            .parse()
            .map_err(|e: crate::store::StoreError| bad(line, e.to_string()))?;
        out.push(SharedFeedback {
            node_id: field(0).to_string(),
            record: FeedbackRecord {
                id: number(1)?,
                created_unix_ms: number(2)?,
                text: field(3).to_string(),
                correct_label: label(4)?,
                predicted_label,
                confidence,
                prediction_id: None,
                source: field(7).to_string(),
                api_key: optional(8),
                model_version: optional(9),
                status,
                client: None,
            },
        });
    }
    Ok(out)
}

/// Merges feedback from shards with this node's local feedback for a retrain:
/// accepted rows only, de-duplicated by feedback id (node id + local id; a row seen
/// in several places counts once, the local copy winning since it has the latest
/// status), oldest first.
///
/// The result gets fresh ids `1..=n` in that order, because local ids of different
/// nodes collide and the retrain orders by id ("newest feedback on a text wins").
/// API key names are prefixed with their node (`node/key`), so the per-key cap counts
/// each node's keys apart.
pub fn merge_feedback(
    shared: Vec<SharedFeedback>,
    local_node: &str,
    local: Vec<FeedbackRecord>,
) -> Vec<FeedbackRecord> {
    let mut by_id: BTreeMap<(String, i64), FeedbackRecord> = BTreeMap::new();
    for row in shared {
        by_id.insert((row.node_id, row.record.id), row.record);
    }
    for record in local {
        by_id.insert((local_node.to_string(), record.id), record);
    }
    let mut merged: Vec<((String, i64), FeedbackRecord)> = by_id
        .into_iter()
        .filter(|(_, r)| r.status == FeedbackStatus::Accepted)
        .collect();
    merged.sort_by(|(ka, a), (kb, b)| {
        a.created_unix_ms
            .cmp(&b.created_unix_ms)
            .then_with(|| ka.cmp(kb))
    });
    merged
        .into_iter()
        .enumerate()
        .map(|(i, ((node, _), mut record))| {
            record.id = i as i64 + 1;
            record.api_key = record.api_key.map(|key| format!("{node}/{key}"));
            record
        })
        .collect()
}

impl HubClient {
    /// The dataset repository from the configuration, or an error saying how to set it.
    pub fn dataset_repo(&self) -> Result<String, HubError> {
        self.config()
            .dataset_repo
            .clone()
            .ok_or(HubError::NoDatasetRepo)
    }

    /// Adds (or, on a retry, rewrites with the same content) one shard in the dataset
    /// repository, in its own commit, and returns the commit id.
    pub fn upload_feedback_shard(
        &self,
        path: &str,
        bytes: Vec<u8>,
        rows: usize,
    ) -> Result<String, HubError> {
        let repo = self.dataset_repo()?;
        self.require_token(&format!(
            "uploading feedback to the dataset repository {repo}"
        ))?;
        let info = self
            .dataset(&repo)
            .create_commit()
            .operations(vec![hf_hub::repository::CommitOperation::add_bytes(
                path.to_string(),
                bytes,
            )])
            .commit_message(format!("Add {rows} feedback rows: {path}"))
            .send()
            .map_err(|e| self.context(&repo, "dataset", "write").map(e))?;
        Ok(info.commit_oid.unwrap_or_default())
    }

    /// Every shard of the dataset repository, downloaded into the cache (shards
    /// already cached are not fetched again), parsed. A repository with no shards yet
    /// has no feedback.
    pub fn download_feedback(&self) -> Result<Vec<SharedFeedback>, HubError> {
        let repo = self.dataset_repo()?;
        let dir = self
            .dataset(&repo)
            .snapshot_download()
            .allow_patterns(vec![SHARD_PATTERN.to_string()])
            .send()
            .map_err(|e| self.context(&repo, "dataset", "read").map(e))?;
        let mut files = Vec::new();
        collect_csv(&dir.join(FEEDBACK_DIR), &mut files)?;
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|source| HubError::Io {
                path: file.clone(),
                source,
            })?;
            let relative = file
                .strip_prefix(&dir)
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            out.extend(parse_shard(&repo, &relative, &bytes)?);
        }
        Ok(out)
    }
}

fn collect_csv(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), HubError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(HubError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let path = entry
            .map_err(|source| HubError::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect_csv(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, at: i64, text: &str, key: Option<&str>) -> FeedbackRecord {
        FeedbackRecord {
            id,
            created_unix_ms: at,
            text: text.into(),
            predicted_label: Some(Label::Negative),
            correct_label: Label::Positive,
            confidence: Some(0.625),
            prediction_id: Some("p1".into()),
            source: "api".into(),
            api_key: key.map(str::to_string),
            model_version: Some("v1".into()),
            status: FeedbackStatus::Accepted,
            client: None,
        }
    }

    #[test]
    fn shard_paths_are_per_node_and_sortable_by_time() {
        assert_eq!(
            shard_path("web-1", 1_764_385_200_123),
            "feedback/web-1/20251129T030000.123Z.csv"
        );
        assert!(shard_path("a", 1_000) < shard_path("a", 2_000));
        assert!(validate_node_id("web-1.eu_2").is_ok());
        for bad in ["", "a/b", "..", ".hidden", "sp ace"] {
            assert!(validate_node_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_shard_round_trips_with_awkward_text() {
        let rows = vec![
            row(7, 1, "quotes \" and, commas\nand lines", Some("alice")),
            FeedbackRecord {
                predicted_label: None,
                confidence: None,
                api_key: None,
                model_version: None,
                ..row(9, 2, "plain", None)
            },
        ];
        let bytes = shard_csv("n1", &rows);
        let parsed = parse_shard("r", "p.csv", &bytes).unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(parsed.iter().all(|p| p.node_id == "n1"));
        let mut expected = rows.clone();
        expected[0].prediction_id = None;
        expected[1].prediction_id = None;
        assert_eq!(
            parsed.into_iter().map(|p| p.record).collect::<Vec<_>>(),
            expected
        );
        let error = parse_shard("r", "p.csv", b"id,text\n1,x\n").unwrap_err();
        assert!(error.to_string().contains("p.csv"), "{error}");
    }

    #[test]
    fn merging_deduplicates_by_node_and_id_and_renumbers_by_time() {
        let shared = vec![
            SharedFeedback {
                node_id: "a".into(),
                record: row(1, 30, "a1", Some("k")),
            },
            // The same row twice (a retried upload): counted once.
            SharedFeedback {
                node_id: "a".into(),
                record: row(1, 30, "a1", Some("k")),
            },
            // Same local id on another node: a different row.
            SharedFeedback {
                node_id: "b".into(),
                record: row(1, 10, "b1", Some("k")),
            },
            // Uploaded by this node, and still local: once, the local copy winning.
            SharedFeedback {
                node_id: "me".into(),
                record: row(5, 20, "mine", None),
            },
        ];
        let mut rejected_locally = row(5, 20, "mine", None);
        rejected_locally.status = FeedbackStatus::Rejected;
        let merged = merge_feedback(
            shared,
            "me",
            vec![rejected_locally, row(6, 40, "new here", None)],
        );
        let texts: Vec<&str> = merged.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["b1", "a1", "new here"]);
        assert_eq!(merged.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(merged[0].api_key.as_deref(), Some("b/k"));
        assert_eq!(merged[1].api_key.as_deref(), Some("a/k"));
    }
}
