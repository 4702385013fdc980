//! What the process does to itself before it handles a key or a password: no core file
//! (a crash must not leave the data key, a password or a resident's data on the disk), and
//! on Linux not dumpable (no core either way, and another process of the same user cannot
//! attach to it or read its memory through /proc).

/// Set the limits; called first thing in `main`. Failures are ignored: the program runs
/// either way, and where the OS refuses there is nothing better to do.
pub fn harden() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is shared.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
