//! The terminal side: raw mode and the alternate screen (restored on exit and on
//! panic), and the loop that multiplexes keys, connection messages and the redraw tick.

use std::io::{self, Stdout};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{Event as TermEvent, EventStream};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use crate::app::App;
use crate::conn::{self, Client};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Puts the terminal back however the console ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}

fn setup() -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
    // A panic must not leave the operator's shell in raw mode on the alternate screen.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

pub async fn run(
    socket: std::path::PathBuf,
    tick: Duration,
    utc_offset_secs: i32,
) -> anyhow::Result<()> {
    let mut app = App::new(socket.display().to_string(), now_ms());
    app.utc_offset_secs = utc_offset_secs;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = conn::spawn(Client::new(socket), tx);

    let mut terminal = setup().map_err(|e| {
        restore();
        anyhow::anyhow!(
            "cannot take over the terminal ({e}); sentiment-tui needs an interactive terminal"
        )
    })?;
    let _restore = Restore;
    let mut keys = EventStream::new();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        let mut redraw = false;
        tokio::select! {
            Some(msg) = rx.recv() => {
                app.now_ms = now_ms();
                app.apply(msg);
                // Drain a burst in one go; the next tick shows it all.
                while let Ok(msg) = rx.try_recv() {
                    app.apply(msg);
                }
            }
            ev = keys.next() => match ev {
                Some(Ok(TermEvent::Key(key))) => {
                    app.now_ms = now_ms();
                    app.on_key(key);
                    redraw = true; // answer keys at once, not at the next tick
                }
                Some(Ok(TermEvent::Resize(..))) => redraw = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = ticker.tick() => redraw = true,
        }
        for cmd in app.outbox.drain(..) {
            handle.send(cmd);
        }
        if app.should_quit {
            break;
        }
        if redraw {
            app.now_ms = now_ms();
            terminal.draw(|f| crate::view::draw(f, &app))?;
        }
    }
    Ok(())
}
