//! Files at rest: the data directory is the owner's alone, checked at every open.

#[cfg(unix)]
#[test]
fn wider_modes_are_tightened_when_the_store_opens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(sbk_counter::store::Store::open_dir(&data).unwrap());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("sbk.sqlite3")), 0o600);
    // Someone copies the folder with a permissive umask, or a backup tool restores it so.
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(&data, 0o755);
    set(&data.join("sbk.sqlite3"), 0o644);
    std::fs::write(data.join("sbk.log"), "x").unwrap();
    set(&data.join("sbk.log"), 0o666);
    drop(sbk_counter::store::Store::open_dir(&data).unwrap());
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("sbk.sqlite3")), 0o600);
    assert_eq!(mode(&data.join("sbk.log")), 0o600);
}
