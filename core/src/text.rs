//! Text normalisation and tokenising: the first two stages of the feature pipeline.
//!
//! The base data (SST-2) is already lower-cased and tokenised the Penn Treebank way
//! (`it 's`, `does n't`, `-lrb-`). Live traffic is raw text (`I don't like it!`), so the
//! tokeniser reproduces that convention on raw text: a model trained on SST-2 then sees
//! the same tokens for `doesn't` and `does n't`.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// What a C1 control character (U+0080-U+009F) meant in Windows-1252, where it meant
/// something: text decoded as Latin-1 that was written as Windows-1252 (mojibake that
/// web-scraped reviews are full of) carries U+0096 for an en dash, U+0092 for a
/// right quote. The five code points Windows-1252 leaves undefined give None.
pub fn windows_1252_c1(ch: char) -> Option<char> {
    const TABLE: [Option<char>; 32] = [
        Some('\u{20AC}'),
        None,
        Some('\u{201A}'),
        Some('\u{0192}'),
        Some('\u{201E}'),
        Some('\u{2026}'),
        Some('\u{2020}'),
        Some('\u{2021}'),
        Some('\u{02C6}'),
        Some('\u{2030}'),
        Some('\u{0160}'),
        Some('\u{2039}'),
        Some('\u{0152}'),
        None,
        Some('\u{017D}'),
        None,
        None,
        Some('\u{2018}'),
        Some('\u{2019}'),
        Some('\u{201C}'),
        Some('\u{201D}'),
        Some('\u{2022}'),
        Some('\u{2013}'),
        Some('\u{2014}'),
        Some('\u{02DC}'),
        Some('\u{2122}'),
        Some('\u{0161}'),
        Some('\u{203A}'),
        Some('\u{0153}'),
        None,
        Some('\u{017E}'),
        Some('\u{0178}'),
    ];
    match ch as u32 {
        code @ 0x80..=0x9F => TABLE[(code - 0x80) as usize],
        _ => None,
    }
}

/// One character as every entry point takes it in: a C1 control becomes its
/// Windows-1252 meaning where it has one, any other control character (C0, DEL, an
/// undefined C1) a space; tab and line breaks stay; everything else is unchanged.
fn clean_char(ch: char) -> char {
    if !ch.is_control() || matches!(ch, '\t' | '\n' | '\r') {
        return ch;
    }
    windows_1252_c1(ch).unwrap_or(' ')
}

/// The one clean-up every way in applies to incoming text (the API, the CLI, the
/// dataset readers), before anything is checked, stored or predicted: see
/// [`clean_char`]. [`normalise`] applies the same mapping, so a text predicts exactly
/// as its cleaned form does. Borrows when there is nothing to change.
pub fn clean(text: &str) -> Cow<'_, str> {
    let dirty = |ch: char| ch.is_control() && !matches!(ch, '\t' | '\n' | '\r');
    if !text.chars().any(dirty) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(clean_char).collect())
}

/// Bytes that should be UTF-8, decoded: invalid sequences become U+FFFD (one each, as
/// [`String::from_utf8_lossy`] does) and are counted, so the caller can warn with the
/// number rather than stop; then [`clean`]. Returns the text and the replacements.
pub fn decode_lossy(bytes: &[u8]) -> (String, usize) {
    let (text, replaced) = match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), 0),
        Err(_) => {
            let mut replaced = 0;
            for chunk in bytes.utf8_chunks() {
                if !chunk.invalid().is_empty() {
                    replaced += 1;
                }
            }
            (String::from_utf8_lossy(bytes), replaced)
        }
    };
    (clean(&text).into_owned(), replaced)
}

/// Canonical form of a text: C1 controls read as Windows-1252 (as [`clean`] does),
/// Unicode NFKC, lower-cased, typographic quotes folded to
/// ASCII, whitespace runs collapsed to one space, trimmed. Two texts that a reader would
/// call the same normalise to the same string, which is what de-duplication keys on.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalise_into(text, &mut out);
    out
}

/// [`normalise`] into a caller's buffer (cleared first), so the predict path reuses one
/// allocation per thread.
pub fn normalise_into(text: &str, out: &mut String) {
    out.clear();
    // One allocation per text rather than a doubling series (training normalises every
    // text into a fresh string).
    out.reserve(text.len());
    if text.is_ascii() {
        // Fast path for the common case: no NFKC work or multi-char lower-casing.
        push_folded_ascii(out, text.as_bytes());
    } else {
        // NFKC again after lower-casing: a lower-case mapping can leave combining marks
        // out of canonical order (`İ` + U+065F lower-cases to `i` U+0307 U+065F), and
        // then a second normalisation would reorder them (found by the fuzzer).
        push_folded(
            out,
            text.chars()
                .map(|c| windows_1252_c1(c).unwrap_or(c))
                .nfkc()
                .flat_map(char::to_lowercase)
                .nfkc()
                .map(fold_quote),
        );
    }
}

fn push_folded(out: &mut String, chars: impl Iterator<Item = char>) {
    // A space is written only before the next visible character, so the result never
    // starts or ends with one.
    let mut pending_space = false;
    for ch in chars {
        if ch.is_whitespace() || ch.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(ch);
        }
    }
}

/// [`push_folded`] for ASCII text, a byte at a time: the same rules (ASCII whitespace
/// and control characters are the bytes up to 0x20 and 0x7F) without decoding chars.
fn push_folded_ascii(out: &mut String, text: &[u8]) {
    let mut pending_space = false;
    for &byte in text {
        if byte <= b' ' || byte == 0x7F {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(byte.to_ascii_lowercase() as char);
        }
    }
}

/// Typographic quotes to their ASCII forms. ASCII itself stays as it is (the backtick
/// too: the ASCII fast path never folds, and both paths must agree).
fn fold_quote(ch: char) -> char {
    match ch {
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
        other => other,
    }
}

/// Suffixes split off a word the way the Penn Treebank does (`it's` -> `it 's`).
const CLITICS: [&str; 6] = ["'s", "'re", "'ve", "'ll", "'d", "'m"];

/// The Treebank's spelling of brackets, which SST-2 uses; raw brackets map to them so
/// that `(` in live text and `-lrb-` in the base data are one feature.
const PTB_BRACKETS: [&str; 6] = ["-lrb-", "-rrb-", "-lsb-", "-rsb-", "-lcb-", "-rcb-"];

fn ptb_bracket_for(ch: char) -> Option<&'static str> {
    let index = match ch {
        '(' => 0,
        ')' => 1,
        '[' => 2,
        ']' => 3,
        '{' => 4,
        '}' => 5,
        _ => return None,
    };
    Some(PTB_BRACKETS[index])
}

/// Splits an already normalised text into tokens, calling `emit` with each one as a
/// slice of `normalised` (no allocation).
///
/// Words are runs of letters and digits, with inner hyphens and apostrophes kept
/// (`well-made`, `-lrb-` stays whole when it has letters on both sides of a hyphen);
/// `n't` and the clitics above are split off as their own tokens; every other
/// punctuation character is a token, a run of the same one (`...`, `!!`) one token;
/// brackets become their Treebank names (`(` -> `-lrb-`).
pub fn tokenise<'a>(normalised: &'a str, mut emit: impl FnMut(&'a str)) {
    let mut chars = normalised.char_indices().peekable();
    while let Some((start, ch)) = chars.next() {
        if ch == ' ' {
            continue;
        }
        if ch == '-' {
            if let Some(bracket) = PTB_BRACKETS
                .iter()
                .find(|b| normalised[start..].starts_with(**b))
            {
                for _ in 1..bracket.len() {
                    chars.next();
                }
                emit(bracket);
                continue;
            }
        }
        if let Some(bracket) = ptb_bracket_for(ch) {
            emit(bracket);
            continue;
        }
        if is_word_char(ch) || (ch == '\'' && next_is_word(normalised, start + 1)) {
            let mut end = start + ch.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                let joins =
                    is_word_char(c) || ((c == '\'' || c == '-') && next_is_word(normalised, i + 1));
                if !joins {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            emit_word(&normalised[start..end], &mut emit);
        } else {
            // Punctuation: one token per run of the same character.
            let mut end = start + ch.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if c != ch {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            emit(&normalised[start..end]);
        }
    }
}

fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric()
}

fn next_is_word(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(is_word_char)
}

fn emit_word<'a>(word: &'a str, emit: &mut impl FnMut(&'a str)) {
    if word.len() > 3 && word.ends_with("n't") {
        emit(&word[..word.len() - 3]);
        emit(&word[word.len() - 3..]);
        return;
    }
    if !word.starts_with('\'') {
        for clitic in CLITICS {
            if word.len() > clitic.len() && word.ends_with(clitic) {
                emit(&word[..word.len() - clitic.len()]);
                emit(&word[word.len() - clitic.len()..]);
                return;
            }
        }
    }
    emit(word);
}

/// Convenience for tests and callers that want owned tokens of a raw text.
pub fn tokens(text: &str) -> Vec<String> {
    let normalised = normalise(text);
    let mut out = Vec::new();
    tokenise(&normalised, |t| out.push(t.to_string()));
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn normalising_is_idempotent_when_lower_casing_reorders_combining_marks() {
        // Found by the fuzzer: `İ` lower-cases to `i` + U+0307, which must then sort
        // after U+065F (combining class 220 before 230).
        let text = "8|\u{130}\u{6db}\u{6db}\u{6db}\u{65f}";
        let once = normalise(text);
        assert_eq!(normalise(&once), once);
    }

    use super::*;

    #[test]
    fn c1_controls_read_as_windows_1252_and_other_controls_as_spaces() {
        // U+0096 is cp1252's en dash, U+0092 its right single quote; U+0081 is
        // undefined there; U+0007 and U+007F are plain controls.
        let raw = "great \u{0096} isn\u{0092}t it\u{0081}ok\u{0007}x\u{007F}y\tz\n";
        assert_eq!(clean(raw), "great \u{2013} isn\u{2019}t it ok x y\tz\n");
        assert!(matches!(clean("plain text"), Cow::Borrowed(_)));
        for code in 0x80u32..=0x9F {
            let ch = char::from_u32(code).unwrap();
            let mapped = windows_1252_c1(ch);
            assert_eq!(
                mapped.is_none(),
                [0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(&code),
                "U+{code:04X}"
            );
            // Whatever it maps to, the normalised forms of raw and cleaned agree.
            let text = format!("so{ch}good");
            assert_eq!(normalise(&text), normalise(&clean(&text)), "U+{code:04X}");
        }
        assert_eq!(normalise("isn\u{0092}t"), normalise("isn\u{2019}t"));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_and_counted() {
        // A raw cp1252 byte (0x96, en dash) and a truncated sequence.
        let (text, replaced) = decode_lossy(b"good \x96 film \xE2\x80");
        assert_eq!(text, "good \u{FFFD} film \u{FFFD}");
        assert_eq!(replaced, 2);
        assert_eq!(
            decode_lossy("fine\u{0096}".as_bytes()),
            ("fine\u{2013}".into(), 0)
        );
    }

    #[test]
    fn normalise_lowercases_collapses_and_trims() {
        assert_eq!(normalise("  Hello\t\tWORLD \n"), "hello world");
        assert_eq!(normalise(""), "");
        assert_eq!(normalise(" \u{0007} "), "");
    }

    #[test]
    fn the_ascii_fast_path_folds_like_the_general_one() {
        // Every ASCII byte, alone and between letters, and some runs of them.
        let mut cases: Vec<String> = (0u8..128).map(|b| (b as char).to_string()).collect();
        cases.extend((0u8..128).map(|b| format!("A{}b", b as char)));
        cases.extend((0u8..128).map(|b| format!(" \t{}{}X\x7f", b as char, b as char)));
        for text in cases {
            let mut general = String::new();
            push_folded(&mut general, text.chars().flat_map(char::to_lowercase));
            let mut fast = String::new();
            push_folded_ascii(&mut fast, text.as_bytes());
            assert_eq!(fast, general, "{text:?}");
        }
    }

    #[test]
    fn a_non_ascii_character_elsewhere_changes_nothing_about_ascii_ones() {
        // The general path (taken when a text has any non-ASCII character) must treat
        // every ASCII character as the fast path does; the backtick once differed.
        for byte in 0u8..128 {
            let ascii = (byte as char).to_string();
            let alone = normalise(&ascii);
            let with_accent = normalise(&format!("{ascii}\u{e9}"));
            assert_eq!(with_accent, format!("{alone}\u{e9}"), "byte {byte:#x}");
        }
    }

    #[test]
    fn normalise_is_unicode_aware() {
        assert_eq!(normalise("ÉCOLE Straße"), "école straße");
        // NFKC folds the ligature and full-width letters.
        assert_eq!(normalise("ﬁne ＡＢＣ"), "fine abc");
        assert_eq!(normalise("don\u{2019}t"), "don't");
        assert_eq!(normalise("e\u{0301}"), "é");
    }

    #[test]
    fn contractions_split_like_the_treebank() {
        assert_eq!(
            tokens("I don't like it!"),
            ["i", "do", "n't", "like", "it", "!"]
        );
        assert_eq!(
            tokens("It's fine, isn't it?"),
            ["it", "'s", "fine", ",", "is", "n't", "it", "?"]
        );
        assert_eq!(
            tokens("we'll see, they've gone"),
            ["we", "'ll", "see", ",", "they", "'ve", "gone"]
        );
        assert_eq!(tokens("can't"), ["ca", "n't"]);
    }

    #[test]
    fn already_tokenised_sst_text_is_unchanged() {
        let sst = "it 's a charming and often affecting journey . does n't -lrb- quite -rrb- work";
        assert_eq!(tokens(sst).join(" "), sst);
    }

    #[test]
    fn punctuation_runs_are_one_token_and_hyphenated_words_stay_whole() {
        assert_eq!(
            tokens("Wow... Loved it!!"),
            ["wow", "...", "loved", "it", "!!"]
        );
        assert_eq!(
            tokens("a well-made film -- really"),
            ["a", "well-made", "film", "--", "really"]
        );
        assert_eq!(tokens("'quoted'"), ["'quoted", "'"]);
        assert_eq!(tokens("(sort of)"), ["-lrb-", "sort", "of", "-rrb-"]);
    }

    #[test]
    fn non_latin_scripts_and_digits_are_words() {
        assert_eq!(
            tokens("5 stars für café 東京"),
            ["5", "stars", "für", "café", "東京"]
        );
    }

    #[test]
    fn empty_and_whitespace_give_no_tokens() {
        assert!(tokens("").is_empty());
        assert!(tokens(" \t\n").is_empty());
    }
}
