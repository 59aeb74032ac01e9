//! Embeds the browser page (`web/dist/` at the workspace root, or
//! `$BLINDFOLD_WEB_DIST`) when it has been built: writes `web_files.rs` into
//! OUT_DIR with one `(path, bytes)` entry per file. Without the folder the
//! list is empty and the service shows a page saying the page was not built.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BLINDFOLD_WEB_DIST");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let dist = std::env::var_os("BLINDFOLD_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("web/dist"));
    // Watch the folder when it exists, else its parent (so building the page
    // later is noticed when `web/` exists already).
    for p in [dist.clone(), root.join("web")] {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
            break;
        }
    }
    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut out = String::from("/// The embedded page: (path without a leading slash, bytes).\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("web_files.rs");
    std::fs::write(dest, out).expect("cannot write web_files.rs");
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(base, &p, files);
        } else if let Ok(rel) = p.strip_prefix(base) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let abs = p.canonicalize().unwrap_or(p);
            files.push((rel, abs));
        }
    }
}
