//! The application: the state store plus what the operator is looking at (tab,
//! selections, filters, dialogs), and what each key does to them.
//!
//! It performs no I/O. Actions meant for the daemon are queued in `outbox` as
//! [`Command`]s; the run loop forwards them to the connection (tests read them).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::api::{ModelVersionView, PredictionView, QueueDecision, QueueItemView};
use crate::conn::Command;
use crate::keymap::{self, Action, Tab};
use crate::message::Msg;
use crate::state::{AlertEntry, Store};

pub const QUEUE_STATES: [&str; 7] = [
    "open", "pending", "skipped", "labelled", "accepted", "rejected", "all",
];
pub const QUEUE_KINDS: [Option<&str>; 3] = [None, Some("low_confidence"), Some("correction")];
const PAGE: usize = 10;

/// A risky action waiting for the operator's yes.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub question: String,
    pub command: Command,
}

#[derive(Debug, Clone, Default)]
pub struct Ui {
    pub tab_index: usize,
    pub help: bool,
    pub editing_filter: bool,
    pub filters: [String; 5],
    pub confirm: Option<Confirm>,
    /// Live: the selected prediction's id; `None` follows the newest.
    pub live_selected: Option<String>,
    pub explain_open: bool,
    pub queue_selected: Option<i64>,
    /// Where the queue selection was, for when its item leaves the list.
    pub queue_index: usize,
    pub queue_state: usize,
    pub queue_kind: usize,
    pub model_index: usize,
    pub alert_index: usize,
}

pub struct App {
    pub store: Store,
    pub ui: Ui,
    pub now_ms: i64,
    /// The socket path, for the status bar.
    pub socket: String,
    /// The local time zone's offset, read once at start (reading it later is unsound
    /// in a multi-threaded process, which is why `time` refuses to).
    pub utc_offset_secs: i32,
    pub outbox: Vec<Command>,
    pub should_quit: bool,
}

impl App {
    pub fn new(socket: String, now_ms: i64) -> Self {
        App {
            store: Store::default(),
            ui: Ui::default(),
            now_ms,
            socket,
            utc_offset_secs: 0,
            outbox: Vec::new(),
            should_quit: false,
        }
    }

    pub fn tab(&self) -> Tab {
        Tab::ALL[self.ui.tab_index]
    }

    pub fn apply(&mut self, msg: Msg) {
        self.store.apply(msg, self.now_ms);
    }

    fn send(&mut self, cmd: Command) {
        self.outbox.push(cmd);
    }

    pub fn filter(&self) -> &str {
        &self.ui.filters[self.ui.tab_index]
    }

    fn matches(&self, haystacks: &[&str]) -> bool {
        let f = self.filter().to_lowercase();
        f.is_empty() || haystacks.iter().any(|h| h.to_lowercase().contains(&f))
    }

    // ---- rows as the views list them (filtered), shared with selection logic ----

    pub fn visible_predictions(&self) -> Vec<&PredictionView> {
        let f = &self.ui.filters[Tab::Live.index()];
        self.store
            .predictions
            .iter()
            .filter(|p| {
                f.is_empty() || self.matches(&[&p.text, p.label.as_str(), &p.model_version])
            })
            .collect()
    }

    pub fn visible_queue(&self) -> Vec<&QueueItemView> {
        self.store
            .queue
            .items
            .iter()
            .filter(|i| {
                let label = i.predicted_label.map(|l| l.as_str()).unwrap_or("");
                self.ui.filters[Tab::Queue.index()].is_empty()
                    || self.matches(&[&i.text, &i.kind, &i.state, label])
            })
            .collect()
    }

    /// Newest version first.
    pub fn visible_models(&self) -> Vec<&ModelVersionView> {
        self.store
            .models
            .iter()
            .rev()
            .filter(|m| {
                self.ui.filters[Tab::Models.index()].is_empty()
                    || self.matches(&[&m.version, &m.status, &m.decision])
            })
            .collect()
    }

    pub fn visible_alerts(&self) -> Vec<&AlertEntry> {
        self.store
            .alerts
            .iter()
            .filter(|e| {
                self.ui.filters[Tab::Alerts.index()].is_empty()
                    || self.matches(&[&e.alert.rule, &e.alert.message])
            })
            .collect()
    }

    pub fn live_selected_index(&self) -> Option<usize> {
        let rows = self.visible_predictions();
        if rows.is_empty() {
            return None;
        }
        match &self.ui.live_selected {
            None => Some(0),
            Some(id) => Some(rows.iter().position(|p| &p.id == id).unwrap_or(0)),
        }
    }

    pub fn selected_prediction(&self) -> Option<&PredictionView> {
        let i = self.live_selected_index()?;
        self.visible_predictions().get(i).copied()
    }

    pub fn queue_selected_index(&self) -> Option<usize> {
        let rows = self.visible_queue();
        if rows.is_empty() {
            return None;
        }
        let by_id = self
            .ui
            .queue_selected
            .and_then(|id| rows.iter().position(|i| i.id == id));
        Some(by_id.unwrap_or(self.ui.queue_index.min(rows.len() - 1)))
    }

    pub fn selected_queue_item(&self) -> Option<&QueueItemView> {
        let i = self.queue_selected_index()?;
        self.visible_queue().get(i).copied()
    }

    pub fn model_selected_index(&self) -> Option<usize> {
        let n = self.visible_models().len();
        (n > 0).then(|| self.ui.model_index.min(n - 1))
    }

    pub fn alert_selected_index(&self) -> Option<usize> {
        let n = self.visible_alerts().len();
        (n > 0).then(|| self.ui.alert_index.min(n - 1))
    }

    // ---- input ----

    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        if self.ui.confirm.is_some() {
            return self.on_confirm_key(key);
        }
        if self.ui.editing_filter {
            return self.on_filter_key(key);
        }
        if self.ui.help {
            // Any key closes help; `q` still quits so it is never a trap.
            self.ui.help = false;
            if key.code != KeyCode::Char('q') {
                return;
            }
        }
        if let Some(action) = keymap::action_for(self.tab(), key) {
            self.on_action(action);
        }
    }

    fn on_confirm_key(&mut self, key: KeyEvent) {
        let confirm = self.ui.confirm.take().expect("checked by caller");
        if matches!(
            key.code,
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter
        ) {
            self.send(confirm.command);
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) {
        let f = &mut self.ui.filters[self.ui.tab_index];
        match key.code {
            KeyCode::Enter => self.ui.editing_filter = false,
            KeyCode::Esc => {
                f.clear();
                self.ui.editing_filter = false;
            }
            KeyCode::Backspace => {
                f.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.should_quit = true
            }
            KeyCode::Char(c) => f.push(c),
            _ => {}
        }
    }

    pub fn on_action(&mut self, action: Action) {
        match action {
            Action::Quit => self.should_quit = true,
            Action::NextTab => self.ui.tab_index = self.tab().next().index(),
            Action::PrevTab => self.ui.tab_index = self.tab().prev().index(),
            Action::GoTab(t) => self.ui.tab_index = t.index(),
            Action::ToggleHelp => self.ui.help = !self.ui.help,
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-(PAGE as i64)),
            Action::PageDown => self.move_selection(PAGE as i64),
            Action::Top => self.move_selection(i64::MIN / 2),
            Action::Bottom => self.move_selection(i64::MAX / 2),
            Action::Filter => self.ui.editing_filter = true,
            Action::Back => {
                if self.ui.explain_open {
                    self.ui.explain_open = false;
                } else {
                    self.ui.filters[self.ui.tab_index].clear();
                }
            }
            Action::Refresh => self.send(Command::RefreshAll),
            Action::Explain => self.explain_selected(),
            Action::Follow => self.ui.live_selected = None,
            Action::Label(label) => self.act_on_queue(QueueDecision::Label { label }),
            Action::Accept => self.act_on_queue(QueueDecision::Accept {}),
            Action::Reject => self.act_on_queue(QueueDecision::Reject {}),
            Action::Skip => self.act_on_queue(QueueDecision::Skip {}),
            Action::CycleQueueState => {
                self.ui.queue_state = (self.ui.queue_state + 1) % QUEUE_STATES.len();
                self.send_queue_query();
            }
            Action::CycleQueueKind => {
                self.ui.queue_kind = (self.ui.queue_kind + 1) % QUEUE_KINDS.len();
                self.send_queue_query();
            }
            Action::Retrain => {
                if self.store.retrain.available == Some(false) {
                    self.apply(Msg::Notice {
                        text: "this daemon has no /admin/retrain; use `sentimentd retrain`".into(),
                        error: true,
                    });
                } else {
                    self.send(Command::Retrain);
                }
            }
            Action::Promote => self.confirm_model(true),
            Action::Rollback => self.confirm_model(false),
            Action::Ack => {
                if let Some(i) = self.alert_selected_index() {
                    let e = self.visible_alerts()[i].clone();
                    self.send(Command::AckAlert {
                        key: e.key,
                        id: e.alert.id,
                    });
                }
            }
            Action::AckAll => {
                let open: Vec<_> = self
                    .store
                    .alerts
                    .iter()
                    .filter(|e| !e.alert.acknowledged)
                    .map(|e| Command::AckAlert {
                        key: e.key.clone(),
                        id: e.alert.id,
                    })
                    .collect();
                self.outbox.extend(open);
            }
        }
    }

    fn send_queue_query(&mut self) {
        self.send(Command::SetQueueQuery {
            state: QUEUE_STATES[self.ui.queue_state].to_owned(),
            kind: QUEUE_KINDS[self.ui.queue_kind].map(str::to_owned),
        });
    }

    fn move_selection(&mut self, delta: i64) {
        let step = |cur: usize, len: usize| -> usize {
            (cur as i64 + delta).clamp(0, len.saturating_sub(1) as i64) as usize
        };
        match self.tab() {
            Tab::Live => {
                let Some(cur) = self.live_selected_index() else {
                    return;
                };
                let rows = self.visible_predictions();
                let next = step(cur, rows.len());
                self.ui.live_selected = Some(rows[next].id.clone());
            }
            Tab::Queue => {
                let Some(cur) = self.queue_selected_index() else {
                    return;
                };
                let rows = self.visible_queue();
                let next = step(cur, rows.len());
                self.ui.queue_selected = Some(rows[next].id);
                self.ui.queue_index = next;
            }
            Tab::Models => {
                let n = self.visible_models().len();
                self.ui.model_index = step(self.model_selected_index().unwrap_or(0), n);
            }
            Tab::Alerts => {
                let n = self.visible_alerts().len();
                self.ui.alert_index = step(self.alert_selected_index().unwrap_or(0), n);
            }
            Tab::Metrics => {}
        }
    }

    /// Explains the selected row: opens the pane and, unless this text is already
    /// explained, asks the daemon (`/admin/explain`, which records nothing). Only on an
    /// explicit key, never as the selection moves: an older daemon without that route
    /// is asked through /predict, which records the text, and browsing must not
    /// generate traffic.
    fn explain_selected(&mut self) {
        let Some(text) = self.explain_target() else {
            return;
        };
        if self.tab() == Tab::Live {
            // Pin the selection: explaining a row that scrolls away would be useless.
            self.ui.live_selected = self.selected_prediction().map(|p| p.id.clone());
        }
        self.ui.explain_open = true;
        if !self.store.explanations.contains_key(&text) {
            self.apply(Msg::ExplainRequested { key: text.clone() });
            self.send(Command::Explain {
                key: text.clone(),
                text,
            });
        }
    }

    /// The text the explain pane is about: the selected row's, on tabs that have one.
    pub fn explain_target(&self) -> Option<String> {
        match self.tab() {
            Tab::Live => self.selected_prediction().map(|p| p.text.clone()),
            // Not on the queue: explaining records a new prediction, and an unsure one
            // would be queued again beside the item being reviewed.
            _ => None,
        }
    }

    /// The review flow: act on the selected item, then move to the next one that
    /// still needs review, so an operator can keep hitting single keys.
    fn act_on_queue(&mut self, action: QueueDecision) {
        let Some(idx) = self.queue_selected_index() else {
            return;
        };
        let item = self.visible_queue()[idx].clone();
        if !self.store.queue.needs_review(&item) {
            self.apply(Msg::Notice {
                text: format!("item {} is already {}", item.id, item.state),
                error: true,
            });
            return;
        }
        self.apply(Msg::QueueSent {
            id: item.id,
            action: action.clone(),
        });
        self.send(Command::Queue {
            id: item.id,
            action,
        });
        let rows = self.visible_queue();
        let next = (idx + 1..rows.len())
            .chain(0..idx)
            .find(|&i| self.store.queue.needs_review(rows[i]));
        if let Some(n) = next {
            self.ui.queue_selected = Some(rows[n].id);
            self.ui.queue_index = n;
        } else {
            self.ui.queue_selected = Some(item.id);
            self.ui.queue_index = idx;
        }
    }

    fn confirm_model(&mut self, promote: bool) {
        let Some(i) = self.model_selected_index() else {
            return;
        };
        let m = self.visible_models()[i];
        let version = m.version.clone();
        if m.current {
            self.apply(Msg::Notice {
                text: format!("{version} is already serving"),
                error: true,
            });
            return;
        }
        self.ui.confirm = Some(if promote {
            Confirm {
                question: format!("Promote {version} and serve it now?"),
                command: Command::Promote { version },
            }
        } else {
            Confirm {
                question: format!("Roll back serving to {version}?"),
                command: Command::Rollback {
                    version: Some(version),
                },
            }
        });
    }
}

#[cfg(test)]
mod tests;
