//! The model file: a fixed header, then the model serialised with postcard.
//!
//! ```text
//! offset  size  field
//! 0       8     signature  b"SENTMDL\0"
//! 8       4     format version, u32 little-endian (this build writes and reads 1)
//! 12      8     payload length in bytes, u64 little-endian
//! 20      32    SHA-256 of the payload
//! 52      ...   payload: postcard { metadata as JSON, vocabulary, weights, bias }
//! ```
//!
//! Loading checks each field in that order, so a truncated, corrupted or future file
//! fails with an error that says which, and never yields a wrong model. Metadata is JSON
//! inside the payload so that fields can be added without a format change.

use crate::features::{TfidfVectorizer, VectorizerState};
use crate::logreg::LinearModel;
use crate::model::{ModelMetadata, SentimentModel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The first bytes of every model file.
pub const SIGNATURE: &[u8; 8] = b"SENTMDL\0";
/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

#[derive(Serialize, Deserialize)]
struct Payload {
    metadata_json: String,
    vectorizer: VectorizerState,
    linear: LinearModel,
}

/// Why a model file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    // The io::Error is in the message, not `source()`, so that a chain printed with
    // anyhow's `{:#}` does not say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not a sentiment model file (it does not start with the model signature)")]
    NotAModel { path: PathBuf },
    #[error("{path} is model format {found}, but this build reads format {supported}: it was written by a newer sentimentd; upgrade to load it")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path} is truncated: the header promises {expected} bytes but the file has {found}; restore it from the registry or retrain")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{path} is corrupted: {detail}; restore it from the registry or retrain")]
    Corrupted { path: PathBuf, detail: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |error| ArtifactError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The model as the bytes of a model file.
pub fn to_bytes(model: &SentimentModel) -> Vec<u8> {
    let payload = Payload {
        metadata_json: serde_json::to_string(&model.metadata)
            .expect("model metadata is plain data and always serialises"),
        vectorizer: model.vectorizer.state().clone(),
        linear: model.linear.clone(),
    };
    let body = postcard::to_allocvec(&payload).expect("postcard serialises plain data");
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// Reads a model from the bytes of a model file; `path` is only for messages.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<SentimentModel, ArtifactError> {
    let path_buf = || path.to_path_buf();
    if bytes.len() < SIGNATURE.len() || &bytes[..SIGNATURE.len()] != SIGNATURE {
        return Err(ArtifactError::NotAModel { path: path_buf() });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ArtifactError::Truncated {
            path: path_buf(),
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(ArtifactError::UnsupportedVersion {
            path: path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let length = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let expected = (HEADER_LEN as u64).saturating_add(length);
    let found = bytes.len() as u64;
    if found < expected {
        return Err(ArtifactError::Truncated {
            path: path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(ArtifactError::Corrupted {
            path: path_buf(),
            detail: format!("{} unexpected bytes after the model", found - expected),
        });
    }
    let body = &bytes[HEADER_LEN..];
    if Sha256::digest(body).as_slice() != &bytes[20..52] {
        return Err(ArtifactError::Corrupted {
            path: path_buf(),
            detail: "checksum mismatch".into(),
        });
    }
    let corrupted = |detail: String| ArtifactError::Corrupted {
        path: path_buf(),
        detail,
    };
    let payload: Payload =
        postcard::from_bytes(body).map_err(|e| corrupted(format!("cannot decode: {e}")))?;
    let metadata: ModelMetadata = serde_json::from_str(&payload.metadata_json)
        .map_err(|e| corrupted(format!("cannot read metadata: {e}")))?;
    let vectorizer = TfidfVectorizer::from_state(payload.vectorizer)
        .map_err(|e| corrupted(format!("inconsistent vocabulary: {e}")))?;
    let linear = payload.linear;
    if linear.weights.len() != vectorizer.n_features() {
        return Err(corrupted(format!(
            "{} weights for {} features",
            linear.weights.len(),
            vectorizer.n_features()
        )));
    }
    if !linear.bias.is_finite() || linear.weights.iter().any(|w| !w.is_finite()) {
        return Err(corrupted("non-finite weights".into()));
    }
    Ok(SentimentModel {
        vectorizer,
        linear,
        metadata,
    })
}

/// Writes the model to `path` atomically: to a temporary file beside it, fsynced, then
/// renamed over `path` (and the directory fsynced), so a crash leaves the old file or
/// the new one, never a torn one.
pub fn save_model(model: &SentimentModel, path: &Path) -> Result<(), ArtifactError> {
    let bytes = to_bytes(model);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        // Make the rename itself durable; not every filesystem allows opening a
        // directory, and the data is already safe, so failure here is not an error.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&temp);
        io_error(path)(e)
    })
}

/// Reads and verifies a model file.
pub fn load_model(path: &Path) -> Result<SentimentModel, ArtifactError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_error(path))?;
    from_bytes(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Label::{Negative as N, Positive as P};
    use crate::train::{train, TrainConfig};

    fn model() -> SentimentModel {
        let texts = ["a great film", "an awful film", "great fun", "awful mess"];
        let mut m = train(
            &texts,
            &[P, N, P, N],
            None,
            &TrainConfig::default(),
            &|_| {},
        )
        .unwrap();
        m.metadata.notes.insert("source".into(), "unit test".into());
        m
    }

    #[test]
    fn round_trip_through_a_file_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        let original = model();
        save_model(&original, &path).unwrap();
        let loaded = load_model(&path).unwrap();
        assert_eq!(loaded.metadata, original.metadata);
        assert_eq!(loaded.vectorizer.state(), original.vectorizer.state());
        assert_eq!(loaded.linear, original.linear);
        for text in ["great", "awful film", "unknown words"] {
            assert_eq!(loaded.predict(text), original.predict(text));
        }
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn truncated_files_are_refused_at_every_length() {
        let bytes = to_bytes(&model());
        let path = Path::new("m.bin");
        for len in 0..bytes.len() {
            let err = from_bytes(&bytes[..len], path).unwrap_err();
            match err {
                ArtifactError::NotAModel { .. } if len < SIGNATURE.len() => {}
                ArtifactError::Truncated { .. } => {}
                other => panic!("length {len}: {other}"),
            }
        }
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let bytes = to_bytes(&model());
        let path = Path::new("m.bin");
        for i in 0..bytes.len() {
            let mut corrupt = bytes.clone();
            corrupt[i] ^= 0x40;
            assert!(
                from_bytes(&corrupt, path).is_err(),
                "byte {i} flipped went unnoticed"
            );
        }
    }

    #[test]
    fn future_formats_and_other_files_get_clear_errors() {
        let mut bytes = to_bytes(&model());
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let err = from_bytes(&bytes, Path::new("m.bin")).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
        assert!(err.to_string().contains("upgrade"), "{err}");
        let err = from_bytes(b"sentence\tlabel\nhello\t1\n", Path::new("x.tsv")).unwrap_err();
        assert!(matches!(err, ArtifactError::NotAModel { .. }));
        let mut extra = to_bytes(&model());
        extra.push(0);
        assert!(matches!(
            from_bytes(&extra, Path::new("m.bin")).unwrap_err(),
            ArtifactError::Corrupted { .. }
        ));
    }

    #[test]
    fn a_payload_with_a_valid_checksum_but_inconsistent_content_is_refused() {
        let m = model();
        let payload = Payload {
            metadata_json: serde_json::to_string(&m.metadata).unwrap(),
            vectorizer: m.vectorizer.state().clone(),
            linear: LinearModel {
                weights: vec![0.0; 1],
                bias: 0.0,
            },
        };
        let body = postcard::to_allocvec(&payload).unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(SIGNATURE);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&body));
        bytes.extend_from_slice(&body);
        let err = from_bytes(&bytes, Path::new("m.bin")).unwrap_err();
        assert!(err.to_string().contains("weights for"), "{err}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let err = load_model(Path::new("/nonexistent/model.bin")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/model.bin"));
    }
}
