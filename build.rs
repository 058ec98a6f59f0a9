//! Embeds every file of `migrations/` (`NNN_name.sql`, applied in the order of `NNN`) in the
//! store, so a new migration is a new file and nothing else: the list is derived, never kept
//! by hand.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    let folder = root.join("migrations");
    println!("cargo:rerun-if-changed=migrations");
    let mut migrations: Vec<(i32, PathBuf)> = std::fs::read_dir(&folder)
        .expect("the migrations/ folder")
        .map(|entry| entry.expect("a readable migrations/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let version = name
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("migrations/{name} must start with its version: NNN_"));
            (version, path)
        })
        .collect();
    migrations.sort();
    for pair in migrations.windows(2) {
        assert!(
            pair[1].0 == pair[0].0 + 1,
            "migration versions must follow each other: {} then {}",
            pair[0].0,
            pair[1].0
        );
    }
    let mut code = String::from("&[\n");
    for (version, path) in &migrations {
        writeln!(code, "    ({version}, include_str!({:?})),", path.display()).unwrap();
    }
    code.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by Cargo"));
    std::fs::write(out.join("migrations.rs"), code).expect("OUT_DIR is writable");
}
