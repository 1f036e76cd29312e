//! `sentimentd data fetch`: download the base dataset from the Hub into the cache.

use crate::cli::{DataCommand, DataFetchArgs};
use crate::config::HubFile;
use anyhow::{Context, Result};

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Fetch(args) => fetch(args),
    }
}

fn fetch(args: DataFetchArgs) -> Result<()> {
    let (data_dir, hub) = crate::hub::settings(&args.data_dir, args.config.as_deref())?;
    let hub = HubFile {
        base_dataset: args.repo.clone().or(hub.base_dataset),
        ..hub
    };
    let client = crate::hub::client(&data_dir, &hub)?;
    let repo = client.config().base_dataset.clone();
    let base = client.fetch_base_dataset().with_context(|| {
        format!(
            "cannot download the base dataset {repo}; to work offline, pass local data to \
             `serve`/`retrain` with --base-data PATH instead"
        )
    })?;
    if args.json {
        let value = serde_json::json!({
            "repo": base.repo,
            "commit": base.commit,
            "dir": base.dir,
            "files": base.files,
            "offline": base.offline,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if base.offline {
        eprintln!("warning: the Hub is unreachable; using the copy cached earlier");
    }
    println!("{} at commit {}", base.repo, base.commit);
    for file in &base.files {
        println!("  {}", base.dir.join(file).display());
    }
    println!(
        "base data folder: {}\n(use it offline with --base-data {})",
        base.dir.display(),
        base.dir.display()
    );
    Ok(())
}
