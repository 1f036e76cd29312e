//! The training set of a retrain: base examples plus accepted feedback, de-duplicated
//! by normalised text, with audit texts held out and untrusted senders capped.

use sentiment_core::text::normalise;
use sentiment_core::Label;
use sentiment_data::store::FeedbackRecord;
use sentiment_data::Example;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Feedback sources whose rows are trusted: the operator socket, admin keys, and
/// operators' queue decisions. Everything else (user keys, anonymous callers) is not.
pub fn is_trusted_source(source: &str) -> bool {
    matches!(source, "socket" | "admin" | "operator" | "operator_accept")
}

/// Which of two rows for one text wins: an operator's explicit label over anything,
/// trusted senders and operators' accepts over untrusted senders; the newest within a
/// rank. So an operator's label is never overridden by a later accept of the text.
fn rank(record: &FeedbackRecord) -> u8 {
    match record.source.as_str() {
        "operator" => 3,
        source if is_trusted_source(source) => 2,
        _ => 1,
    }
}

/// Who sent an untrusted row, for caps: `key:NAME` or `addr:IP`.
pub fn sender(record: &FeedbackRecord) -> Option<String> {
    if is_trusted_source(&record.source) {
        return None;
    }
    Some(
        record
            .client
            .clone()
            .or_else(|| record.api_key.as_ref().map(|k| format!("key:{k}")))
            .unwrap_or_else(|| "anonymous".to_string()),
    )
}

/// One feedback example as trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackItem {
    pub id: i64,
    pub text: String,
    pub label: Label,
    pub trusted: bool,
}

/// Rows one untrusted sender lost to the share cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cap {
    pub sender: String,
    pub sent: usize,
    pub kept: usize,
}

/// What goes into training.
#[derive(Debug, Default)]
pub struct RetrainSet {
    pub base: Vec<Example>,
    pub feedback: Vec<FeedbackItem>,
    /// Rows by origin, for the version record.
    pub rows: BTreeMap<String, u64>,
    pub caps: Vec<Cap>,
}

/// Limits on untrusted senders.
#[derive(Debug, Clone, Copy)]
pub struct CapOptions {
    /// Largest share of the kept feedback one untrusted sender may contribute, when
    /// others sent feedback too (1.0: no cap).
    pub max_share: f64,
    /// Rows a sender may always contribute.
    pub min_rows: usize,
}

/// Merges base training data with feedback.
///
/// - Feedback is de-duplicated by normalised text: the highest [`rank`] wins, then the
///   newest (largest id).
/// - Texts in `audit_texts` (normalised) are never trained on, from feedback or base:
///   the audit set measures live accuracy and must stay unseen.
/// - A feedback text overrides a base example with the same normalised text (the base
///   example is dropped, so a correction does not fight the base label).
/// - An untrusted sender beyond its share keeps its newest rows (see [`cap`]).
pub fn build(
    base: &[Example],
    feedback: &[FeedbackRecord],
    audit_texts: &HashSet<String>,
    caps: CapOptions,
) -> RetrainSet {
    let mut best: HashMap<String, &FeedbackRecord> = HashMap::new();
    let mut audit_excluded = 0u64;
    for record in feedback {
        let key = normalise(&record.text);
        if audit_texts.contains(&key) {
            audit_excluded += 1;
            continue;
        }
        match best.get(&key) {
            Some(existing) if (rank(existing), existing.id) > (rank(record), record.id) => {}
            _ => {
                best.insert(key, record);
            }
        }
    }
    let deduplicated = best.len();
    let mut kept: Vec<&FeedbackRecord> = best.values().copied().collect();
    kept.sort_by_key(|r| r.id);
    let (kept, cap_notes) = cap(kept, caps);
    let feedback_texts: HashSet<String> = kept.iter().map(|r| normalise(&r.text)).collect();

    let mut set = RetrainSet {
        caps: cap_notes,
        ..RetrainSet::default()
    };
    let mut overridden = 0u64;
    let mut base_audit = 0u64;
    for example in base {
        let key = normalise(&example.text);
        if audit_texts.contains(&key) {
            base_audit += 1;
        } else if feedback_texts.contains(&key) {
            overridden += 1;
        } else {
            set.base.push(example.clone());
        }
    }
    set.feedback = kept
        .iter()
        .map(|r| FeedbackItem {
            id: r.id,
            text: r.text.clone(),
            label: r.correct_label,
            trusted: is_trusted_source(&r.source),
        })
        .collect();
    let capped: usize = set.caps.iter().map(|c| c.sent - c.kept).sum();
    set.rows.insert("base".into(), set.base.len() as u64);
    set.rows.insert("base_overridden".into(), overridden);
    set.rows.insert("base_audit_excluded".into(), base_audit);
    set.rows
        .insert("feedback_train".into(), set.feedback.len() as u64);
    set.rows.insert(
        "feedback_duplicates".into(),
        (feedback.len() as u64 - audit_excluded) - deduplicated as u64,
    );
    set.rows
        .insert("feedback_audit_excluded".into(), audit_excluded);
    set.rows.insert("feedback_capped".into(), capped as u64);
    set
}

/// Caps untrusted senders. A sender may contribute at most `max_share` of the rows
/// when the others' rows are counted with it (at most share/(1-share) times what
/// everybody else sent, so that a flood cannot raise its own cap), and never fewer
/// than `min_rows`. A sender who is the only source of feedback is not capped: there
/// is nobody to drown out, and a one-key deployment must learn (its confident
/// contradictions are held for review when they arrive instead). Trusted rows are
/// never capped. Each capped sender keeps its newest rows.
fn cap(rows: Vec<&FeedbackRecord>, options: CapOptions) -> (Vec<&FeedbackRecord>, Vec<Cap>) {
    if options.max_share >= 1.0 || rows.is_empty() {
        return (rows, Vec::new());
    }
    let mut by_sender: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        if let Some(s) = sender(r) {
            *by_sender.entry(s).or_default() += 1;
        }
    }
    let total = rows.len();
    let mut allowed: HashMap<String, usize> = HashMap::new();
    let mut notes = Vec::new();
    for (name, &count) in &by_sender {
        let others = total - count;
        if others == 0 {
            continue;
        }
        let share = options.max_share;
        let cap = ((others as f64) * share / (1.0 - share)).floor() as usize;
        let cap = cap.max(options.min_rows);
        if count > cap {
            allowed.insert(name.clone(), cap);
            notes.push(Cap {
                sender: name.clone(),
                sent: count,
                kept: cap,
            });
        }
    }
    if allowed.is_empty() {
        return (rows, notes);
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<&FeedbackRecord> = rows
        .into_iter()
        .rev()
        .filter(|r| match sender(r) {
            Some(name) => match allowed.get(&name) {
                Some(&limit) => {
                    let n = seen.entry(name).or_default();
                    *n += 1;
                    *n <= limit
                }
                None => true,
            },
            None => true,
        })
        .collect();
    kept.reverse();
    (kept, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_data::store::FeedbackStatus;

    fn fb(id: i64, text: &str, label: Label, source: &str, client: Option<&str>) -> FeedbackRecord {
        FeedbackRecord {
            id,
            created_unix_ms: id,
            text: text.into(),
            predicted_label: None,
            correct_label: label,
            confidence: None,
            prediction_id: None,
            source: source.into(),
            api_key: None,
            client: client.map(str::to_string),
            model_version: None,
            status: FeedbackStatus::Accepted,
        }
    }

    const NO_CAP: CapOptions = CapOptions {
        max_share: 1.0,
        min_rows: 0,
    };

    fn example(text: &str, label: Label) -> Example {
        Example {
            text: text.into(),
            label,
        }
    }

    #[test]
    fn feedback_overrides_base_and_the_newest_of_a_rank_wins() {
        let base = vec![
            example("Not bad", Label::Negative),
            example("awful", Label::Negative),
        ];
        let feedback = vec![
            fb(1, "not bad", Label::Negative, "socket", None),
            fb(2, "NOT BAD", Label::Positive, "socket", None),
        ];
        let set = build(&base, &feedback, &HashSet::new(), NO_CAP);
        assert_eq!(set.base, vec![example("awful", Label::Negative)]);
        assert_eq!(set.feedback.len(), 1);
        assert_eq!(set.feedback[0].id, 2);
        assert_eq!(set.feedback[0].label, Label::Positive);
        assert_eq!(set.rows["base_overridden"], 1);
        assert_eq!(set.rows["feedback_duplicates"], 1);
    }

    #[test]
    fn an_operator_label_is_never_overridden_by_a_later_accept_or_user() {
        let feedback = vec![
            fb(1, "so so", Label::Positive, "operator", None),
            fb(2, "so so", Label::Negative, "operator_accept", None),
            fb(3, "so so", Label::Negative, "api", Some("key:alice")),
        ];
        let set = build(&[], &feedback, &HashSet::new(), NO_CAP);
        assert_eq!(set.feedback.len(), 1);
        assert_eq!(
            (set.feedback[0].id, set.feedback[0].label),
            (1, Label::Positive)
        );
        // A later operator label does replace an earlier one.
        let mut more = feedback.clone();
        more.push(fb(4, "So so", Label::Negative, "operator", None));
        let set = build(&[], &more, &HashSet::new(), NO_CAP);
        assert_eq!(set.feedback[0].id, 4);
    }

    #[test]
    fn audit_texts_are_never_trained_on() {
        let base = vec![example("a fine lunch", Label::Positive)];
        let feedback = vec![
            fb(1, "A fine lunch", Label::Positive, "socket", None),
            fb(2, "cold soup", Label::Negative, "socket", None),
        ];
        let audit = HashSet::from([normalise("a FINE lunch")]);
        let set = build(&base, &feedback, &audit, NO_CAP);
        assert!(set.base.is_empty());
        assert_eq!(set.feedback.len(), 1);
        assert_eq!(set.feedback[0].text, "cold soup");
        assert_eq!(set.rows["feedback_audit_excluded"], 1);
        assert_eq!(set.rows["base_audit_excluded"], 1);
    }

    #[test]
    fn a_sole_untrusted_sender_is_not_capped() {
        let feedback: Vec<FeedbackRecord> = (0..100)
            .map(|i| {
                fb(
                    i,
                    &format!("text {i}"),
                    Label::Positive,
                    "api",
                    Some("key:only"),
                )
            })
            .collect();
        let options = CapOptions {
            max_share: 0.25,
            min_rows: 20,
        };
        let set = build(&[], &feedback, &HashSet::new(), options);
        assert_eq!(set.feedback.len(), 100);
        assert!(set.caps.is_empty());
    }

    #[test]
    fn one_untrusted_sender_cannot_dominate_and_the_cap_is_reported() {
        let mut feedback: Vec<FeedbackRecord> = (0..900)
            .map(|i| {
                fb(
                    i,
                    &format!("flood {i}"),
                    Label::Negative,
                    "api",
                    Some("key:mallory"),
                )
            })
            .collect();
        feedback.extend(
            (900..1000).map(|i| fb(i, &format!("honest {i}"), Label::Positive, "socket", None)),
        );
        let options = CapOptions {
            max_share: 0.25,
            min_rows: 20,
        };
        let set = build(&[], &feedback, &HashSet::new(), options);
        let flood = set
            .feedback
            .iter()
            .filter(|f| f.text.starts_with("flood"))
            .count();
        assert_eq!(flood, 33, "100 others * 0.25 / 0.75");
        // The newest rows are the ones kept.
        assert!(set.feedback.iter().any(|f| f.text == "flood 899"));
        assert!(!set.feedback.iter().any(|f| f.text == "flood 0"));
        assert_eq!(
            set.caps,
            vec![Cap {
                sender: "key:mallory".into(),
                sent: 900,
                kept: 33
            }]
        );
        assert_eq!(set.rows["feedback_capped"], 867);
        // The floor: a sender may always send min_rows.
        let small = CapOptions {
            max_share: 0.25,
            min_rows: 50,
        };
        let set = build(&[], &feedback, &HashSet::new(), small);
        assert_eq!(set.caps[0].kept, 50);
    }

    #[test]
    fn anonymous_senders_are_capped_by_address() {
        let mut feedback: Vec<FeedbackRecord> = (0..60)
            .map(|i| {
                fb(
                    i,
                    &format!("a {i}"),
                    Label::Negative,
                    "anonymous",
                    Some("addr:10.0.0.9"),
                )
            })
            .collect();
        feedback.extend((60..120).map(|i| {
            fb(
                i,
                &format!("b {i}"),
                Label::Positive,
                "anonymous",
                Some("addr:10.0.0.7"),
            )
        }));
        let options = CapOptions {
            max_share: 0.25,
            min_rows: 5,
        };
        let set = build(&[], &feedback, &HashSet::new(), options);
        assert_eq!(set.caps.len(), 2);
        assert!(set.caps.iter().all(|c| c.kept == 20 && c.sent == 60));
        assert!(!is_trusted_source("anonymous"));
        assert!(is_trusted_source("admin"));
    }
}
