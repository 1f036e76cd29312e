//! The file formats a dataset can come in, and how to tell them from a file name.

use std::fmt;
use std::path::Path;

/// A dataset file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Tab-separated, no quoting (the GLUE / SST-2 distribution format).
    Tsv,
    /// Comma-separated with RFC 4180 quoting.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// Apache Parquet, as the Hugging Face Hub serves datasets.
    Parquet,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 4] = [Format::Tsv, Format::Csv, Format::JsonLines, Format::Parquet];

    /// The format named by the path's extension (case-insensitive): `.tsv`, `.csv`,
    /// `.jsonl` / `.ndjson` / `.json-lines`, `.parquet`. `None` for anything else,
    /// including no extension: guessing from content would make a typo in a file name
    /// silently change how the file is parsed.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "tsv" => Some(Format::Tsv),
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" => Some(Format::JsonLines),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The extension written for this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Tsv => "TSV",
            Format::Csv => "CSV",
            Format::JsonLines => "JSON Lines",
            Format::Parquet => "Parquet",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_extension_in_any_case() {
        let cases = [
            ("a/train.tsv", Some(Format::Tsv)),
            ("train.TSV", Some(Format::Tsv)),
            ("x.csv", Some(Format::Csv)),
            ("x.jsonl", Some(Format::JsonLines)),
            ("x.ndjson", Some(Format::JsonLines)),
            ("x.json-lines", Some(Format::JsonLines)),
            ("data/train-00000-of-00001.parquet", Some(Format::Parquet)),
            ("x.json", None),
            ("x.txt", None),
            ("train", None),
            ("x.tsv.gz", None),
        ];
        for (path, want) in cases {
            assert_eq!(Format::from_path(Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn displays_human_names_and_extensions_round_trip() {
        assert_eq!(Format::JsonLines.to_string(), "JSON Lines");
        for format in Format::ALL {
            let name = format!("file.{}", format.extension());
            assert_eq!(Format::from_path(Path::new(&name)), Some(format));
        }
    }
}
