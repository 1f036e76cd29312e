//! N-gram features and TF-IDF weights: the pipeline's last stages
//! (tokens -> uni/bigram ids -> sublinear tf x smoothed idf -> L2-normalised row).
//!
//! Tokens are interned to ids and bigrams keyed by a pair of ids, so turning a text into
//! a feature vector costs one string hash per token and one integer hash per bigram.

use crate::sparse::CsrMatrix;
use crate::text::{normalise_into, tokenise};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// How texts become feature vectors. Defaults were chosen by cross-validation on the
/// SST-2 training split (see README, "How the defaults were chosen").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorizerConfig {
    /// An n-gram must occur in at least this many training texts to become a feature.
    pub min_df: u32,
    /// Keep at most this many features, the most frequent first.
    pub max_features: usize,
    /// Use `1 + ln(tf)` instead of raw counts.
    pub sublinear_tf: bool,
    /// Add word bigrams to unigrams.
    pub bigrams: bool,
    /// Mark words between a negator (`not`, `n't`, `never`, ...) and the next
    /// punctuation as negated, so `not good` yields `NOT_good`, a feature of its own.
    pub mark_negation: bool,
    /// Let punctuation tokens other than `!` and `?` be features. Off by default:
    /// commas and full stops are in nearly every text and, measured by
    /// cross-validation on SST-2, only dilute the rows.
    #[serde(default)]
    pub punctuation_features: bool,
}

impl Default for VectorizerConfig {
    fn default() -> Self {
        VectorizerConfig {
            min_df: 1,
            max_features: 1_000_000,
            sublinear_tf: true,
            bigrams: true,
            mark_negation: true,
            punctuation_features: false,
        }
    }
}

/// Words that open a negation scope when [`VectorizerConfig::mark_negation`] is on.
const NEGATORS: [&str; 11] = [
    "not", "n't", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without",
];

/// Prefix of a negated token in feature names.
pub const NEGATED_PREFIX: &str = "NOT_";

const MISSING: u32 = u32::MAX;

/// One feature: a token code, or a pair of them. A token code is `token_id << 1 | negated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ngram {
    pub first: u32,
    pub second: Option<u32>,
}

/// The fitted vocabulary in its stored form; lookups are rebuilt from it on load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorizerState {
    pub config: VectorizerConfig,
    pub tokens: Vec<String>,
    pub features: Vec<Ngram>,
    pub idf: Vec<f32>,
}

/// Per-thread buffers for [`TfidfVectorizer::transform_into`].
#[derive(Debug, Default)]
pub struct Scratch {
    normalised: String,
    codes: Vec<u32>,
    feature_ids: Vec<u32>,
    row: Vec<(u32, f32)>,
}

/// A fitted TF-IDF vectoriser.
#[derive(Debug, Clone)]
pub struct TfidfVectorizer {
    state: VectorizerState,
    token_ids: FxHashMap<Box<str>, u32>,
    /// Feature id of each token code's unigram, `MISSING` when it has none.
    unigram_feature: Vec<u32>,
    bigram_feature: FxHashMap<u64, u32>,
}

/// Why a stored vocabulary cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VocabularyError {
    #[error("the vocabulary has {features} features but {idf} idf weights")]
    IdfLength { features: usize, idf: usize },
    #[error("feature {feature} names token {code}, but the vocabulary has {tokens} tokens")]
    TokenOutOfRange {
        feature: usize,
        code: u32,
        tokens: usize,
    },
    #[error("token {0:?} appears twice in the vocabulary")]
    DuplicateToken(String),
    #[error("n-gram {0} appears twice in the vocabulary")]
    DuplicateFeature(usize),
}

fn bigram_key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

fn is_punctuation(token: &str) -> bool {
    !token.chars().any(char::is_alphanumeric)
}

/// Punctuation that carries sentiment and stays a feature when the rest is dropped.
fn is_expressive(token: &str) -> bool {
    token.starts_with('!') || token.starts_with('?')
}

/// Tokenises `normalised`, calling `code_of(token)` for each token and pushing
/// `code << 1 | negated` (or `MISSING`) into `codes`.
fn encode_tokens<'a>(
    normalised: &'a str,
    config: &VectorizerConfig,
    codes: &mut Vec<u32>,
    mut code_of: impl FnMut(&'a str) -> u32,
) {
    codes.clear();
    let mark_negation = config.mark_negation;
    let mut negated = false;
    tokenise(normalised, |token| {
        if is_punctuation(token) {
            negated = false;
            if !config.punctuation_features && !is_expressive(token) {
                // Dropped, but still a break: no bigram spans it.
                codes.push(MISSING);
                return;
            }
        }
        let id = code_of(token);
        codes.push(if id == MISSING {
            MISSING
        } else {
            (id << 1) | negated as u32
        });
        if mark_negation && NEGATORS.contains(&token) {
            negated = true;
        }
    });
}

/// Pushes the feature ids of a text's token codes (with repeats) into `out`.
fn collect_features(
    codes: &[u32],
    bigrams: bool,
    unigram: impl Fn(u32) -> u32,
    bigram: impl Fn(u32, u32) -> u32,
    out: &mut Vec<u32>,
) {
    out.clear();
    for (i, &code) in codes.iter().enumerate() {
        if code == MISSING {
            continue;
        }
        let f = unigram(code);
        if f != MISSING {
            out.push(f);
        }
        if bigrams {
            if let Some(&next) = codes.get(i + 1) {
                if next != MISSING {
                    let f = bigram(code, next);
                    if f != MISSING {
                        out.push(f);
                    }
                }
            }
        }
    }
}

/// Turns feature ids with repeats into an L2-normalised TF-IDF row sorted by feature.
fn weigh(feature_ids: &mut [u32], idf: &[f32], sublinear_tf: bool, row: &mut Vec<(u32, f32)>) {
    row.clear();
    feature_ids.sort_unstable();
    let mut i = 0;
    while i < feature_ids.len() {
        let f = feature_ids[i];
        let mut j = i + 1;
        while j < feature_ids.len() && feature_ids[j] == f {
            j += 1;
        }
        let tf = (j - i) as f32;
        let tf = if sublinear_tf { 1.0 + tf.ln() } else { tf };
        row.push((f, tf * idf[f as usize]));
        i = j;
    }
    let norm = row.iter().map(|&(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for entry in row.iter_mut() {
            entry.1 /= norm;
        }
    }
}

/// A token code of a shard's numbering in the merged numbering (`MISSING` stays).
#[inline]
fn global_code(to_global: &[u32], code: u32) -> u32 {
    if code == MISSING {
        MISSING
    } else {
        (to_global[(code >> 1) as usize] << 1) | (code & 1)
    }
}

/// One contiguous slice of the training texts, tokenised and counted on one thread,
/// with token ids of its own.
struct ShardCounts<'a> {
    /// Token names by shard-local id.
    names: Vec<&'a str>,
    /// Every text's token codes, back to back (shard-local ids).
    codes: Vec<u32>,
    /// Where each text's codes start in `codes`, and a final end.
    offsets: Vec<usize>,
    /// (document frequency, last text counted) by local token code.
    unigram_df: Vec<(u32, u32)>,
    /// (document frequency, last text counted) by local bigram key.
    bigram_df: FxHashMap<u64, (u32, u32)>,
}

impl<'a> ShardCounts<'a> {
    fn count(docs: &'a [String], config: &VectorizerConfig) -> ShardCounts<'a> {
        let mut interned: FxHashMap<&'a str, u32> = FxHashMap::default();
        let mut names: Vec<&'a str> = Vec::new();
        let mut codes: Vec<u32> = Vec::new();
        let mut offsets = Vec::with_capacity(docs.len() + 1);
        offsets.push(0usize);
        // `last_doc` entries stop an n-gram repeated within one text counting twice.
        let mut unigram_df: Vec<(u32, u32)> = Vec::new();
        let mut bigram_df: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
        let mut doc_codes = Vec::new();
        for (d, text) in docs.iter().enumerate() {
            let d = d as u32;
            encode_tokens(text, config, &mut doc_codes, |token| {
                *interned.entry(token).or_insert_with(|| {
                    names.push(token);
                    (names.len() - 1) as u32
                })
            });
            unigram_df.resize(names.len() * 2, (0, u32::MAX));
            for (i, &code) in doc_codes.iter().enumerate() {
                if code == MISSING {
                    continue;
                }
                let entry = &mut unigram_df[code as usize];
                if entry.1 != d {
                    *entry = (entry.0 + 1, d);
                }
                if config.bigrams && i + 1 < doc_codes.len() && doc_codes[i + 1] != MISSING {
                    let entry = bigram_df
                        .entry(bigram_key(code, doc_codes[i + 1]))
                        .or_insert((0, u32::MAX));
                    if entry.1 != d {
                        *entry = (entry.0 + 1, d);
                    }
                }
            }
            codes.extend_from_slice(&doc_codes);
            offsets.push(codes.len());
        }
        ShardCounts {
            names,
            codes,
            offsets,
            unigram_df,
            bigram_df,
        }
    }
}

/// Smoothed idf, as scikit-learn computes it: `ln((1 + n) / (1 + df)) + 1`.
fn smoothed_idf(n_docs: usize, df: u32) -> f32 {
    (((1 + n_docs) as f64 / (1 + df) as f64).ln() + 1.0) as f32
}

/// Every text's document frequencies and token codes, in one numbering of tokens for
/// the whole training set (phase 2 of [`TfidfVectorizer::fit_transform`]).
struct Counts<'a> {
    /// Token names by merged id (borrowed from the normalised texts).
    token_names: Vec<&'a str>,
    /// Document frequency by token code (`id << 1 | negated`).
    unigram_df: Vec<u32>,
    /// Document frequency by bigram key.
    bigram_df: FxHashMap<u64, u32>,
    /// Every text's token codes, back to back, and where each text starts (with a
    /// final end).
    codes: Vec<u32>,
    offsets: Vec<usize>,
}

impl<'a> Counts<'a> {
    /// Tokenises, interns and counts document frequencies shard by shard in parallel,
    /// then merges the shards' vocabularies and counts (a text lies in one shard, so
    /// summing per-shard document frequencies counts each text once). The merged
    /// token numbering depends on the shard layout, but nothing after selection does:
    /// features are ordered by (df, n-gram), a total order.
    fn gather(normalised: &'a [String], config: &VectorizerConfig) -> Counts<'a> {
        let shard_len = normalised
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        let shards: Vec<ShardCounts> = normalised
            .par_chunks(shard_len)
            .map(|docs| ShardCounts::count(docs, config))
            .collect();
        let mut interned: FxHashMap<&str, u32> = FxHashMap::default();
        let mut token_names: Vec<&str> = Vec::new();
        let to_global: Vec<Vec<u32>> = shards
            .iter()
            .map(|shard| {
                shard
                    .names
                    .iter()
                    .map(|&name| {
                        *interned.entry(name).or_insert_with(|| {
                            token_names.push(name);
                            (token_names.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        let mut unigram_df = vec![0u32; token_names.len() * 2];
        let mut bigram_df: FxHashMap<u64, u32> = FxHashMap::default();
        bigram_df.reserve(shards.iter().map(|s| s.bigram_df.len()).max().unwrap_or(0));
        for (shard, map) in shards.iter().zip(&to_global) {
            for (code, &(df, _)) in shard.unigram_df.iter().enumerate() {
                if df > 0 {
                    unigram_df[global_code(map, code as u32) as usize] += df;
                }
            }
            for (&key, &(df, _)) in &shard.bigram_df {
                let global = bigram_key(
                    global_code(map, (key >> 32) as u32),
                    global_code(map, key as u32),
                );
                *bigram_df.entry(global).or_insert(0) += df;
            }
        }
        // Every text's token codes in the merged numbering, for building the matrix.
        let shard_codes: Vec<Vec<u32>> = shards
            .par_iter()
            .zip(&to_global)
            .map(|(shard, map)| shard.codes.iter().map(|&c| global_code(map, c)).collect())
            .collect();
        let mut codes: Vec<u32> = Vec::with_capacity(shard_codes.iter().map(Vec::len).sum());
        let mut offsets = Vec::with_capacity(normalised.len() + 1);
        offsets.push(0usize);
        for (shard, shard_codes) in shards.iter().zip(&shard_codes) {
            let base = codes.len();
            offsets.extend(shard.offsets[1..].iter().map(|o| base + o));
            codes.extend_from_slice(shard_codes);
        }
        Counts {
            token_names,
            unigram_df,
            bigram_df,
            codes,
            offsets,
        }
    }

    fn n_docs(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Text `d`'s token codes.
    fn doc(&self, d: usize) -> &[u32] {
        &self.codes[self.offsets[d]..self.offsets[d + 1]]
    }

    /// The features to keep with their document frequencies: frequent enough, the
    /// most frequent first, at most `max_features`, in a total order so the result
    /// does not depend on hash-map order.
    fn select(&self, config: &VectorizerConfig) -> Vec<(u32, Ngram)> {
        let min_df = config.min_df.max(1);
        let mut candidates: Vec<(u32, Ngram)> = self
            .unigram_df
            .iter()
            .enumerate()
            .filter(|(_, &df)| df >= min_df)
            .map(|(code, &df)| {
                (
                    df,
                    Ngram {
                        first: code as u32,
                        second: None,
                    },
                )
            })
            .chain(
                self.bigram_df
                    .iter()
                    .filter(|(_, &df)| df >= min_df)
                    .map(|(&key, &df)| {
                        let ngram = Ngram {
                            first: (key >> 32) as u32,
                            second: Some(key as u32),
                        };
                        (df, ngram)
                    }),
            )
            .collect();
        // Ties are broken by token codes, which number tokens in order of first
        // occurrence in the training texts (the shards are merged in order, so this
        // does not depend on the number of threads): a total order that is cheap to
        // compare, where comparing n-gram names cost ~40 ms on SST-2.
        candidates.sort_unstable_by_key(|&(df, ngram)| {
            (
                std::cmp::Reverse(df),
                ngram.first,
                ngram.second.map_or(0, |c| c as u64 + 1),
            )
        });
        candidates.truncate(config.max_features);
        candidates
    }
}

/// The kept features in the vocabulary's own token numbering, with their idf, and
/// the lookups from the merged numbering to feature ids (phase 4 of
/// [`TfidfVectorizer::fit_transform`]).
struct Selected {
    tokens: Vec<String>,
    features: Vec<Ngram>,
    idf: Vec<f32>,
    /// Feature id by merged unigram code (`MISSING` when not kept).
    by_unigram: Vec<u32>,
    /// Feature id by merged bigram key.
    by_bigram: FxHashMap<u64, u32>,
}

impl Selected {
    /// Renumbers the tokens the kept features use, in order of first use.
    fn new(candidates: &[(u32, Ngram)], counts: &Counts<'_>) -> Selected {
        let mut new_token_id = vec![MISSING; counts.token_names.len()];
        let mut tokens: Vec<String> = Vec::new();
        let mut renumber = |code: u32| {
            let old = (code >> 1) as usize;
            if new_token_id[old] == MISSING {
                new_token_id[old] = tokens.len() as u32;
                tokens.push(counts.token_names[old].to_string());
            }
            (new_token_id[old] << 1) | (code & 1)
        };
        let mut features = Vec::with_capacity(candidates.len());
        let mut idf = Vec::with_capacity(candidates.len());
        let mut by_unigram = vec![MISSING; counts.token_names.len() * 2];
        let mut by_bigram: FxHashMap<u64, u32> = FxHashMap::default();
        for (feature_id, (df, ngram)) in candidates.iter().enumerate() {
            match ngram.second {
                None => by_unigram[ngram.first as usize] = feature_id as u32,
                Some(second) => {
                    by_bigram.insert(bigram_key(ngram.first, second), feature_id as u32);
                }
            }
            features.push(Ngram {
                first: renumber(ngram.first),
                second: ngram.second.map(&mut renumber),
            });
            idf.push(smoothed_idf(counts.n_docs(), *df));
        }
        Selected {
            tokens,
            features,
            idf,
            by_unigram,
            by_bigram,
        }
    }

    /// The training matrix, straight from the codes (no second tokenising pass).
    fn matrix(&self, counts: &Counts<'_>, config: &VectorizerConfig) -> CsrMatrix {
        CsrMatrix::from_rows_par(counts.n_docs(), self.features.len(), |d, row, ids| {
            collect_features(
                counts.doc(d),
                config.bigrams,
                |c| self.by_unigram[c as usize],
                |a, b| {
                    self.by_bigram
                        .get(&bigram_key(a, b))
                        .copied()
                        .unwrap_or(MISSING)
                },
                ids,
            );
            weigh(ids, &self.idf, config.sublinear_tf, row);
        })
    }
}

impl TfidfVectorizer {
    /// Fits the vocabulary on `texts` and returns it with the texts' TF-IDF matrix,
    /// in five phases: normalise every text; count document frequencies (in parallel
    /// shards, merged); select the features; renumber their tokens; build the matrix
    /// from the codes counted in phase 2.
    pub fn fit_transform<S: AsRef<str> + Sync>(
        texts: &[S],
        config: &VectorizerConfig,
    ) -> (TfidfVectorizer, CsrMatrix) {
        let normalised: Vec<String> = texts
            .par_iter()
            .map(|t| {
                let mut s = String::new();
                normalise_into(t.as_ref(), &mut s);
                s
            })
            .collect();
        let counts = Counts::gather(&normalised, config);
        let candidates = counts.select(config);
        let selected = Selected::new(&candidates, &counts);
        let matrix = selected.matrix(&counts, config);
        let state = VectorizerState {
            config: config.clone(),
            tokens: selected.tokens,
            features: selected.features,
            idf: selected.idf,
        };
        let vectorizer =
            TfidfVectorizer::from_state(state).expect("a freshly fitted vocabulary is consistent");
        (vectorizer, matrix)
    }

    /// Rebuilds the lookups of a stored vocabulary, checking it is self-consistent.
    pub fn from_state(state: VectorizerState) -> Result<TfidfVectorizer, VocabularyError> {
        if state.idf.len() != state.features.len() {
            return Err(VocabularyError::IdfLength {
                features: state.features.len(),
                idf: state.idf.len(),
            });
        }
        let mut token_ids = FxHashMap::default();
        token_ids.reserve(state.tokens.len());
        for (id, token) in state.tokens.iter().enumerate() {
            if token_ids.insert(token.as_str().into(), id as u32).is_some() {
                return Err(VocabularyError::DuplicateToken(token.clone()));
            }
        }
        let code_limit = state.tokens.len() as u64 * 2;
        let mut unigram_feature = vec![MISSING; state.tokens.len() * 2];
        let mut bigram_feature = FxHashMap::default();
        bigram_feature.reserve(state.features.len());
        for (feature, ngram) in state.features.iter().enumerate() {
            for code in std::iter::once(ngram.first).chain(ngram.second) {
                if code as u64 >= code_limit {
                    return Err(VocabularyError::TokenOutOfRange {
                        feature,
                        code,
                        tokens: state.tokens.len(),
                    });
                }
            }
            let slot = match ngram.second {
                None => {
                    let slot = &mut unigram_feature[ngram.first as usize];
                    std::mem::replace(slot, feature as u32) != MISSING
                }
                Some(second) => bigram_feature
                    .insert(bigram_key(ngram.first, second), feature as u32)
                    .is_some(),
            };
            if slot {
                return Err(VocabularyError::DuplicateFeature(feature));
            }
        }
        Ok(TfidfVectorizer {
            state,
            token_ids,
            unigram_feature,
            bigram_feature,
        })
    }

    pub fn state(&self) -> &VectorizerState {
        &self.state
    }

    pub fn config(&self) -> &VectorizerConfig {
        &self.state.config
    }

    pub fn n_features(&self) -> usize {
        self.state.features.len()
    }

    /// The TF-IDF row of `text`: (feature id, weight) sorted by feature id, L2-normalised.
    /// N-grams not in the vocabulary are ignored. The slice lives in `scratch`.
    pub fn transform_into<'s>(&self, text: &str, scratch: &'s mut Scratch) -> &'s [(u32, f32)] {
        let Scratch {
            normalised,
            codes,
            feature_ids,
            row,
        } = scratch;
        normalise_into(text, normalised);
        encode_tokens(normalised, &self.state.config, codes, |token| {
            self.token_ids.get(token).copied().unwrap_or(MISSING)
        });
        collect_features(
            codes,
            self.state.config.bigrams,
            |c| self.unigram_feature[c as usize],
            |a, b| {
                self.bigram_feature
                    .get(&bigram_key(a, b))
                    .copied()
                    .unwrap_or(MISSING)
            },
            feature_ids,
        );
        weigh(
            feature_ids,
            &self.state.idf,
            self.state.config.sublinear_tf,
            row,
        );
        row
    }

    /// TF-IDF matrix of many texts, in parallel.
    pub fn transform<S: AsRef<str> + Sync>(&self, texts: &[S]) -> CsrMatrix {
        let rows: Vec<Vec<(u32, f32)>> = texts
            .par_iter()
            .map_init(Scratch::default, |scratch, t| {
                self.transform_into(t.as_ref(), scratch).to_vec()
            })
            .collect();
        let mut matrix = CsrMatrix::with_cols(self.n_features());
        for row in &rows {
            matrix.push_row(row);
        }
        matrix
    }

    /// The human-readable name of a feature: `good`, `not good`, `NOT_good`.
    pub fn feature_name(&self, feature: u32) -> String {
        let ngram = self.state.features[feature as usize];
        let mut name = self.token_name(ngram.first);
        if let Some(second) = ngram.second {
            name.push(' ');
            name.push_str(&self.token_name(second));
        }
        name
    }

    fn token_name(&self, code: u32) -> String {
        let token = &self.state.tokens[(code >> 1) as usize];
        if code & 1 == 1 {
            format!("{NEGATED_PREFIX}{token}")
        } else {
            token.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(v: &TfidfVectorizer, row: &[(u32, f32)]) -> Vec<String> {
        let mut names: Vec<String> = row.iter().map(|&(f, _)| v.feature_name(f)).collect();
        names.sort();
        names
    }

    /// Fitting is sharded over rayon's threads; the vocabulary, its order and the
    /// matrix must not depend on how many there are.
    #[test]
    fn fitting_does_not_depend_on_the_number_of_threads() {
        let texts: Vec<String> = (0..5000)
            .map(|i| {
                format!(
                    "word{} is not word{} , but word{} word{} !",
                    i % 97,
                    i % 13,
                    (i * 7) % 211,
                    i % 5
                )
            })
            .collect();
        let config = VectorizerConfig {
            max_features: 300,
            min_df: 2,
            ..VectorizerConfig::default()
        };
        let fit_with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| TfidfVectorizer::fit_transform(&texts, &config))
        };
        let (one, one_matrix) = fit_with(1);
        assert_eq!(one.n_features(), 300, "the cap applies");
        for threads in [2, 3, 8] {
            let (many, many_matrix) = fit_with(threads);
            assert_eq!(one.state(), many.state(), "{threads} threads");
            assert_eq!(one_matrix, many_matrix, "{threads} threads");
        }
    }

    #[test]
    fn unigrams_and_bigrams_with_unit_norm() {
        let texts = ["good movie", "bad movie", "good good fun"];
        let (v, m) = TfidfVectorizer::fit_transform(&texts, &VectorizerConfig::default());
        // good, movie, bad, fun + good movie, bad movie, good good, good fun
        assert_eq!(v.n_features(), 8);
        assert_eq!(m.n_rows(), 3);
        for r in 0..3 {
            let (_, vals) = m.row(r);
            let norm: f32 = vals.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
        }
        let mut scratch = Scratch::default();
        let row = v.transform_into("Good movie", &mut scratch).to_vec();
        assert_eq!(names_of(&v, &row), ["good", "good movie", "movie"]);
        assert_eq!(
            row,
            m.row(0)
                .0
                .iter()
                .copied()
                .zip(m.row(0).1.iter().copied())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn unseen_ngrams_are_ignored() {
        let (v, _) = TfidfVectorizer::fit_transform(&["good movie"], &VectorizerConfig::default());
        let mut scratch = Scratch::default();
        let row = v.transform_into("a wholly unseen sentence", &mut scratch);
        assert!(row.is_empty());
        let row = v.transform_into("unseen good", &mut scratch).to_vec();
        assert_eq!(names_of(&v, &row), ["good"]);
        assert!((row[0].1 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn sublinear_tf_and_smoothed_idf_match_the_formulas() {
        // "a" in both docs, "b" only in the first, twice.
        let config = VectorizerConfig {
            bigrams: false,
            ..VectorizerConfig::default()
        };
        let (v, m) = TfidfVectorizer::fit_transform(&["a b b", "a"], &config);
        let idf_a = ((3.0f64 / 3.0).ln() + 1.0) as f32;
        let idf_b = ((3.0f64 / 2.0).ln() + 1.0) as f32;
        let wa = idf_a;
        let wb = (1.0 + 2.0f32.ln()) * idf_b;
        let norm = (wa * wa + wb * wb).sqrt();
        let row: Vec<(String, f32)> = m
            .row(0)
            .0
            .iter()
            .zip(m.row(0).1)
            .map(|(&f, &x)| (v.feature_name(f), x))
            .collect();
        let get = |n: &str| row.iter().find(|(name, _)| name == n).unwrap().1;
        assert!((get("a") - wa / norm).abs() < 1e-6);
        assert!((get("b") - wb / norm).abs() < 1e-6);
    }

    #[test]
    fn min_df_and_max_features_prune_the_rarest() {
        let texts = ["x y", "x z", "x y"];
        let config = VectorizerConfig {
            min_df: 2,
            ..VectorizerConfig::default()
        };
        let (v, _) = TfidfVectorizer::fit_transform(&texts, &config);
        let names: Vec<String> = (0..v.n_features() as u32)
            .map(|f| v.feature_name(f))
            .collect();
        assert_eq!(names, ["x", "x y", "y"]);
        let config = VectorizerConfig {
            max_features: 1,
            ..VectorizerConfig::default()
        };
        let (v, _) = TfidfVectorizer::fit_transform(&texts, &config);
        assert_eq!(v.n_features(), 1);
        assert_eq!(v.feature_name(0), "x");
    }

    #[test]
    fn negation_marking_makes_negated_words_features_of_their_own() {
        let config = VectorizerConfig {
            mark_negation: true,
            ..VectorizerConfig::default()
        };
        let (v, _) = TfidfVectorizer::fit_transform(&["not good at all . good"], &config);
        let names: Vec<String> = (0..v.n_features() as u32)
            .map(|f| v.feature_name(f))
            .collect();
        assert!(names.contains(&"NOT_good".to_string()), "{names:?}");
        assert!(names.contains(&"good".to_string()));
        assert!(names.contains(&"not NOT_good".to_string()));
        assert!(!names.contains(&"NOT_.".to_string()));
    }

    #[test]
    fn contractions_in_raw_text_meet_tokenised_training_text() {
        let (v, _) =
            TfidfVectorizer::fit_transform(&["does n't work"], &VectorizerConfig::default());
        let mut scratch = Scratch::default();
        let row = v.transform_into("Doesn't work", &mut scratch).to_vec();
        assert_eq!(names_of(&v, &row).len(), 5);
    }

    #[test]
    fn state_round_trip_and_corrupt_states_are_refused() {
        let (v, _) =
            TfidfVectorizer::fit_transform(&["good movie", "bad"], &VectorizerConfig::default());
        let again = TfidfVectorizer::from_state(v.state().clone()).unwrap();
        assert_eq!(again.state(), v.state());

        let mut bad = v.state().clone();
        bad.idf.pop();
        assert!(matches!(
            TfidfVectorizer::from_state(bad),
            Err(VocabularyError::IdfLength { .. })
        ));
        let mut bad = v.state().clone();
        bad.features[0].first = 999;
        assert!(matches!(
            TfidfVectorizer::from_state(bad),
            Err(VocabularyError::TokenOutOfRange { .. })
        ));
        let mut bad = v.state().clone();
        bad.tokens[1] = bad.tokens[0].clone();
        assert!(matches!(
            TfidfVectorizer::from_state(bad),
            Err(VocabularyError::DuplicateToken(_))
        ));
        let mut bad = v.state().clone();
        bad.features[1] = bad.features[0];
        assert!(matches!(
            TfidfVectorizer::from_state(bad),
            Err(VocabularyError::DuplicateFeature(_))
        ));
    }
}
