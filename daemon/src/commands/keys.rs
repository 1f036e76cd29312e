//! `sentimentd keys add|list|remove`.

use crate::auth::{add_key, list_keys, remove_key};
use crate::cli::KeysCommand;
use anyhow::{bail, Result};

pub fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Add(args) => {
            // A key on a tier the daemon does not know would be refused on every request
            // (403 unknown_tier): refuse it here instead.
            let mut tiers = crate::config::default_tiers();
            tiers.extend(crate::config::load(&args.file.common)?.file.tiers);
            if !tiers.contains_key(&args.tier) {
                let known: Vec<&str> = tiers.keys().map(String::as_str).collect();
                bail!(
                    "unknown tier {:?}: the tiers are {}; add `{} = REQUESTS_PER_MINUTE` under \
                     [tiers] in the config file (and pass it with --config) to create it",
                    args.tier,
                    known.join(", "),
                    args.tier
                );
            }
            let path = crate::config::keys_file(&args.file)?;
            let key = add_key(&path, &args.name, &args.tier, args.role)?;
            eprintln!(
                "created key {:?} (tier {}, role {}) in {}; it is shown only now:",
                args.name,
                args.tier,
                args.role,
                path.display()
            );
            println!("{key}");
        }
        KeysCommand::List(args) => {
            let path = crate::config::keys_file(&args.file)?;
            let keys = list_keys(&path)?;
            if keys.is_empty() {
                eprintln!("no keys in {}", path.display());
            }
            for key in keys {
                println!("{}\t{}\t{}", key.name, key.tier, key.role);
            }
        }
        KeysCommand::Remove(args) => {
            let path = crate::config::keys_file(&args.file)?;
            remove_key(&path, &args.name)?;
            eprintln!("removed key {:?} from {}", args.name, path.display());
        }
    }
    Ok(())
}
