//! API keys, roles and who a request comes from.
//!
//! Keys live in a TOML file as SHA-256 hashes: the daemon never stores a key, so a
//! leaked keys file does not leak keys. A presented key is hashed and compared against
//! every stored hash in constant time, with no early exit, so response timing says
//! nothing about how close a guess was.

use anyhow::{bail, Context, Result};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use subtle::ConstantTimeEq;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Predict, send feedback, read model info and metrics.
    User,
    /// Everything a user may do, plus operator routes (queue, retrain, promote...).
    Admin,
}

impl std::fmt::Display for Role {
    /// As the flags spell it: `user`, `admin`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::User => "user",
            Role::Admin => "admin",
        })
    }
}

/// One entry of the keys file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub name: String,
    pub tier: String,
    pub role: Role,
    /// Hex SHA-256 of the key.
    pub sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysFile {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No key, on TCP with auth off.
    Anonymous,
    /// A known key.
    Key {
        name: String,
        tier: String,
        role: Role,
    },
    /// The operator socket: its file permissions are the credential.
    Socket,
}

impl Principal {
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Principal::Socket
                | Principal::Key {
                    role: Role::Admin,
                    ..
                }
        )
    }
    /// The key name, for logs and feedback attribution.
    pub fn key_name(&self) -> Option<&str> {
        match self {
            Principal::Key { name, .. } => Some(name),
            _ => None,
        }
    }
    /// Who sent a request, as feedback and predictions record it: `socket`, `admin`
    /// (an admin key), `api` (a user key) or `anonymous`. The first two are trusted.
    pub fn source(&self) -> &'static str {
        match self {
            Principal::Socket => "socket",
            Principal::Key {
                role: Role::Admin, ..
            } => "admin",
            Principal::Key { .. } => "api",
            Principal::Anonymous => "anonymous",
        }
    }

    /// An untrusted sender's identity for quotas and caps: `key:NAME` for a user key,
    /// `addr:IP` for an anonymous caller (`anonymous` when the address is unknown);
    /// None for trusted senders.
    pub fn untrusted_identity(&self, client: Option<std::net::IpAddr>) -> Option<String> {
        match self {
            _ if self.is_operator() => None,
            Principal::Key { name, .. } => Some(format!("key:{name}")),
            _ => Some(match client {
                Some(ip) => format!("addr:{ip}"),
                None => "anonymous".to_string(),
            }),
        }
    }
}

/// The loaded keys.
#[derive(Debug, Default)]
pub struct KeyStore {
    entries: Vec<(KeyEntry, [u8; 32])>,
}

pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl KeyStore {
    /// Reads the keys file; a missing file is an empty store.
    pub fn load(path: &Path) -> Result<KeyStore> {
        let file = read_file(path)?;
        let mut entries = Vec::with_capacity(file.keys.len());
        for entry in file.keys {
            let bytes = hex::decode(&entry.sha256)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .with_context(|| {
                    format!(
                        "{}: key {:?} has a sha256 that is not 64 hex digits",
                        path.display(),
                        entry.name
                    )
                })?;
            entries.push((entry, bytes));
        }
        Ok(KeyStore { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry whose hash matches, compared in constant time against all of them.
    pub fn authenticate(&self, presented: &str) -> Option<&KeyEntry> {
        let hash = hash_key(presented);
        let mut found = None;
        for (entry, stored) in &self.entries {
            if bool::from(stored.ct_eq(&hash)) {
                found = Some(entry);
            }
        }
        found
    }
}

fn read_file(path: &Path) -> Result<KeysFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{} is not a valid keys file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeysFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read the keys file {}", path.display())),
    }
}

fn write_file(path: &Path, file: &KeysFile) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let temp = path.with_extension("toml.tmp");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    out.write_all(toml::to_string_pretty(file)?.as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&temp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Creates a key, stores its hash, and returns the key (shown once).
pub fn add_key(path: &Path, name: &str, tier: &str, role: Role) -> Result<String> {
    if name.trim().is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        bail!("a key name must be 1-64 printable characters");
    }
    let mut file = read_file(path)?;
    if file.keys.iter().any(|k| k.name == name) {
        bail!(
            "a key named {name:?} already exists in {}; remove it first",
            path.display()
        );
    }
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut secret);
    let key = format!("sk-{}", hex::encode(secret));
    file.keys.push(KeyEntry {
        name: name.to_string(),
        tier: tier.to_string(),
        role,
        sha256: hex::encode(hash_key(&key)),
    });
    write_file(path, &file)?;
    Ok(key)
}

pub fn list_keys(path: &Path) -> Result<Vec<KeyEntry>> {
    Ok(read_file(path)?.keys)
}

pub fn remove_key(path: &Path, name: &str) -> Result<()> {
    let mut file = read_file(path)?;
    let before = file.keys.len();
    file.keys.retain(|k| k.name != name);
    if file.keys.len() == before {
        bail!("no key named {name:?} in {}", path.display());
    }
    write_file(path, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_authenticate_remove() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let key = add_key(&path, "alice", "free", Role::User).unwrap();
        let admin = add_key(&path, "root", "unlimited", Role::Admin).unwrap();
        assert!(add_key(&path, "alice", "free", Role::User).is_err());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&key), "the key itself must not be stored");
        let store = KeyStore::load(&path).unwrap();
        assert_eq!(store.authenticate(&key).unwrap().name, "alice");
        assert_eq!(store.authenticate(&admin).unwrap().role, Role::Admin);
        assert!(store.authenticate("sk-wrong").is_none());
        assert!(store.authenticate("").is_none());
        remove_key(&path, "alice").unwrap();
        assert!(KeyStore::load(&path).unwrap().authenticate(&key).is_none());
        assert!(remove_key(&path, "alice").is_err());
    }
}
