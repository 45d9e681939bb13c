//! `rust-version` in Cargo.toml is the true minimum: the newest Rust that any locked crate
//! declares it needs, or that hivekeys' own code needs, whichever is later. A dependency update
//! that raises the floor, or a bump in Cargo.toml that nothing needs, fails here.
//!
//! The own-code floor cannot be read from metadata: it was found by building with that
//! toolchain (`rustup toolchain install 1.89 --profile minimal`, then
//! `cargo +1.89 check --all-targets --locked`). Between such checks, clippy's
//! `incompatible_msrv` lint (in `cargo clippy --all-targets -- -D warnings`) refuses a standard
//! library API newer than `rust-version`.

use std::process::Command;

use serde_json::Value;

/// What hivekeys' own code needs: edition 2024 (1.85) and `if let` chains (1.88). At the
/// dependencies' floor, 1.89, `cargo +1.89 check --all-targets --locked` passes (2026-11-30).
const OWN_CODE_NEEDS: (u64, u64) = (1, 88);

fn version(text: &str) -> (u64, u64) {
    let mut parts = text.split('.').map(|part| part.parse::<u64>().unwrap());
    let major = parts.next().unwrap();
    let minor = parts.next().unwrap_or(0);
    (major, minor)
}

#[test]
fn rust_version_is_the_newest_any_crate_declares() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cannot run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();

    let ours = packages
        .iter()
        .find(|package| package["name"] == "hivekeys")
        .expect("hivekeys in its own metadata");
    let declared = ours["rust_version"]
        .as_str()
        .expect("Cargo.toml states a rust-version");

    // Every locked crate, whatever its platform or kind: `cargo test` on any of them needs it.
    let (needed, by) = packages
        .iter()
        .filter(|package| package["name"] != "hivekeys")
        .filter_map(|package| {
            let rust_version = package["rust_version"].as_str()?;
            Some((
                version(rust_version),
                format!(
                    "{} {}",
                    package["name"].as_str().unwrap_or_default(),
                    package["version"].as_str().unwrap_or_default()
                ),
            ))
        })
        .chain([(OWN_CODE_NEEDS, "hivekeys' own code".to_owned())])
        .max_by_key(|(needed, _)| *needed)
        .unwrap();
    assert_eq!(
        version(declared),
        needed,
        "Cargo.toml says rust-version = \"{declared}\", but the newest Rust needed is {}.{} \
         (by {by}): set rust-version to that",
        needed.0,
        needed.1
    );
}
