//! `sentimentd serve`: bootstrap, state, the two listeners, background chores and a
//! graceful shutdown.

pub mod bootstrap;
pub mod connections;
mod listeners;
mod logging;

use crate::auth::KeyStore;
use crate::config::ServeConfig;
use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use crate::state::{AppState, RecentPredictions, ServingModel, SharedState};
use anyhow::{Context, Result};
use arc_swap::ArcSwap;
use sentiment_data::registry::{version_name, Registry};
use sentiment_data::store::{Store, StoreOptions};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use logging::init_logging;

/// Runs the daemon until SIGINT or SIGTERM.
pub fn run(config: ServeConfig) -> Result<()> {
    let started = Instant::now();
    listeners::prepare_data_dir(&config)?;
    // Before the bootstrap, so a Hub misconfiguration fails in a second, not after training.
    let hub = crate::hub::HubRuntime::new(&config.data_dir, &config.hub)?;
    // Both listeners are bound before anything slow (training version 1 takes seconds
    // to minutes): a busy port or a second daemon on this data directory fails now.
    let tcp = std::net::TcpListener::bind(config.listen).with_context(|| {
        format!(
            "cannot listen on {} (is another server using it? choose another with --listen)",
            config.listen
        )
    })?;
    tcp.set_nonblocking(true)
        .context("cannot set up the TCP listener")?;
    let socket_path = config.socket_path();
    let unix = listeners::bind_socket(&socket_path)?;
    let state = match open(config, hub, started) {
        Ok(state) => state,
        Err(error) => {
            let _ = std::fs::remove_file(&socket_path);
            return Err(error);
        }
    };
    let store = state.store.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sentimentd")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(state.clone(), started, tcp, unix));
    // Whatever happened, everything acknowledged must be on disk before we exit.
    if let Err(error) = store.flush() {
        tracing::error!(%error, "could not flush the store on shutdown");
    }
    upload_on_shutdown(&state);
    runtime.shutdown_timeout(Duration::from_secs(5));
    if result.is_ok() {
        tracing::info!("stopped");
    }
    result
}

/// The daemon's state for `config`, without listeners: the data directory prepared,
/// the Hub client, then as [`run`] does after binding. For in-process use (tests):
/// the same start-up as `serve`, version 1 trained from `config.base_data` if the
/// data directory has no model yet.
pub fn open_state(config: ServeConfig) -> Result<SharedState> {
    let started = Instant::now();
    listeners::prepare_data_dir(&config)?;
    let hub = crate::hub::HubRuntime::new(&config.data_dir, &config.hub)?;
    open(config, hub, started)
}

/// Everything requests share, from the data directory: the registry (training version
/// 1 if it has no model), the current model, the store, the keys and the counters.
/// The one path by which both [`run`] and [`open_state`] build the state.
fn open(
    config: ServeConfig,
    hub: Option<crate::hub::HubRuntime>,
    started: Instant,
) -> Result<SharedState> {
    let registry = Registry::open(config.registry_dir())?;
    // A daemon killed in the middle of a retrain or a prune leaves a temporary copy of a
    // model behind; without this, every crash would leak one model's worth of disk.
    for leftover in registry.remove_stale_temporaries()? {
        tracing::info!(path = %leftover.display(), "removed what an interrupted registry write left behind");
    }
    let version = bootstrap::ensure_model(&config, &registry)?;
    let loading = Instant::now();
    let model = registry
        .load(version)
        .with_context(|| format!("cannot load the current model {}", version_name(version)))?;
    let record = registry.record(version)?;
    tracing::info!(
        version = %version_name(version),
        seconds = format!("{:.3}", loading.elapsed().as_secs_f64()),
        "model loaded"
    );
    let store = Store::open(
        &config.database_path(),
        StoreOptions {
            recent_predictions: config.recent_predictions,
            ..StoreOptions::default()
        },
    )
    .with_context(|| format!("cannot open the store in {}", config.data_dir.display()))?;
    let counters = store.counters()?;
    let recent = RecentPredictions::new(
        config.recent_predictions,
        store.recent_predictions(config.recent_predictions)?,
    );
    let keys = KeyStore::load(&config.keys_file)?;
    if config.auth_required && keys.len() == 0 {
        tracing::warn!(
            keys_file = %config.keys_file.display(),
            "auth is on but there are no API keys: every TCP request will get 401; create one with `sentimentd keys add --name NAME`"
        );
    }
    let metrics = Metrics::default();
    metrics
        .predictions
        .store(counters.total_predictions, Relaxed);
    metrics.feedback.store(counters.total_feedback, Relaxed);
    metrics
        .low_confidence
        .store(counters.low_confidence, Relaxed);
    let (shutdown, _) = tokio::sync::watch::channel(false);
    Ok(Arc::new(AppState {
        limits: RateLimits::new(&config.tiers),
        feedback_guard: Default::default(),
        model: ArcSwap::from_pointee(ServingModel {
            model,
            version: version_name(version),
            record,
        }),
        store,
        registry,
        events: EventBus::new(4_096),
        metrics,
        keys: ArcSwap::from_pointee(keys),
        recent,
        audit: crate::state::AuditSampler::new(config.audit_share, config.audit_seed),
        alerts: crate::alerts::AlertBook::open(config.data_dir.join("alerts.json")),
        retrain: Default::default(),
        hub,
        started,
        shutdown,
        config,
    }))
}

/// The last feedback shard, so that feedback taken since the last upload reaches the
/// Hub now rather than at the next start. If the Hub is down it stays pending.
fn upload_on_shutdown(state: &SharedState) {
    let Some(hub) = &state.hub else { return };
    if hub.client.config().dataset_repo.is_none() {
        return;
    }
    match crate::hub::shards::upload_pending(hub, &state.store) {
        Ok(done) if !done.shards.is_empty() => {
            tracing::info!(rows = done.rows, "feedback uploaded on shutdown")
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(
            "feedback not uploaded on shutdown (it stays pending for the next start): {error:#}"
        ),
    }
}

async fn serve(
    state: SharedState,
    started: Instant,
    tcp: std::net::TcpListener,
    unix: std::os::unix::net::UnixListener,
) -> Result<()> {
    let config = &state.config;
    let tcp = tokio::net::TcpListener::from_std(tcp).context("cannot use the TCP listener")?;
    let unix =
        tokio::net::UnixListener::from_std(unix).context("cannot use the socket listener")?;
    let socket_path = config.socket_path();
    let local = tcp.local_addr()?;

    let stop = |state: &SharedState| {
        let mut receiver = state.shutdown.subscribe();
        async move {
            let _ = receiver.wait_for(|stopping| *stopping).await;
        }
    };
    let limits = connections::ConnectionLimits {
        max_connections: config.limits.max_connections,
        header_read_timeout: config.limits.header_read_timeout,
    };
    // Each listener has its own connection budget, so a flood on TCP cannot lock the
    // operators out of the socket.
    let tcp_server = connections::serve(tcp, crate::app(state.clone()), limits, stop(&state));
    let unix_server =
        connections::serve(unix, crate::socket_app(state.clone()), limits, stop(&state));

    tokio::spawn(listeners::watch_signals(state.clone()));
    tokio::spawn(crate::tasks::housekeeping::reload_keys_when_changed(
        state.clone(),
    ));
    tokio::spawn(crate::tasks::housekeeping::prune_rate_limits(state.clone()));
    tokio::spawn(crate::tasks::follow_registry::follow_registry(
        state.clone(),
    ));
    tokio::spawn(crate::tasks::alert_rules::watch_confidence(state.clone()));
    tokio::spawn(crate::tasks::alert_rules::watch_live_accuracy(
        state.clone(),
    ));
    tokio::spawn(crate::tasks::feedback_trigger::run(state.clone()));
    if let Some(hub) = &state.hub {
        let repos = &hub.client.config();
        match (&repos.model_repo, state.config.hub_poll_interval) {
            (Some(repo), Some(interval)) => {
                tracing::info!(%repo, seconds = interval.as_secs(), "following the Hub's model repository");
                tokio::spawn(crate::tasks::hub_follow::poll_periodically(
                    state.clone(),
                    interval,
                ));
            }
            (Some(repo), None) => {
                tracing::info!(%repo, "Hub polling is off (POST /admin/hub/poll polls)")
            }
            _ => {}
        }
        if let Some(repo) = &repos.dataset_repo {
            tracing::info!(%repo, node_id = %hub.node_id, "uploading feedback shards to the Hub");
            if let Some(interval) = state.config.hub_shard_interval {
                tokio::spawn(crate::tasks::hub_upload::upload_periodically(
                    state.clone(),
                    interval,
                ));
            }
        }
    }
    // Kept alive until the listeners close.
    let _scheduler = match &state.config.retrain_schedule {
        Some(expression) => Some(crate::tasks::schedule::start(state.clone(), expression).await?),
        None => {
            tracing::info!("scheduled retraining is off");
            None
        }
    };

    tracing::info!(
        listen = %local,
        socket = %socket_path.display(),
        version = %state.model.load().version,
        auth = if state.config.auth_required { "on" } else { "off" },
        startup_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    tokio::join!(tcp_server, unix_server);
    let _ = std::fs::remove_file(&socket_path);
    tracing::info!("listeners closed; flushing the store");
    Ok(())
}
