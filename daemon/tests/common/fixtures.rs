//! Test data: the shared SST-2 directory, a small base dataset cut from it, temporary
//! directories and config files, and a model trained on a few inline texts for the
//! in-process tests (no SST-2, milliseconds).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn shared_data() -> PathBuf {
    match std::env::var_os("SENTIMENT_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// A small base dataset (the first 8,000 SST-2 training rows, and SST-2's validation
/// split as the test split) written to a temporary directory once per test binary.
pub fn small_base_data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("sentimentd-base-")
            .tempdir()
            .unwrap()
            .keep();
        let sst2 = shared_data().join("sst2");
        let train = std::fs::read_to_string(sst2.join("train.tsv")).expect("shared SST-2 train");
        let head: Vec<&str> = train.lines().take(8_001).collect();
        std::fs::write(dir.join("train.tsv"), head.join("\n") + "\n").unwrap();
        std::fs::copy(sst2.join("validation.tsv"), dir.join("validation.tsv")).unwrap();
        dir
    })
}

/// Temp dirs under /tmp keep the socket path short (Unix sockets allow 107 bytes).
pub fn short_tempdir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("sd-")
        .tempdir_in("/tmp")
        .unwrap()
        .keep()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A config file with `text` in a fresh temporary directory (kept until the process
/// ends: the daemon reads it at start).
pub fn config_file(text: &str) -> PathBuf {
    let path = short_tempdir().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// For tests about other things than review that send anonymous feedback in a
/// made-up vocabulary from one address: no hold for review, no address quota.
pub const ANONYMOUS_FEEDBACK_UNBOUNDED: &str =
    "[feedback]\nhold_contradicting_confidence = \"off\"\nmax_per_address_per_day = 0\n";

/// Positive (1) and negative (0) review sentences for the inline model: enough for a
/// model that gets the words the in-process tests use right, trained in milliseconds.
const INLINE_TRAIN: &[(&str, u8)] = &[
    ("a gorgeous , witty and moving film", 1),
    ("a masterpiece , brilliant and moving", 1),
    ("great fun from start to finish", 1),
    ("a delight : warm , funny and moving", 1),
    ("brilliant acting and a gorgeous score", 1),
    ("witty , smart and great fun", 1),
    ("a moving and beautiful story", 1),
    ("the best film of the year , a masterpiece", 1),
    ("funny , charming and a real delight", 1),
    ("superb performances in a gorgeous film", 1),
    ("an excellent , heartfelt drama", 1),
    ("i loved it : brilliant , witty , moving", 1),
    ("a wonderful and inventive comedy", 1),
    ("great characters and a great script", 1),
    ("beautiful , smart and deeply moving", 1),
    ("a charming film that is great fun", 1),
    ("dull and lifeless from start to finish", 0),
    ("a boring mess of a film", 0),
    ("awful acting and a dreadful script", 0),
    ("dull , tedious and boring", 0),
    ("a lifeless , dreadful mess", 0),
    ("the worst film of the year , awful", 0),
    ("boring characters and a dull story", 0),
    ("a tedious and pointless drama", 0),
    ("i hated it : awful , boring , lifeless", 0),
    ("a stupid and clumsy comedy", 0),
    ("terrible performances in a dull film", 0),
    ("a dreadful , ugly and boring mess", 0),
    ("painfully dull and badly written", 0),
    ("a pointless mess that is no fun", 0),
    ("lifeless , tedious and awful", 0),
    ("bad acting and a terrible score", 0),
];

/// The inline model's test split (every version's base test accuracy is measured on it).
const INLINE_VALIDATION: &[(&str, u8)] = &[
    ("a brilliant and moving film", 1),
    ("witty and great fun", 1),
    ("a gorgeous masterpiece", 1),
    ("a charming delight", 1),
    ("a dull and boring film", 0),
    ("an awful , lifeless mess", 0),
    ("tedious and dreadful", 0),
    ("a terrible , pointless script", 0),
];

/// How many training rows the inline model has (what `/model_info` reports).
pub const INLINE_TRAIN_ROWS: usize = INLINE_TRAIN.len();

fn write_tsv(path: &Path, rows: &[(&str, u8)]) {
    let mut text = String::from("sentence\tlabel\n");
    for (sentence, label) in rows {
        text.push_str(&format!("{sentence}\t{label}\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// A base dataset of a few inline sentences (`train.tsv`, `validation.tsv` in SST-2's
/// layout), written once per test binary.
pub fn inline_base_data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("sentimentd-inline-")
            .tempdir()
            .unwrap()
            .keep();
        write_tsv(&dir.join("train.tsv"), INLINE_TRAIN);
        write_tsv(&dir.join("validation.tsv"), INLINE_VALIDATION);
        dir
    })
}

/// A registry (`models/`) whose version 1 was trained on the inline base data, as
/// `serve` trains it on a first start (through `sentimentd::open_state`), once per
/// test binary.
fn inline_registry() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("sentimentd-inline-model-")
            .tempdir()
            .unwrap()
            .keep();
        let mut config = sentimentd::ServeConfig::new(dir.clone());
        config.base_data = Some(inline_base_data().to_path_buf());
        let state = sentimentd::open_state(config).expect("version 1 trains on the inline data");
        state.store.flush().unwrap();
        drop(state);
        dir.join("models")
    })
}

/// A fresh data directory holding the inline model as its current version 1.
pub fn inline_model_data_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("sentimentd-app-")
        .tempdir()
        .unwrap()
        .keep();
    copy_dir(inline_registry(), &dir.join("models"));
    dir
}

/// Writes a keys file holding `keys` as (key, name, tier, role), stored as
/// `sentimentd keys add` stores them (SHA-256 hashes); returns its path.
pub fn keys_file(dir: &Path, keys: &[(&str, &str, &str, &str)]) -> PathBuf {
    use sha2::Digest;
    let mut text = String::new();
    for (key, name, tier, role) in keys {
        let sha256 = hex::encode(sha2::Sha256::digest(key.as_bytes()));
        text.push_str(&format!(
            "[[keys]]\nname = {name:?}\ntier = {tier:?}\nrole = {role:?}\nsha256 = {sha256:?}\n\n"
        ));
    }
    let path = dir.join("keys.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The inline model's training sentences.
pub fn inline_sentences() -> impl Iterator<Item = &'static str> {
    INLINE_TRAIN.iter().map(|(sentence, _)| *sentence)
}
