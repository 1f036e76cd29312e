//! Catching a panic from a dependency without the panic message on stderr.
//!
//! Some decoders panic on corrupt input where they should return an error (see
//! `read/parquet.rs`). Catching the panic keeps the process alive, but the default
//! panic hook has already printed "thread panicked" and a backtrace hint above the
//! clear error the user then gets. [`catch_quietly`] silences the hook for panics on
//! the calling thread while it runs; panics anywhere else are reported as before.

use std::cell::Cell;
use std::panic::{catch_unwind, UnwindSafe};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

/// Runs `f`, returning `Err(message)` if it panicked, without printing the panic.
pub(crate) fn catch_quietly<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, String> {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|q| q.replace(true));
    let outcome = catch_unwind(f);
    QUIET.with(|q| q.set(was_quiet));
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_an_error_with_its_message() {
        assert_eq!(catch_quietly(|| 7), Ok(7));
        let v: Vec<u8> = Vec::new();
        let caught = catch_quietly(move || v[3]);
        assert!(caught.unwrap_err().contains("index out of bounds"));
        // The flag is reset afterwards: a later panic on this thread is reported
        // normally (checked here only as the flag's state).
        assert!(!QUIET.with(Cell::get));
    }
}
