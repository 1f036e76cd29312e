//! `sentimentd data fetch`: download the base dataset from the Hub into the cache.

use crate::cli::{DataCommand, DataFetchArgs};
use crate::config::HubFile;
use anyhow::{Context, Result};
use sentiment_data::hub::BaseDataset;
use sentiment_data::{read_many, write_examples, Format, MalformedPolicy, ReadOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Fetch(args) => fetch(args),
    }
}

fn fetch(args: DataFetchArgs) -> Result<()> {
    let (data_dir, hub) = crate::config::hub_settings(&args.common)?;
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
    if let Some(shared) = &args.shared_dir {
        write_shared_dir(&base, shared)?;
        eprintln!(
            "wrote a partial shared data directory at {} (SST-2 only)",
            shared.display()
        );
    }
    if args.output.json {
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

/// Lays a downloaded base dataset out the way the shared data directory holds it: the
/// Hub tree `hub/datasets/OWNER/NAME/data/*.parquet` (copies of the cached files) and
/// one TSV per split, `NAME/SPLIT.tsv` (header `sentence<TAB>label`, as the shared
/// SST-2 files), plus a `PARTIAL` marker: the tests skip what only the full shared
/// directory has (and say so) instead of failing on this copy.
fn write_shared_dir(base: &BaseDataset, shared: &Path) -> Result<()> {
    let name = base.repo.rsplit('/').next().unwrap_or(&base.repo);
    let hub = shared.join("hub/datasets").join(&base.repo);
    let tsv_dir = shared.join(name);
    for dir in [hub.join("data"), tsv_dir.clone()] {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut splits: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in &base.files {
        let from = base.dir.join(file);
        let to = hub.join(file);
        std::fs::copy(&from, &to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
        let split = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('-').next())
            .unwrap_or("train")
            .to_string();
        splits.entry(split).or_default().push(to);
    }
    let options = ReadOptions {
        format: Some(Format::Parquet),
        malformed: MalformedPolicy::Fail,
    };
    for (split, files) in &splits {
        let dataset = read_many(files, &options)?;
        let out = tsv_dir.join(format!("{split}.tsv"));
        write_examples(&out, Format::Tsv, &dataset.examples)?;
    }
    let marker = shared.join("PARTIAL");
    std::fs::write(
        &marker,
        format!(
            "Written by `sentimentd data fetch --shared-dir`: {} at commit {} from the Hub.\n\
             Only this dataset is here; tests skip what needs the rest of ../shared/data.\n",
            base.repo, base.commit
        ),
    )
    .with_context(|| format!("cannot write {}", marker.display()))?;
    Ok(())
}
