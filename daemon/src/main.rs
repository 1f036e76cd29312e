//! `sentimentd`: the self-learning sentiment analysis daemon and its one-shot commands.

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

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

// The system allocator (glibc), not mimalloc, which this daemon used before: with the
// same code, `train` on SST-2 peaked at 164-189 MiB resident under mimalloc against
// 72-76 MiB under glibc, for the same train_seconds (0.59 s cold, medians of 5), and
// a daemon that had retrained 20 times sat at 151-241 MiB against 54-64 MiB (glibc,
// with `memory::release_free_memory` after each retrain). See bench/memory.py.

fn main() -> ExitCode {
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
