//! `sentiment-tui`: the operator console for `sentimentd`.
//!
//! The split follows tokio-console: [`conn`] talks to the daemon on tokio tasks and
//! emits [`message::Msg`]s; [`state`] is a store changed only by those messages;
//! [`view`] draws the store and nothing else; [`keymap`] maps keys to actions and
//! [`app`] applies them. [`run`] wires these to a terminal.

pub mod api;
pub mod app;
pub mod cli;
pub mod conn;
pub mod keymap;
pub mod message;
pub mod run;
pub mod state;
pub mod view;

#[cfg(test)]
mod fixtures;
