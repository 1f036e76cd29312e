//! The daemon's background work: everything that runs beside the requests and needs
//! the shared state (retrains, the feedback trigger, the schedule, following the
//! registry, the alert rules, the Hub's polls and uploads, upkeep). Every periodic
//! loop runs on [`ticks::Ticks`] and ends when the daemon shuts down. The modules it drives (`retrain`, `hub`, `swap`) hold the logic and the
//! data, and never the state, so the dependencies run one way: they -> `state` ->
//! `tasks` -> `api`/`server`.

pub mod alert_rules;
pub mod feedback_trigger;
pub mod follow_registry;
pub mod housekeeping;
pub mod hub_follow;
pub mod hub_upload;
pub mod retrain;
pub mod schedule;
mod ticks;
