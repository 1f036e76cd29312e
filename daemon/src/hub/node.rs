//! The node id: this daemon's name in feedback shard paths (`feedback/{node_id}/...`).
//! Configured (`hub.node_id`, `--node-id`), or generated once and kept in
//! `DATA_DIR/node_id`, so it survives restarts and two data directories on one
//! machine are two nodes.

use anyhow::{anyhow, Context, Result};
use sentiment_data::hub::validate_node_id;
use std::io::Write;
use std::path::Path;

const NODE_ID_FILE: &str = "node_id";

pub fn node_id(data_dir: &Path, configured: Option<&str>) -> Result<String> {
    if let Some(id) = configured {
        validate_node_id(id).map_err(|e| anyhow!(e))?;
        return Ok(id.to_string());
    }
    let path = data_dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim().to_string();
            validate_node_id(&id)
                .map_err(|e| anyhow!("{}: {e}; fix or delete the file", path.display()))?;
            return Ok(id);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    // The last 48 bits of a UUIDv7 are random: unique without coordination.
    let id = format!("node-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let temp = data_dir.join(format!(".{NODE_ID_FILE}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(format!("{id}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)
    };
    write().with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(node_id = %id, file = %path.display(), "generated this daemon's node id");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = node_id(dir.path(), None).unwrap();
        assert!(first.starts_with("node-"), "{first}");
        assert_eq!(node_id(dir.path(), None).unwrap(), first);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(node_id(other.path(), None).unwrap(), first);
        assert_eq!(node_id(dir.path(), Some("web-1")).unwrap(), "web-1");
        assert!(node_id(dir.path(), Some("a/b")).is_err());
    }
}
