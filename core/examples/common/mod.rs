//! What the engine's examples share: a plain reader for `sentence<TAB>label` files
//! after a header (SST-2's layout), so the examples time the engine without the data
//! crate's readers.

use sentiment_core::Label;

pub fn read_tsv(path: &str) -> (Vec<String>, Vec<Label>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for line in text.lines().skip(1) {
        let Some((sentence, label)) = line.rsplit_once('\t') else {
            continue;
        };
        let Some(label) = label.trim().parse().ok().and_then(Label::from_index) else {
            continue;
        };
        texts.push(sentence.to_string());
        labels.push(label);
    }
    (texts, labels)
}
