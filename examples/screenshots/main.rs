//! Writes the pictures of the dashboard in `assets/screenshots/` (see `pictures.rs`):
//!
//! ```text
//! cargo run --example screenshots
//! ```
//!
//! `tests/screenshots.rs` fails when a committed picture differs from what this writes.

mod pictures;

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(pictures::DIR);
    std::fs::create_dir_all(&dir)?;
    for (name, svg) in pictures::pictures() {
        let path = dir.join(name);
        std::fs::write(&path, svg)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
