fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    onebin::cli::main()
}

/// glibc gives each thread that allocates concurrently an arena of its own, up to eight per
/// core, and memory freed in one arena is not reused by the others: a long-running onebin with
/// tokio workers and blocking threads keeps several partly empty arenas. Two are enough for
/// a process whose work is mostly I/O.
fn limit_malloc_arenas() {
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
