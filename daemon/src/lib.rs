//! `sentimentd`: the self-learning sentiment analysis daemon and its one-shot commands,
//! as a library. The binary (`main.rs`) runs [`cli_main`]; tests build the service
//! in-process with [`open_state`] and [`app`] and call it without a socket.

// The modules in layers: each uses only the layers above it (`python3
// scripts/module_graph.py` prints the graph and finds no cycle).

// Leaves: flags, events, rules and bookkeeping that need no other module here.
mod alerts;
mod auth;
mod cli;
mod datasets;
mod events;
mod feedback_guard;
mod live_accuracy;
mod progress;
mod rate_limit;
mod report;

// Counters, and the retrain job and its gate (data in, a version out).
mod memory;
mod metrics;
mod retrain;

// Settings: the config file, the environment and the flags, resolved once.
mod config;

// The Hugging Face Hub: client settings, shards, what a replica follows.
mod hub;

// The running daemon: its shared state,
mod state;

// the hot swap of the served model,
mod swap;

// the background work (retrains, triggers, polls, alert rules), all stopping at shutdown,
mod tasks;

// the HTTP API,
mod api;

// and start-up, listeners and shutdown.
mod server;

// The one-shot commands.
mod commands;

pub use api::middleware::Origin;
pub use api::ClientAddr;
pub use config::ServeConfig;
pub use server::open_state;
pub use state::{AppState, SharedState};

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// The whole service as the TCP listener serves it: every route, with API keys (when
/// auth is on), rate limits, body limits, validation and JSON errors. Requests should
/// carry the [`ClientAddr`] extension the listener sets (the caller's IP).
pub fn app(state: SharedState) -> axum::Router {
    api::router(state, Origin::Tcp)
}

/// The whole service as the operator socket serves it: the socket's permissions are
/// the credential, so every route is open without a key.
pub fn socket_app(state: SharedState) -> axum::Router {
    api::router(state, Origin::Socket)
}

/// Runs the command line: parses the arguments and runs the command.
pub fn cli_main() -> ExitCode {
    memory::configure_allocator();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Retrain(args) => {
            return match commands::models::retrain(args) {
                Ok(code) => code,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Rollback(args) => commands::models::rollback(args),
        Command::Models(args) => commands::models::models(args),
        Command::Replay(args) => commands::replay::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Tune(args) => commands::tune::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Data(command) => commands::data::run(command),
        Command::Push(args) => commands::push::push(args),
        Command::Pull(args) => commands::push::pull(args),
        Command::Feedback(command) => commands::feedback::run(command),
        Command::Keys(command) => commands::keys::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
