//! Views: functions from `&App` to a frame. They read state and draw; they never
//! change it and never talk to the daemon.

mod alerts;
mod chrome;
mod explain;
mod live;
mod metrics;
mod models;
mod queue;
pub mod theme;

use ratatui::layout::{Constraint, Layout};
use ratatui::Frame;

use crate::app::App;
use crate::keymap::Tab;

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    chrome::header(frame, header, app);
    match app.tab() {
        Tab::Live => live::draw(frame, body, app),
        Tab::Queue => queue::draw(frame, body, app),
        Tab::Models => models::draw(frame, body, app),
        Tab::Metrics => metrics::draw(frame, body, app),
        Tab::Alerts => alerts::draw(frame, body, app),
    }
    chrome::status(frame, status, app);
    if let Some(c) = &app.ui.confirm {
        chrome::confirm(frame, &c.question);
    }
    if app.ui.help {
        chrome::help(frame, app.tab());
    }
}

#[cfg(test)]
mod tests;
