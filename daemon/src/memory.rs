//! Giving memory back after training.
//!
//! A retrain allocates a few tens of MiB (the TF-IDF matrix, its merged transpose, the
//! optimiser's vectors, one set per cross-fitting chain running at once) and frees it
//! all when it ends, but an allocator keeps freed memory for reuse: left alone, the
//! daemon's resident memory grows to the largest retrain's and stays there. Serving
//! needs a fraction of it, so after each retrain the free memory is handed back.
//!
//! Until then the allocator keeps what is freed: left to its defaults, glibc hands
//! every large buffer back to the kernel when it is freed (through mmap/munmap, and
//! by trimming the heap's top), and training frees and reallocates such buffers all
//! the time, so their pages were faulted in again and again. The feedback-to-serving
//! retrain on SST-2 plus 1,000 feedback took 3.00 s that way against 2.57 s with the
//! settings below (medians of 3, bench/learning.py), the same as under mimalloc.

/// The allocator settings for training: buffers up to 32 MiB (glibc's largest mmap
/// threshold) come from the heap and are reused once freed, the heap is never trimmed
/// on its own (see [`release_free_memory`]), and all threads share one arena. Call
/// first thing in `main`.
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        // Setting either fixes it: glibc stops adjusting them as buffers come and go.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        // One arena for all threads. `malloc_trim` releases the free chunks of every
        // arena but shrinks only the main one's top, and with the trim threshold
        // above, the other arenas' tops would keep what training left there: with
        // one arena per thread a daemon that had retrained 20 times sat at 139-145
        // MiB, with one at 47-49 MiB. Training's threads allocate little outside the
        // buffers they reuse, so they do not queue on the arena's lock: the retrain
        // took the same time (2.59 s against 2.31-2.57 s, medians of 3). Serving
        // does queue on it: /predict answered 9.0-10.7k requests/s against
        // 10.5-11.9k with one arena per thread (wrk -t2 -c32, two rounds), a price
        // paid for memory that stays flat; see the README's Memory table.
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Returns the allocator's free memory to the operating system.
pub fn release_free_memory() {
    // glibc: the free chunks of the heap and its top.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}
