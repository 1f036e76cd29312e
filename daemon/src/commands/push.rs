//! `sentimentd push` and `sentimentd pull`: model versions to and from the Hub's model
//! repository (`hub.model_repo`).

use crate::cli::{Common, ModelRepo, PullArgs, PushArgs};
use crate::config::{registry_dir, HubFile};
use anyhow::{anyhow, Context, Result};
use sentiment_data::registry::{parse_version, version_name, Registry};

/// The data directory and Hub settings, `--repo` over `hub.model_repo`.
fn model_hub(common: &Common, model: &ModelRepo) -> Result<(std::path::PathBuf, HubFile)> {
    let (data_dir, hub) = crate::config::hub_settings(common)?;
    let hub = HubFile {
        model_repo: model.repo.clone().or(hub.model_repo),
        ..hub
    };
    Ok((data_dir, hub))
}

pub fn push(args: PushArgs) -> Result<()> {
    let (data_dir, hub) = model_hub(&args.common, &args.model)?;
    let registry = Registry::open(registry_dir(&data_dir))?;
    let current = registry.current()?;
    let version = match &args.version {
        Some(name) => parse_version(name)
            .ok_or_else(|| anyhow!("{name:?} is not a version; use the form v3"))?,
        None => current.ok_or_else(|| {
            anyhow!(
                "the data directory {} has no current model to push; start `sentimentd serve` once to train one",
                data_dir.display()
            )
        })?,
    };
    let client = crate::hub::client(&data_dir, &hub)?;
    // Only the version served here becomes the one replicas should serve.
    let report = client
        .push_version(&registry, version, current == Some(version))
        .with_context(|| format!("cannot push {}", version_name(version)))?;
    if args.output.json {
        let value = serde_json::json!({
            "repo": report.repo,
            "version": version_name(report.version),
            "commit": report.commit,
            "files": report.files,
            "current": report.current.map(version_name),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "pushed {} to {} in commit {}:",
            version_name(report.version),
            report.repo,
            report.commit
        );
        for file in &report.files {
            println!("  {file}");
        }
    }
    Ok(())
}

pub fn pull(args: PullArgs) -> Result<()> {
    let (data_dir, hub) = model_hub(&args.common, &args.model)?;
    let version = match &args.version {
        Some(name) => Some(
            parse_version(name)
                .ok_or_else(|| anyhow!("{name:?} is not a version; use the form v3"))?,
        ),
        None => None,
    };
    let registry = Registry::open(registry_dir(&data_dir))?;
    let client = crate::hub::client(&data_dir, &hub)?;
    let pulled = client
        .pull_version(&registry, version)
        .context("cannot pull a model version from the Hub")?;
    let current = registry.current()?;
    println!(
        "{} is in {}{}",
        version_name(pulled),
        registry.root().display(),
        if current == Some(pulled) {
            " and is current (a running daemon serves it within a second)"
        } else {
            ""
        }
    );
    Ok(())
}
