//! `sentimentd retrain --hub`: the weekly retrain as GitHub Actions runs it, on a
//! runner with an empty data directory and the Hub as the only shared state.
//!
//! 1. read the model repository's index and pull its current version (the one to beat);
//! 2. base data: `--base-data`, else `hub.base_dataset` from the Hub;
//! 3. feedback: every shard of `hub.dataset_repo` plus this data directory's own,
//!    de-duplicated by (node id, feedback id);
//! 4. the same retrain and gate as `sentimentd retrain`, numbering the candidate
//!    after every version the Hub has given out;
//! 5. on promotion, push the version and registry.json in one commit based on the
//!    index read in step 1 (a push by someone else meanwhile fails it: run it again).
//!
//! Exit codes as `retrain`: 0 promoted, 3 not promoted, 1 on error.

use super::models::{command_settings, comparison_rows, print_outcome, NOT_PROMOTED};
use crate::cli::RetrainArgs;
use crate::config::{database_path, registry_dir};
use crate::retrain::base_data::read_base_data;
use crate::retrain::{self, lock, Inputs, Outcome, RetrainJob};
use anyhow::{bail, Context, Result};
use sentiment_data::hub::merge_feedback;
use sentiment_data::registry::{version_name, Registry};
use sentiment_data::store::{Store, StoreOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: RetrainArgs) -> Result<ExitCode> {
    let crate::config::Loaded { data_dir, file } = crate::config::load(&args.common)?;
    let hub = crate::config::with_env(file.hub.clone());
    let client = crate::hub::client(&data_dir, &hub)?;
    let model_repo = client.model_repo()?;
    let dataset_repo = client.dataset_repo()?;
    // Before any work: a retrain that cannot push its result is wasted.
    client.require_token(&format!(
        "`retrain --hub` (it pushes a promoted version to {model_repo})"
    ))?;
    let say = |message: String| {
        if !args.output.json {
            eprintln!("{message}");
        }
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let Some(_lock) = lock::try_lock(&data_dir)? else {
        bail!("a retrain is already running on {}", data_dir.display());
    };
    let registry = Registry::open(registry_dir(&data_dir))?;

    let (index, index_commit) = client
        .read_index(&model_repo)
        .with_context(|| format!("cannot read the index of {model_repo}"))?;
    let Some(current) = index.current else {
        bail!(
            "the model repository {model_repo} names no current version; push one first \
             (`sentimentd push` from a daemon's data directory)"
        );
    };
    client
        .pull_version(&registry, Some(current))
        .with_context(|| format!("cannot pull {} from {model_repo}", version_name(current)))?;
    registry.set_current(current)?;
    let first_free = index
        .versions
        .values()
        .map(|v| v.version)
        .max()
        .unwrap_or(0)
        + 1;
    say(format!(
        "pulled {} (current on {model_repo})",
        version_name(current)
    ));

    let base_path: PathBuf = match &args.base_data {
        Some(path) => path.clone(),
        None => {
            let base = client
                .fetch_base_dataset()
                .context("cannot download the base dataset (or pass --base-data PATH)")?;
            say(format!("base data {}@{}", base.repo, base.commit));
            base.dir
        }
    };
    let base = read_base_data(&base_path)
        .with_context(|| format!("cannot read the base dataset {}", base_path.display()))?;

    let shared = client
        .download_feedback()
        .with_context(|| format!("cannot read the feedback shards of {dataset_repo}"))?;
    let local = local_feedback(&data_dir, hub.node_id.as_deref())?;
    let shared_rows = shared.len();
    let local_rows = local.as_ref().map_or(0, |l| l.feedback.len());
    let Local {
        node,
        feedback: local,
        audit: local_audit,
    } = local.unwrap_or_default();
    let feedback = merge_feedback(shared, &node, local);
    let sources = vec![
        format!("{shared_rows} feedback rows from the shards of {dataset_repo}"),
        format!("{local_rows} local rows"),
        format!("{} accepted after de-duplication", feedback.len()),
    ];
    say(sources.join(", "));

    let (settings, _) = command_settings(&args, &file)?;
    let job = RetrainJob {
        registry: &registry,
        settings: &settings,
        train_config: &sentiment_core::TrainConfig::default(),
    };
    let outcome = job.run(
        Inputs {
            base: &base,
            feedback: &feedback,
            audit: &local_audit,
            first_free,
        },
        &|p| say(format!("{}: {}", p.stage, p.message)),
    )?;
    let mut notes = sources;
    if let Outcome::Promoted { version, .. } = &outcome {
        let report = client
            .push_version_on(&registry, *version, true, index_commit)
            .with_context(|| format!("cannot push {} to {model_repo}", version_name(*version)))?;
        let line = format!(
            "pushed {} to {} in commit {} (now current there)",
            version_name(report.version),
            report.repo,
            report.commit
        );
        say(line.clone());
        notes.push(line);
    }
    if args.output.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome);
    }
    let summary = args.summary_file.clone().or_else(|| {
        std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = summary {
        append_summary(&path, &outcome, &notes)?;
    }
    Ok(match outcome {
        Outcome::Promoted { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(NOT_PROMOTED),
    })
}

/// What this data directory's store holds for a Hub retrain.
#[derive(Default)]
struct Local {
    node: String,
    feedback: Vec<sentiment_data::store::FeedbackRecord>,
    /// Audit labels stay on the node that collected them: shards carry feedback only.
    audit: Vec<sentiment_data::store::AuditLabel>,
}

/// This data directory's node id, accepted feedback and audit labels, if it has a
/// store.
fn local_feedback(data_dir: &Path, node_id: Option<&str>) -> Result<Option<Local>> {
    let path = database_path(data_dir);
    if !path.is_file() {
        return Ok(None);
    }
    let node = crate::hub::node::node_id(data_dir, node_id)?;
    let store = Store::open(&path, StoreOptions::default())
        .with_context(|| format!("cannot open the feedback store {}", path.display()))?;
    Ok(Some(Local {
        node,
        feedback: retrain::accepted_feedback(&store)?,
        audit: retrain::audit_labels(&store)?,
    }))
}

/// Appends the outcome as Markdown (GitHub's job summary is this file).
pub fn append_summary(path: &Path, outcome: &Outcome, notes: &[String]) -> Result<()> {
    let mut text = String::new();
    match outcome {
        Outcome::NothingNew { reason } => {
            text.push_str(&format!("## Retrain: nothing new\n\n{reason}\n"));
        }
        Outcome::Promoted {
            record, comparison, ..
        }
        | Outcome::Rejected {
            record, comparison, ..
        } => {
            let verdict = if matches!(outcome, Outcome::Promoted { .. }) {
                format!("{} promoted", record.name())
            } else {
                format!("{} not promoted", record.name())
            };
            text.push_str(&format!("## Retrain: {verdict}\n\n"));
            text.push_str(&format!(
                "| | current {} | candidate {} |\n|---|---:|---:|\n",
                comparison.current_version,
                record.name()
            ));
            for [what, current, candidate] in comparison_rows(comparison) {
                text.push_str(&format!("| {what} | {current} | {candidate} |\n"));
            }
            text.push('\n');
            text.push_str(&format!("**Decision:** {}\n", record.decision));
        }
    }
    for note in notes {
        text.push_str(&format!("\n- {note}"));
    }
    text.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the summary file {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write the summary file {}", path.display()))?;
    Ok(())
}
