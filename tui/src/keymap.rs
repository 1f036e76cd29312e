//! Keys to actions, in one table. The help overlay is drawn from the same table, so
//! a key cannot work without being listed or be listed without working.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::Label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Live,
    Queue,
    Models,
    Metrics,
    Alerts,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Live,
        Tab::Queue,
        Tab::Models,
        Tab::Metrics,
        Tab::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Live => "Live",
            Tab::Queue => "Queue",
            Tab::Models => "Models",
            Tab::Metrics => "Metrics",
            Tab::Alerts => "Alerts",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    GoTab(Tab),
    ToggleHelp,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Filter,
    Back,
    Refresh,
    /// Live: toggle the explain pane for the selected prediction.
    Explain,
    /// Live: stop following and jump back to the newest prediction.
    Follow,
    Label(Label),
    Accept,
    Reject,
    Skip,
    CycleQueueState,
    CycleQueueKind,
    Retrain,
    Promote,
    Rollback,
    Ack,
    AckAll,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    On(Tab),
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [KeyCode],
    /// How the key is written in the help overlay.
    pub shown: &'static str,
    pub action: Action,
    pub help: &'static str,
}

const fn b(
    scope: Scope,
    keys: &'static [KeyCode],
    shown: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        scope,
        keys,
        shown,
        action,
        help,
    }
}

use KeyCode::{Backspace, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Up, F};
use Scope::{Global, On};

pub const BINDINGS: &[Binding] = &[
    b(Global, &[Char('q')], "q", Action::Quit, "quit (Ctrl-C too)"),
    b(
        Global,
        &[Char('?'), F(1)],
        "?",
        Action::ToggleHelp,
        "this help",
    ),
    b(Global, &[KeyCode::Tab], "Tab", Action::NextTab, "next tab"),
    b(
        Global,
        &[KeyCode::BackTab],
        "S-Tab",
        Action::PrevTab,
        "previous tab",
    ),
    b(
        Global,
        &[Char('1')],
        "1",
        Action::GoTab(Tab::Live),
        "Live: streaming predictions",
    ),
    b(
        Global,
        &[Char('2')],
        "2",
        Action::GoTab(Tab::Queue),
        "Queue: review and label",
    ),
    b(
        Global,
        &[Char('3')],
        "3",
        Action::GoTab(Tab::Models),
        "Models: versions, retrain, promote",
    ),
    b(
        Global,
        &[Char('4')],
        "4",
        Action::GoTab(Tab::Metrics),
        "Metrics: distributions, volumes, latency",
    ),
    b(
        Global,
        &[Char('5')],
        "5",
        Action::GoTab(Tab::Alerts),
        "Alerts: degradation alerts",
    ),
    b(
        Global,
        &[Up, Char('k')],
        "↑ k",
        Action::Up,
        "select previous row",
    ),
    b(
        Global,
        &[Down, Char('j')],
        "↓ j",
        Action::Down,
        "select next row",
    ),
    b(Global, &[PageUp], "PgUp", Action::PageUp, "up a page"),
    b(Global, &[PageDown], "PgDn", Action::PageDown, "down a page"),
    b(
        Global,
        &[Home, Char('g')],
        "Home g",
        Action::Top,
        "first row",
    ),
    b(
        Global,
        &[End, Char('G')],
        "End G",
        Action::Bottom,
        "last row",
    ),
    b(
        Global,
        &[Char('/')],
        "/",
        Action::Filter,
        "filter the table (Enter keeps, Esc clears)",
    ),
    b(
        Global,
        &[Esc, Backspace],
        "Esc",
        Action::Back,
        "close pane / clear filter",
    ),
    b(
        Global,
        &[Char('R')],
        "R",
        Action::Refresh,
        "re-read everything from the daemon",
    ),
    b(
        On(Tab::Live),
        &[Enter, Char('e')],
        "Enter e",
        Action::Explain,
        "explain the selected row (the daemon logs it)",
    ),
    b(
        On(Tab::Live),
        &[Char('f')],
        "f",
        Action::Follow,
        "follow the newest prediction",
    ),
    b(
        On(Tab::Queue),
        &[Char('p'), Char('+')],
        "p +",
        Action::Label(Label::Positive),
        "label positive, next",
    ),
    b(
        On(Tab::Queue),
        &[Char('n'), Char('-')],
        "n -",
        Action::Label(Label::Negative),
        "label negative, next",
    ),
    b(
        On(Tab::Queue),
        &[Char('a'), Enter],
        "a Enter",
        Action::Accept,
        "accept (predicted label / the correction), next",
    ),
    b(
        On(Tab::Queue),
        &[Char('x'), Char('r')],
        "x r",
        Action::Reject,
        "reject (drop from training), next",
    ),
    b(
        On(Tab::Queue),
        &[Char('s'), Char(' ')],
        "s Space",
        Action::Skip,
        "skip for now, next",
    ),
    b(
        On(Tab::Queue),
        &[Char('v')],
        "v",
        Action::CycleQueueState,
        "show open/pending/skipped/labelled/…",
    ),
    b(
        On(Tab::Queue),
        &[Char('t')],
        "t",
        Action::CycleQueueKind,
        "show all kinds/low-confidence/corrections",
    ),
    b(
        On(Tab::Models),
        &[Char('t')],
        "t",
        Action::Retrain,
        "retrain now",
    ),
    b(
        On(Tab::Models),
        &[Char('p')],
        "p",
        Action::Promote,
        "promote the selected version (asks)",
    ),
    b(
        On(Tab::Models),
        &[Char('b')],
        "b",
        Action::Rollback,
        "roll back to the selected version (asks)",
    ),
    b(
        On(Tab::Alerts),
        &[Char('a'), Enter],
        "a Enter",
        Action::Ack,
        "acknowledge the selected alert",
    ),
    b(
        On(Tab::Alerts),
        &[Char('A')],
        "A",
        Action::AckAll,
        "acknowledge every alert",
    ),
];

/// The action for a key on a tab; tab bindings win over global ones.
pub fn action_for(tab: Tab, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, Char('c')).then_some(Action::Quit);
    }
    let hit = |scope: Scope| {
        BINDINGS
            .iter()
            .find(|b| b.scope == scope && b.keys.contains(&key.code))
            .map(|b| b.action)
    };
    hit(On(tab)).or_else(|| hit(Global))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn tab_keys_shadow_global_ones_only_on_their_tab() {
        assert_eq!(
            action_for(Tab::Queue, key(Char('p'))),
            Some(Action::Label(Label::Positive))
        );
        assert_eq!(
            action_for(Tab::Models, key(Char('p'))),
            Some(Action::Promote)
        );
        assert_eq!(action_for(Tab::Live, key(Char('p'))), None);
        assert_eq!(
            action_for(Tab::Alerts, key(Char('3'))),
            Some(Action::GoTab(Tab::Models))
        );
        assert_eq!(
            action_for(Tab::Live, KeyEvent::new(Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope == b.scope {
                    for k in a.keys {
                        assert!(!b.keys.contains(k), "{k:?} bound twice ({})", a.help);
                    }
                }
            }
        }
    }
}
