//! `sentimentd feedback export`.

use crate::cli::{FeedbackCommand, FeedbackExportArgs};
use crate::config::database_path;
use anyhow::{bail, Context, Result};
use sentiment_data::store::{export_feedback_csv, FeedbackFilter, FeedbackStatus};

pub fn run(command: FeedbackCommand) -> Result<()> {
    match command {
        FeedbackCommand::Export(args) => export(args),
    }
}

fn export(args: FeedbackExportArgs) -> Result<()> {
    let data_dir = crate::config::load(&args.common)?.data_dir;
    let db = database_path(&data_dir);
    if !db.exists() {
        bail!(
            "no feedback database at {} (has `sentimentd serve` run with --data-dir {}?)",
            db.display(),
            data_dir.display()
        );
    }
    let status = match args.status.as_deref() {
        None => None,
        Some(s) => Some(
            serde_json::from_value::<FeedbackStatus>(serde_json::Value::String(s.to_string()))
                .map_err(|_| {
                    anyhow::anyhow!("--status must be accepted, held or rejected, got {s:?}")
                })?,
        ),
    };
    let filter = FeedbackFilter {
        status,
        ..FeedbackFilter::default()
    };
    let rows = export_feedback_csv(&db, &args.out, filter)
        .with_context(|| format!("cannot export feedback to {}", args.out.display()))?;
    eprintln!("wrote {rows} feedback row(s) to {}", args.out.display());
    Ok(())
}
