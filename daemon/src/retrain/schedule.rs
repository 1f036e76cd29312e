//! The daemon's own retrain schedule, with tokio-cron-scheduler. Expressions have
//! six fields, seconds first (`0 0 3 * * Sun`: Sundays at 03:00 UTC).

use anyhow::{anyhow, Result};
use tokio_cron_scheduler::Job;

/// Checks an expression without scheduling anything.
pub fn validate(expression: &str) -> Result<()> {
    Job::new_async(expression, |_, _| Box::pin(async {})).map_err(|e| {
        anyhow!(
            "{expression:?} is not a valid retrain schedule ({e}); use six cron fields with seconds first, e.g. \"0 0 3 * * Sun\", or \"off\""
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn expressions_are_checked() {
        assert!(super::validate("0 0 3 * * Sun").is_ok());
        assert!(super::validate("*/5 * * * * *").is_ok());
        let error = super::validate("every sunday").unwrap_err().to_string();
        assert!(error.contains("seconds first"), "{error}");
    }
}
