//! `sentimentd keys add|list|remove`.

use crate::auth::{add_key, list_keys, remove_key};
use crate::cli::KeysCommand;
use anyhow::Result;

pub fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Add(args) => {
            let path = args.file.resolve();
            let key = add_key(&path, &args.name, &args.tier, args.role)?;
            eprintln!(
                "created key {:?} (tier {}, role {:?}) in {}; it is shown only now:",
                args.name,
                args.tier,
                args.role,
                path.display()
            );
            println!("{key}");
        }
        KeysCommand::List(args) => {
            let path = args.file.resolve();
            let keys = list_keys(&path)?;
            if keys.is_empty() {
                eprintln!("no keys in {}", path.display());
            }
            for key in keys {
                println!("{}\t{}\t{:?}", key.name, key.tier, key.role);
            }
        }
        KeysCommand::Remove(args) => {
            let path = args.file.resolve();
            remove_key(&path, &args.name)?;
            eprintln!("removed key {:?} from {}", args.name, path.display());
        }
    }
    Ok(())
}
