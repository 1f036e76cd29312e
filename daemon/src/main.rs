//! `sentimentd`: the self-learning sentiment analysis daemon and its one-shot commands.
//! Everything is in the library (`lib.rs`); this is its command line.

use std::process::ExitCode;

// The system allocator (glibc), not mimalloc, which this daemon used before: with the
// same code, `train` on SST-2 peaked at 164-189 MiB resident under mimalloc against
// 72-76 MiB under glibc, for the same train_seconds (0.59 s cold, medians of 5), and
// a daemon that had retrained 20 times sat at 151-241 MiB against 54-64 MiB (glibc,
// with `memory::release_free_memory` after each retrain). See bench/memory.py.

fn main() -> ExitCode {
    sentimentd::cli_main()
}
