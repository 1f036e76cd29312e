//! What every request handler shares: the served model behind an atomic pointer, the
//! store, the registry, the event bus, metrics, keys and rate limits.

use crate::auth::KeyStore;
use crate::config::ServeConfig;
use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use arc_swap::ArcSwap;
use sentiment_core::SentimentModel;
use sentiment_data::registry::{Registry, VersionRecord};
use sentiment_data::store::{PredictionRecord, Store};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A model as served: the model, its version name and its registry record.
pub struct ServingModel {
    pub model: SentimentModel,
    pub version: String,
    pub record: VersionRecord,
}

impl ServingModel {
    /// Accuracy on the base test split, if it was measured.
    pub fn test_accuracy(&self) -> Option<f64> {
        self.record
            .evaluations
            .get("base_test")
            .or_else(|| self.model.metadata.evaluations.get("validation"))
            .map(|r| r.accuracy)
    }
}

pub type SharedState = Arc<AppState>;

pub struct AppState {
    pub config: ServeConfig,
    /// Swapped whole: a request that loaded it keeps that model to its end.
    pub model: ArcSwap<ServingModel>,
    pub store: Store,
    pub registry: Registry,
    pub events: EventBus,
    pub metrics: Metrics,
    pub keys: ArcSwap<KeyStore>,
    pub limits: RateLimits,
    /// Per-key feedback quota and track record.
    pub feedback_guard: crate::feedback_guard::FeedbackGuard,
    pub recent: RecentPredictions,
    /// Which live predictions become audit items.
    pub audit: AuditSampler,
    pub alerts: crate::alerts::AlertBook,
    pub retrain: crate::retrain::runner::RetrainRunner,
    /// The Hub, when `[hub]` names a model or dataset repository.
    pub hub: Option<crate::hub::HubRuntime>,
    pub started: Instant,
    /// Set to true to stop: listeners drain, event streams end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

/// Draws live predictions into the audit sample: each with probability `share`, at
/// random whatever its confidence (so that labels on audit items measure live
/// accuracy without bias). With a seed the draws repeat from one run to the next for
/// the same sequence of predictions, which replays and benchmarks need.
pub struct AuditSampler {
    share: f64,
    seeded: Option<Mutex<rand_chacha::ChaCha8Rng>>,
}

impl AuditSampler {
    pub fn new(share: f64, seed: Option<u64>) -> AuditSampler {
        use rand::SeedableRng;
        AuditSampler {
            share,
            seeded: seed.map(|seed| Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(seed))),
        }
    }

    /// Whether the next prediction is drawn.
    pub fn draw(&self) -> bool {
        use rand::Rng;
        if self.share <= 0.0 {
            return false;
        }
        let x: f64 = match &self.seeded {
            Some(rng) => rng.lock().unwrap_or_else(|p| p.into_inner()).random(),
            None => rand::random(),
        };
        x < self.share
    }
}

/// The last N predictions in memory, for prediction-id look-ups by /feedback (the
/// store's copy is written in batches, so it can lag by a few milliseconds) and for
/// the average confidence. Seeded from the store at start.
pub struct RecentPredictions {
    inner: Mutex<Ring>,
}

struct Ring {
    capacity: usize,
    items: VecDeque<PredictionRecord>,
    confidence_sum: f64,
}

impl RecentPredictions {
    pub fn new(capacity: usize, mut seed: Vec<PredictionRecord>) -> RecentPredictions {
        // The store lists newest first; the ring keeps oldest first.
        seed.reverse();
        let mut ring = Ring {
            capacity,
            items: VecDeque::with_capacity(capacity + 1),
            confidence_sum: 0.0,
        };
        for record in seed {
            ring.push(record);
        }
        RecentPredictions {
            inner: Mutex::new(ring),
        }
    }

    pub fn push(&self, record: PredictionRecord) {
        self.inner.lock().expect("ring lock").push(record);
    }

    pub fn find(&self, id: &str) -> Option<PredictionRecord> {
        let ring = self.inner.lock().expect("ring lock");
        ring.items.iter().rev().find(|r| r.id == id).cloned()
    }

    pub fn average_confidence(&self) -> Option<f64> {
        let ring = self.inner.lock().expect("ring lock");
        (!ring.items.is_empty()).then(|| ring.confidence_sum / ring.items.len() as f64)
    }

    /// Mean confidence and count of the kept predictions made by `version`.
    pub fn average_confidence_for(&self, version: &str) -> (f64, usize) {
        let ring = self.inner.lock().expect("ring lock");
        let (sum, n) = ring
            .items
            .iter()
            .filter(|r| r.model_version == version)
            .fold((0.0, 0usize), |(s, n), r| (s + r.confidence, n + 1));
        (if n == 0 { 0.0 } else { sum / n as f64 }, n)
    }

    /// The kept predictions' confidence in `bins` equal bins from 0.5 to 1.0 (a
    /// confidence below 0.5 counts in the first, 1.0 in the last), their mean as
    /// [`RecentPredictions::average_confidence`] gives it, and the newest `low_limit`
    /// low-confidence ones, newest first: one consistent snapshot.
    pub fn confidence_snapshot(&self, bins: usize, low_limit: usize) -> ConfidenceSnapshot {
        let ring = self.inner.lock().expect("ring lock");
        let mut counts = vec![0u64; bins];
        for record in &ring.items {
            let at = ((record.confidence - 0.5) / 0.5 * bins as f64).floor();
            counts[(at.max(0.0) as usize).min(bins - 1)] += 1;
        }
        ConfidenceSnapshot {
            counts,
            predictions: ring.items.len() as u64,
            mean: (!ring.items.is_empty()).then(|| ring.confidence_sum / ring.items.len() as f64),
            low_confidence: ring
                .items
                .iter()
                .rev()
                .filter(|r| r.low_confidence)
                .take(low_limit)
                .cloned()
                .collect(),
        }
    }

    /// Newest first.
    pub fn latest(&self, limit: usize) -> Vec<PredictionRecord> {
        let ring = self.inner.lock().expect("ring lock");
        ring.items.iter().rev().take(limit).cloned().collect()
    }
}

/// See [`RecentPredictions::confidence_snapshot`].
pub struct ConfidenceSnapshot {
    pub counts: Vec<u64>,
    pub predictions: u64,
    pub mean: Option<f64>,
    pub low_confidence: Vec<PredictionRecord>,
}

impl Ring {
    fn push(&mut self, record: PredictionRecord) {
        self.confidence_sum += record.confidence;
        self.items.push_back(record);
        while self.items.len() > self.capacity {
            if let Some(old) = self.items.pop_front() {
                self.confidence_sum -= old.confidence;
            }
        }
    }
}

#[cfg(test)]
mod audit_sampler_tests {
    use super::AuditSampler;

    fn draws(sampler: &AuditSampler, n: usize) -> Vec<bool> {
        (0..n).map(|_| sampler.draw()).collect()
    }

    #[test]
    fn a_seeded_sample_repeats_and_keeps_its_rate() {
        let first = draws(&AuditSampler::new(0.01, Some(42)), 100_000);
        assert_eq!(first, draws(&AuditSampler::new(0.01, Some(42)), 100_000));
        assert_ne!(first, draws(&AuditSampler::new(0.01, Some(43)), 100_000));
        // 1,000 expected; a binomial's standard deviation here is about 31.
        let drawn = first.iter().filter(|d| **d).count();
        assert!(
            (850..=1_150).contains(&drawn),
            "{drawn} of 100,000 drawn at 1%"
        );
    }

    #[test]
    fn no_share_draws_nothing_and_a_full_share_draws_everything() {
        assert!(!draws(&AuditSampler::new(0.0, None), 1_000).contains(&true));
        assert!(!draws(&AuditSampler::new(1.0, Some(7)), 1_000).contains(&false));
    }
}
