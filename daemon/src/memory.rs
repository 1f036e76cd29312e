//! Giving memory back after training.
//!
//! A retrain allocates a few tens of MiB (the TF-IDF matrix, its merged transpose, the
//! optimiser's vectors, one set per cross-fitting chain running at once) and frees it
//! all when it ends, but an allocator keeps freed memory for reuse: left alone, the
//! daemon's resident memory grows to the largest retrain's and stays there. Serving
//! needs a fraction of it, so after each retrain the free memory is handed back.

/// Returns the allocator's free memory to the operating system.
pub fn release_free_memory() {
    // glibc: every arena (one per thread that allocated, up to 8 per core), not only
    // the top of the main heap.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}
