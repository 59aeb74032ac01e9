//! The checks made on the planned jobs before any work: no output may be an
//! input (whatever the spelling of the paths: they are compared canonical,
//! and an existing output also by device and inode), no two inputs may share
//! an output, a file named twice runs once, and `--in-place` does not replace
//! symbolic links or files with other hard links (the original would survive
//! under the other name). A failed check is a usage error (exit 2) and nothing is
//! written.

use crate::inputs::{Job, Placement};
use crate::report::shown;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Check the jobs; returns them with files named twice kept once.
pub fn check(jobs: Vec<Job>, place: &Placement) -> Result<Vec<Job>> {
    let in_place = matches!(place, Placement::InPlace);
    let mut kept: Vec<Job> = Vec::with_capacity(jobs.len());
    // Canonical input -> index in `kept`.
    let mut inputs: HashMap<PathBuf, usize> = HashMap::new();
    for job in jobs {
        let canon = std::fs::canonicalize(&job.input)
            .with_context(|| format!("cannot resolve {}", shown(&job.input)))?;
        if inputs.contains_key(&canon) {
            continue;
        }
        if in_place && is_symlink(&job.input) {
            bail!(
                "{}: is a symbolic link (to {}); --in-place does not replace links: give the file itself",
                shown(&job.input),
                shown(&canon)
            );
        }
        if in_place && let Some(n) = extra_links(&job.input) {
            bail!(
                "{}: has {n} other hard link(s); --in-place would leave the original under \
                 those names: write beside it (without --in-place) or remove the other links",
                shown(&job.input)
            );
        }
        inputs.insert(canon, kept.len());
        kept.push(job);
    }
    if in_place {
        return Ok(kept);
    }
    let mut outputs: HashMap<PathBuf, usize> = HashMap::new();
    for (i, job) in kept.iter().enumerate() {
        let out = resolve(&job.output)
            .with_context(|| format!("cannot resolve {}", shown(&job.output)))?;
        let other_input = inputs
            .get(&out)
            .copied()
            .or_else(|| same_file_as(&job.output, &kept));
        match other_input {
            Some(j) if j == i => bail!(
                "{}: its output {} is the input itself (the output folder is the input's \
                 folder under another name); nothing was written. Use --in-place to replace \
                 inputs, or choose another -o folder",
                shown(&job.input),
                shown(&job.output)
            ),
            Some(j) => bail!(
                "{}: its output {} would overwrite another input, {}; nothing was written",
                shown(&job.input),
                shown(&job.output),
                shown(&kept[j].input)
            ),
            None => {}
        }
        if let Some(&j) = outputs.get(&out) {
            bail!(
                "{} and {} would both be written to {}; nothing was written. Rename one, or \
                 run them with different -o folders",
                shown(&kept[j].input),
                shown(&job.input),
                shown(&job.output)
            );
        }
        outputs.insert(out, i);
    }
    Ok(kept)
}

fn is_symlink(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// How many other names (hard links) the file has, if any.
#[cfg(unix)]
fn extra_links(p: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let n = std::fs::metadata(p).ok()?.nlink();
    (n > 1).then(|| n - 1)
}

#[cfg(not(unix))]
fn extra_links(_: &Path) -> Option<u64> {
    None
}

/// The index of the job whose input is the same file (device and inode) as
/// the existing file at `output`, if any.
#[cfg(unix)]
fn same_file_as(output: &Path, jobs: &[Job]) -> Option<usize> {
    use std::os::unix::fs::MetadataExt;
    let o = std::fs::metadata(output).ok()?;
    jobs.iter().position(|j| {
        std::fs::metadata(&j.input).is_ok_and(|m| m.dev() == o.dev() && m.ino() == o.ino())
    })
}

#[cfg(not(unix))]
fn same_file_as(_: &Path, _: &[Job]) -> Option<usize> {
    None
}

/// The canonical form of a path that may not exist yet: its deepest existing
/// folder canonical (symbolic links resolved), then the rest. The last
/// component is not followed: writing replaces a link there, not its target.
pub fn resolve(p: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(p)?;
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        return std::fs::canonicalize(&abs);
    };
    let mut base = parent.to_path_buf();
    let mut rest: Vec<Component> = Vec::new();
    let parent_comps: Vec<Component> = parent.components().collect();
    let mut n = parent_comps.len();
    loop {
        if let Ok(mut c) = std::fs::canonicalize(&base) {
            for comp in rest.iter().rev() {
                match comp {
                    Component::ParentDir => {
                        c.pop();
                    }
                    Component::Normal(s) => c.push(s),
                    _ => {}
                }
            }
            c.push(name);
            return Ok(c);
        }
        if n <= 1 {
            return Ok(abs);
        }
        n -= 1;
        rest.push(parent_comps[n]);
        base = parent_comps[..n].iter().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Kind;

    fn job(input: &Path, output: &Path) -> Job {
        Job {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            kind: Kind::Photo,
        }
    }

    #[test]
    fn resolve_goes_through_missing_folders_and_dots() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir(root.join("in")).unwrap();
        let p = d.path().join("in/./new/../x/a.jpg");
        assert_eq!(resolve(&p).unwrap(), root.join("in/x/a.jpg"));
    }

    #[cfg(unix)]
    #[test]
    fn an_output_spelled_differently_is_still_the_input() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("in/a.jpg");
        std::fs::create_dir(d.path().join("in")).unwrap();
        std::fs::write(&a, b"x").unwrap();
        std::os::unix::fs::symlink(d.path().join("in"), d.path().join("link")).unwrap();
        for out in ["in/./a.jpg", "link/a.jpg", "in/../in/a.jpg"] {
            let err = check(
                vec![job(&a, &d.path().join(out))],
                &Placement::Beside("".into()),
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("is the input itself"),
                "{out}: {err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_hard_link_to_the_input_is_the_input() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.jpg");
        std::fs::write(&a, b"x").unwrap();
        std::fs::hard_link(&a, d.path().join("b.jpg")).unwrap();
        let err = check(
            vec![job(&a, &d.path().join("b.jpg"))],
            &Placement::Beside("".into()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is the input itself"), "{err}");
    }

    #[test]
    fn collisions_name_both_inputs_and_twice_named_files_run_once() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a/x.jpg"), d.path().join("b/x.jpg"));
        for p in [&a, &b] {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let out = d.path().join("out/x.jpg");
        let place = Placement::Dir(d.path().join("out"));
        let err = check(vec![job(&a, &out), job(&b, &out)], &place).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("a/x.jpg") && msg.contains("b/x.jpg"), "{msg}");
        let twice = d.path().join("a/../a/x.jpg");
        let kept = check(vec![job(&a, &out), job(&twice, &out)], &place).unwrap();
        assert_eq!(kept.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn in_place_refuses_links() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.jpg");
        std::fs::write(&a, b"x").unwrap();
        let l = d.path().join("l.jpg");
        std::os::unix::fs::symlink(&a, &l).unwrap();
        let err = check(vec![job(&l, &l)], &Placement::InPlace).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(
            check(vec![job(&a, &a)], &Placement::InPlace).unwrap().len(),
            1
        );
    }
}
