//! The pictures in `assets/screenshots/` are what the dashboard draws now: each is made again
//! in memory, as `cargo run --example screenshots` makes it, and compared with the committed
//! file.

#[path = "../examples/screenshots/pictures.rs"]
mod pictures;

use std::path::Path;

#[test]
fn committed_pictures_match_the_dashboard() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(pictures::DIR);
    let mut stale = Vec::new();
    let pictures = pictures::pictures();
    for entry in std::fs::read_dir(&dir).expect("assets/screenshots") {
        let name = entry.unwrap().file_name();
        if !pictures.iter().any(|(made, _)| name == *made) {
            stale.push(format!(
                "{} is no longer made: delete it",
                name.to_string_lossy()
            ));
        }
    }
    for (name, svg) in pictures {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == svg => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(error) => stale.push(format!("{}: {error}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "the pictures of the dashboard are out of date ({}); run `cargo run --example \
         screenshots` to update them",
        stale.join(", ")
    );
}
