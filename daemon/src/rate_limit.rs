//! Per-key request quotas by tier, with governor's GCRA limiter.
//!
//! A tier of `n` requests per minute allows a burst of `n` and then one request every
//! `60/n` seconds: over any minute a key gets at most its quota, and concurrent
//! requests cannot overshoot because governor updates its state with a compare-and-swap.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::BTreeMap;
use std::num::NonZeroU32;

/// The tiers every deployment has; the file may change their quotas or add more.
pub fn default_tiers() -> BTreeMap<String, u32> {
    BTreeMap::from([
        ("free".to_string(), 10),
        ("standard".to_string(), 600),
        ("unlimited".to_string(), 0),
    ])
}

/// One limiter per tier; keys are key names.
pub struct RateLimits {
    tiers: BTreeMap<String, Option<DefaultKeyedRateLimiter<String>>>,
    clock: DefaultClock,
}

/// What the limiter decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Retry after this many seconds (at least 1).
    Limited {
        retry_after_seconds: u64,
    },
    /// The key names a tier the config does not define.
    UnknownTier,
}

impl RateLimits {
    /// `tiers` maps a tier name to requests per minute; 0 is unlimited.
    pub fn new(tiers: &BTreeMap<String, u32>) -> RateLimits {
        let tiers = tiers
            .iter()
            .map(|(name, &per_minute)| {
                let limiter =
                    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
                (name.clone(), limiter)
            })
            .collect();
        RateLimits {
            tiers,
            clock: DefaultClock::default(),
        }
    }

    pub fn check(&self, tier: &str, key_name: &str) -> Verdict {
        match self.tiers.get(tier) {
            None => Verdict::UnknownTier,
            Some(None) => Verdict::Allowed,
            Some(Some(limiter)) => match limiter.check_key(&key_name.to_string()) {
                Ok(()) => Verdict::Allowed,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    Verdict::Limited {
                        retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
                    }
                }
            },
        }
    }

    /// Forgets keys whose buckets are full again (called now and then).
    pub fn prune(&self) {
        for limiter in self.tiers.values().flatten() {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_tier_allows_exactly_its_quota_in_a_burst() {
        let limits = RateLimits::new(&default_tiers());
        let allowed = (0..50)
            .filter(|_| limits.check("free", "alice") == Verdict::Allowed)
            .count();
        assert_eq!(allowed, 10);
        assert!(matches!(
            limits.check("free", "alice"),
            Verdict::Limited { retry_after_seconds } if (1..=6).contains(&retry_after_seconds)
        ));
        // Another key has its own bucket; unlimited has none.
        assert_eq!(limits.check("free", "bob"), Verdict::Allowed);
        assert!((0..1000).all(|_| limits.check("unlimited", "x") == Verdict::Allowed));
        assert_eq!(limits.check("gold", "x"), Verdict::UnknownTier);
    }
}
