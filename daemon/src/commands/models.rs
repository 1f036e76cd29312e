//! `sentimentd retrain`, `sentimentd rollback` and `sentimentd models`: the registry
//! from the command line, beside (or without) a running daemon, which follows the
//! current pointer within a second.

use crate::cli::{ModelsArgs, RetrainArgs, RollbackArgs};
use crate::config::{database_path, registry_dir};
use crate::retrain::base_data::read_base_data;
use crate::retrain::{self, lock, Inputs, Outcome, RetrainJob, RetrainSettings};
use anyhow::{anyhow, bail, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use sentiment_data::registry::{parse_version, version_name, Registry, VersionRecord};
use sentiment_data::store::{Store, StoreOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of `retrain` when no new version was promoted.
pub const NOT_PROMOTED: u8 = 3;

fn open_registry(data_dir: &std::path::Path) -> Result<Registry> {
    let dir = registry_dir(data_dir);
    if !dir.is_dir() {
        bail!(
            "no model registry in {} (start `sentimentd serve --data-dir {}` once to bootstrap one)",
            data_dir.display(),
            data_dir.display()
        );
    }
    Ok(Registry::open(dir)?)
}

pub fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
}

pub fn retrain(args: RetrainArgs) -> Result<ExitCode> {
    if args.hub {
        return super::hub_retrain::run(args);
    }
    let crate::config::Loaded { data_dir, file } = crate::config::load(&args.common)?;
    let registry = open_registry(&data_dir)?;
    let base_path: PathBuf = match args.base_data.clone() {
        Some(path) => path,
        None => retrain::runner::registry_base_data(&registry).ok_or_else(|| {
            anyhow!("pass --base-data PATH: no model version says which dataset it came from")
        })?,
    };
    let Some(_lock) = lock::try_lock(&data_dir)? else {
        bail!(
            "a retrain is already running on {} (the daemon's or another command's)",
            data_dir.display()
        );
    };
    let store = Store::open(&database_path(&data_dir), StoreOptions::default())
        .with_context(|| format!("cannot open the feedback store in {}", data_dir.display()))?;
    let feedback = retrain::accepted_feedback(&store)?;
    let audit = retrain::audit_labels(&store)?;
    let base = read_base_data(&base_path)
        .with_context(|| format!("cannot read the base dataset {}", base_path.display()))?;
    let started = crate::events::now_unix_ms();
    let (settings, keep_versions) = command_settings(&args, &file)?;
    let job = RetrainJob {
        registry: &registry,
        settings: &settings,
        train_config: &sentiment_core::TrainConfig::default(),
    };
    let outcome = job.run(
        Inputs {
            base: &base,
            feedback: &feedback,
            audit: &audit,
            first_free: 1,
        },
        &|p| {
            if !args.output.json {
                eprintln!("{}: {}", p.stage, p.message);
            }
        },
    )?;
    if let Err(error) = registry.prune(keep_versions) {
        eprintln!("warning: could not prune old model versions: {error}");
    }
    if args.output.json {
        // The API's shape (`POST /admin/retrain?wait=true`): "version": "v9", "message".
        let report = retrain::runner::report(Ok(outcome.clone()), "cli", started);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_outcome(&outcome);
    }
    if let Some(path) = &args.summary_file {
        super::hub_retrain::append_summary(path, &outcome, &[])?;
    }
    Ok(match outcome {
        Outcome::Promoted { .. } => ExitCode::SUCCESS,
        _ => ExitCode::from(NOT_PROMOTED),
    })
}

/// The retrain settings of `retrain` and `retrain --hub`: the config file's
/// `[retrain]` section as `serve` reads it, then `--feedback-weight` (which pins the
/// weight instead of choosing it by cross-fitting).
pub fn command_settings(
    args: &RetrainArgs,
    file: &crate::config::FileConfig,
) -> Result<(RetrainSettings, usize)> {
    let (mut settings, keep_versions) = crate::config::retrain_settings(file)?;
    if let Some(weight) = args.feedback_weight {
        if !(weight.is_finite() && weight > 0.0) {
            bail!("--feedback-weight must be a positive number, got {weight}");
        }
        settings.feedback_weights = vec![weight];
        settings.feedback_weight = weight;
    }
    Ok((settings, keep_versions))
}

pub fn print_outcome(outcome: &Outcome) {
    let (comparison, record) = match outcome {
        Outcome::NothingNew { reason } => {
            println!("nothing to do: {reason}");
            return;
        }
        Outcome::Promoted {
            comparison, record, ..
        }
        | Outcome::Rejected {
            comparison, record, ..
        } => (comparison, record),
    };
    println!("{}", comparison_table(comparison, &record.name()));
    println!(
        "{} in {:.2} s: {}",
        record.name(),
        comparison.seconds,
        record.decision
    );
}

/// Current against candidate, one row per number the gate looked at.
pub fn comparison_rows(comparison: &retrain::Comparison) -> Vec<[String; 3]> {
    let e = &comparison.evidence;
    let pair = |p: &Option<retrain::gate::Paired>| match p {
        Some(p) => [
            format!(
                "{} ({}/{})",
                percent(Some(p.current_accuracy())),
                p.current_correct,
                p.items
            ),
            format!(
                "{} ({}/{})",
                percent(Some(p.candidate_accuracy())),
                p.candidate_correct,
                p.items
            ),
        ],
        None => ["-".into(), "-".into()],
    };
    let [fresh_cur, fresh_cand] = pair(&e.fresh_feedback);
    let [audit_cur, audit_cand] = pair(&e.audit);
    let t = e.trained_feedback;
    vec![
        [
            format!(
                "base test (reference {} at {})",
                e.reference.version,
                percent(Some(e.reference.base_test))
            ),
            percent(Some(e.current.base_test)),
            percent(Some(e.candidate_base_test)),
        ],
        ["new feedback, cross-fitted".into(), fresh_cur, fresh_cand],
        ["audit set".into(), audit_cur, audit_cand],
        [
            format!("trained feedback ({})", t.items),
            format!("{} right only here", t.broken),
            format!("{} right only here", t.fixed),
        ],
        [
            "feedback weight (cross-fitted)".into(),
            String::new(),
            comparison
                .weight_scores
                .iter()
                .map(|w| format!("{}: {}", w.weight, percent(Some(w.accuracy))))
                .collect::<Vec<_>>()
                .join(", "),
        ],
    ]
}

fn comparison_table(comparison: &retrain::Comparison, candidate: &str) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        String::new(),
        format!("current {}", comparison.current_version),
        format!("candidate {candidate}"),
    ]);
    for row in comparison_rows(comparison) {
        table.add_row(row.to_vec());
    }
    table
}

pub fn rollback(args: RollbackArgs) -> Result<()> {
    let data_dir = crate::config::load(&args.common)?.data_dir;
    let registry = open_registry(&data_dir)?;
    let current = registry
        .current()?
        .context("the registry has no current version")?;
    let target = match &args.version {
        Some(v) => parse_version(v).ok_or_else(|| anyhow!("{v:?} is not a version such as v2"))?,
        None => registry.record(current)?.parent.ok_or_else(|| {
            anyhow!(
                "{} has no parent; name the version to roll back to",
                version_name(current)
            )
        })?,
    };
    if target == current {
        bail!("{} is already current", version_name(target));
    }
    registry.make_current(target, "rolled back to by an operator")?;
    eprintln!(
        "current: {} (was {}); a running daemon switches within a second",
        version_name(target),
        version_name(current)
    );
    Ok(())
}

pub fn models(args: ModelsArgs) -> Result<()> {
    let data_dir = crate::config::load(&args.common)?.data_dir;
    let registry = open_registry(&data_dir)?;
    let current = registry.current()?;
    let versions = registry.versions()?;
    if args.output.json {
        let out: Vec<serde_json::Value> = versions
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["current"] = serde_json::Value::Bool(Some(r.version) == current);
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{}", history_table(&versions, current));
    Ok(())
}

/// The version history as a table.
pub fn history_table(versions: &[VersionRecord], current: Option<u32>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "version",
        "status",
        "base test",
        "feedback cross-fitted",
        "audit",
        "feedback rows",
        "decision",
    ]);
    for r in versions {
        let accuracy = |name: &str| percent(r.evaluations.get(name).map(|e| e.accuracy));
        let feedback_rows = r.training_rows.get("feedback_train").copied().unwrap_or(0);
        let mut status = format!("{:?}", r.status).to_lowercase();
        if Some(r.version) == current {
            status.push_str(" (current)");
        }
        table.add_row(vec![
            r.name(),
            status,
            accuracy("base_test"),
            accuracy("feedback_crossfit"),
            accuracy("audit"),
            feedback_rows.to_string(),
            r.decision.clone(),
        ]);
    }
    table
}
