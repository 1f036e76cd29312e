//! The state store: everything the console knows, changed only by [`Store::apply`].
//!
//! Views read it; the connection feeds it [`Msg`]s; nothing else writes to it. Time
//! comes in as an argument so tests can replay messages at chosen instants.

pub mod queue;
pub mod series;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use crate::api::{
    Alert, Event, ExplainResponse, HealthResponse, MetricsResponse, ModelVersionView,
    PredictionView, RetrainReport,
};
use crate::message::Msg;
pub use queue::Queue;
pub use series::Series;

/// The daemon keeps its last 1000 predictions; the console mirrors that.
pub const MAX_PREDICTIONS: usize = 1000;
const MAX_RETRAIN_LOG: usize = 200;
/// Confidence is the winning class's probability, so it lies in [0.5, 1].
pub const HISTOGRAM_BINS: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting {
        attempt: u32,
    },
    Connected {
        since_ms: i64,
    },
    Disconnected {
        error: String,
        retry_at_ms: i64,
        attempt: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Explain {
    Loading,
    Ready(Box<ExplainResponse>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertEntry {
    pub key: String,
    pub alert: Alert,
}

#[derive(Debug, Clone, Default)]
pub struct Retrain {
    /// `None` until asked; `Some(false)` when the daemon has no retrain endpoint.
    pub available: Option<bool>,
    pub running: bool,
    /// (at_unix_ms, stage, message), oldest first.
    pub log: VecDeque<(i64, String, String)>,
    pub last_outcome: Option<String>,
    pub schedule: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Store {
    pub conn: ConnState,
    /// Newest first.
    pub predictions: VecDeque<PredictionView>,
    /// Predictions per second, from events (the live rate).
    pub rate: Series,
    /// Predictions per minute (events plus the snapshot's history).
    pub predictions_per_min: Series,
    pub feedback_per_min: Series,
    feedback_seen: BTreeSet<i64>,
    pub queue: Queue,
    pub models: Vec<ModelVersionView>,
    pub metrics: Option<MetricsResponse>,
    pub health: Option<HealthResponse>,
    pub current_version: Option<String>,
    pub alerts: Vec<AlertEntry>,
    pub alerts_api: Option<bool>,
    pub retrain: Retrain,
    /// Explanations by text, for the serving model (cleared when it changes).
    pub explanations: HashMap<String, Explain>,
    pub notice: Option<Notice>,
    pub events_seen: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            conn: ConnState::Connecting { attempt: 0 },
            predictions: VecDeque::new(),
            rate: Series::new(1000, 300),
            predictions_per_min: Series::new(60_000, 24 * 60),
            feedback_per_min: Series::new(60_000, 24 * 60),
            feedback_seen: BTreeSet::new(),
            queue: Queue::default(),
            models: Vec::new(),
            metrics: None,
            health: None,
            current_version: None,
            alerts: Vec::new(),
            alerts_api: None,
            retrain: Retrain::default(),
            explanations: HashMap::new(),
            notice: None,
            events_seen: 0,
        }
    }
}

impl Store {
    pub fn apply(&mut self, msg: Msg, now_ms: i64) {
        match msg {
            Msg::Connecting { attempt } => {
                // Keep showing the error and countdown while retrying; only the very
                // first attempt replaces the screen's connection state.
                if attempt == 0 && !matches!(self.conn, ConnState::Disconnected { .. }) {
                    self.conn = ConnState::Connecting { attempt };
                }
            }
            Msg::Connected => self.conn = ConnState::Connected { since_ms: now_ms },
            Msg::Disconnected {
                error,
                retry_in,
                attempt,
            } => {
                self.conn = ConnState::Disconnected {
                    error,
                    retry_at_ms: now_ms + duration_ms(retry_in),
                    attempt,
                }
            }
            Msg::Event(e) => {
                self.events_seen += 1;
                self.apply_event(e, now_ms);
            }
            Msg::Predictions(list) => self.merge_predictions(list),
            Msg::Queue(page) => self.queue.replace(page),
            Msg::Models(models) => {
                if let Some(cur) = models.iter().find(|m| m.current) {
                    self.current_version = Some(cur.version.clone());
                }
                self.models = models;
            }
            Msg::Metrics(m) => {
                if self.current_version.is_none() && !m.model_version.is_empty() {
                    self.current_version = Some(m.model_version.clone());
                }
                self.metrics = Some(m);
            }
            Msg::Health(h) => {
                if h.model_version.is_some() {
                    self.current_version.clone_from(&h.model_version);
                }
                let skew = protocol_skew(h.protocol_version);
                let was = self.health.as_ref().map(|old| old.protocol_version);
                if let Some(text) = skew.filter(|_| was != Some(h.protocol_version)) {
                    self.notice(text, true, now_ms);
                }
                self.health = Some(h);
            }
            Msg::Feedback(list) => {
                self.feedback_per_min.clear();
                self.feedback_seen.clear();
                for f in list {
                    self.count_feedback(f.id, f.created_unix_ms);
                }
            }
            Msg::Alerts(None) => self.alerts_api = Some(false),
            Msg::Alerts(Some(list)) => {
                self.alerts_api = Some(true);
                // The daemon's list is the truth, newest first.
                let mut entries: Vec<AlertEntry> = list
                    .into_iter()
                    .map(|a| AlertEntry {
                        key: alert_key(&a),
                        alert: a,
                    })
                    .collect();
                entries.sort_by_key(|e| std::cmp::Reverse(e.alert.at_unix_ms));
                self.alerts = entries;
            }
            Msg::Retrain(None) => self.retrain.available = Some(false),
            Msg::Retrain(Some(s)) => {
                self.retrain.available = Some(true);
                self.retrain.running = s.running;
                self.retrain.schedule = s.schedule;
                if let Some(last) = s.last {
                    self.retrain.last_outcome = Some(last.summary());
                }
            }
            Msg::QueueActed { id, action, result } => {
                if let Err(e) = &result {
                    self.notice(format!("queue item {id}: {e}"), true, now_ms);
                } else {
                    self.notice(format!("item {id} {}", action.describe()), false, now_ms);
                }
                self.queue.finish(id, &result);
            }
            Msg::Explained { key, result } => {
                let e = match result {
                    Ok(x) => Explain::Ready(Box::new(x)),
                    Err(e) => Explain::Failed(e),
                };
                self.explanations.insert(key, e);
            }
            Msg::AlertAcked { key } => {
                if let Some(e) = self.alerts.iter_mut().find(|e| e.key == key) {
                    e.alert.acknowledged = true;
                }
            }
            Msg::QueueSent { id, action } => self.queue.begin(id, action),
            Msg::ExplainRequested { key } => {
                self.explanations.insert(key, Explain::Loading);
            }
            Msg::Notice { text, error } => self.notice(text, error, now_ms),
        }
    }

    fn apply_event(&mut self, e: Event, now_ms: i64) {
        match e {
            Event::Hello {} => {}
            Event::Prediction(p) => {
                let p = PredictionView::from(p);
                let at = if p.created_unix_ms > 0 {
                    p.created_unix_ms
                } else {
                    now_ms
                };
                self.rate.add(at, 1);
                self.predictions_per_min.add(at, 1);
                if self.current_version.is_none() && !p.model_version.is_empty() {
                    self.current_version = Some(p.model_version.clone());
                }
                self.predictions.push_front(p);
                self.predictions.truncate(MAX_PREDICTIONS);
            }
            Event::Feedback { id, at_unix_ms, .. } => self.count_feedback(id, at_unix_ms),
            Event::QueueChanged { .. } => {} // the connection re-reads the queue
            Event::ModelChanged {
                version, previous, ..
            } => {
                let from = previous.unwrap_or_else(|| "-".into());
                self.notice(format!("model changed: {from} → {version}"), false, now_ms);
                for m in &mut self.models {
                    m.current = m.version == version;
                }
                self.explanations.clear();
                self.current_version = Some(version);
            }
            Event::Alert(a) => {
                let key = alert_key(&a);
                if !self.alerts.iter().any(|e| e.key == key) {
                    self.alerts.insert(0, AlertEntry { key, alert: a });
                }
            }
            Event::Lagged { missed } => self.notice(
                format!("missed {missed} events; re-reading everything"),
                true,
                now_ms,
            ),
            Event::RetrainProgress {
                stage,
                message,
                at_unix_ms,
            } => {
                self.retrain.running = true;
                self.push_retrain_log(at_unix_ms, stage, message);
            }
            Event::RetrainFinished {
                outcome,
                version,
                message,
                at_unix_ms,
            } => {
                self.retrain.running = false;
                let report = RetrainReport {
                    outcome: outcome.clone(),
                    version,
                    message,
                    ..Default::default()
                };
                let summary = report.summary();
                self.notice(format!("retrain {summary}"), outcome == "failed", now_ms);
                self.push_retrain_log(at_unix_ms, "finished".into(), summary.clone());
                self.retrain.last_outcome = Some(summary);
            }
        }
    }

    fn push_retrain_log(&mut self, at: i64, stage: String, message: String) {
        self.retrain.log.push_back((at, stage, message));
        while self.retrain.log.len() > MAX_RETRAIN_LOG {
            self.retrain.log.pop_front();
        }
    }

    /// Folds a `/admin/predictions` snapshot in. Predictions already known (from
    /// events, or an earlier snapshot) are not counted twice in the per-minute series.
    fn merge_predictions(&mut self, list: Vec<PredictionView>) {
        let known: BTreeSet<String> = self.predictions.iter().map(|p| p.id.clone()).collect();
        for p in list {
            if !known.contains(&p.id) {
                self.predictions_per_min.add(p.created_unix_ms, 1);
                self.predictions.push_back(p);
            }
        }
        self.predictions
            .make_contiguous()
            .sort_by_key(|p| std::cmp::Reverse(p.created_unix_ms));
        self.predictions.truncate(MAX_PREDICTIONS);
    }

    fn count_feedback(&mut self, id: i64, at_ms: i64) {
        if self.feedback_seen.insert(id) {
            self.feedback_per_min.add(at_ms, 1);
        }
    }

    fn notice(&mut self, text: String, error: bool, now_ms: i64) {
        self.notice = Some(Notice {
            text,
            error,
            at_ms: now_ms,
        });
    }

    pub fn unacknowledged_alerts(&self) -> usize {
        self.alerts.iter().filter(|e| !e.alert.acknowledged).count()
    }

    /// Known predictions per confidence bin over [0.5, 1]: (all, low-confidence).
    /// The daemon's threshold is its own setting; the low-confidence share per bin
    /// shows where it lies without the console having to know it.
    pub fn confidence_histogram(&self) -> [(u64, u64); HISTOGRAM_BINS] {
        let mut bins = [(0u64, 0u64); HISTOGRAM_BINS];
        for p in &self.predictions {
            let x = ((p.confidence - 0.5) / 0.5 * HISTOGRAM_BINS as f64).floor();
            let i = (x.max(0.0) as usize).min(HISTOGRAM_BINS - 1);
            bins[i].0 += 1;
            bins[i].1 += u64::from(p.low_confidence);
        }
        bins
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.conn, ConnState::Connected { .. })
    }
}

/// What to tell the operator when the daemon speaks another protocol version than this
/// console: fields may then be blank (older daemon) or missing here (newer daemon).
pub fn protocol_skew(daemon: u32) -> Option<String> {
    use std::cmp::Ordering::*;
    match daemon.cmp(&crate::api::PROTOCOL_VERSION) {
        Equal => None,
        Less => Some(format!(
            "the daemon speaks protocol {daemon}, this console {}: some columns may be blank; upgrade the daemon",
            crate::api::PROTOCOL_VERSION
        )),
        Greater => Some(format!(
            "the daemon speaks protocol {daemon}, this console {}: upgrade the console",
            crate::api::PROTOCOL_VERSION
        )),
    }
}

pub fn alert_key(a: &Alert) -> String {
    a.id.to_string()
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
