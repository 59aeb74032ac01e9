//! One photo: read, anonymise (fail closed), write atomically.

use crate::inputs::Job;
use crate::report::shown;
use crate::signals;
use anyhow::{Context, Result};
use blindfold::codec::{Format, sniff};
use blindfold::detect::FaceDetector;
use blindfold::pipeline::{self, Options};
use blindfold::report::PhotoReport;
use blindfold_models::atomic::{DEFAULT_MODE, write_atomic_mode};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// An output made and checked, to be written atomically (a temp file, then
/// a rename) by [`Pending::write`].
pub struct Pending {
    path: PathBuf,
    bytes: Vec<u8>,
    mode: u32,
}

impl Pending {
    /// Write the output: synced to disk, then renamed into place, so that
    /// a signal waits for it (see [`signals::writing`]).
    pub fn write(self) -> Result<()> {
        signals::writing(|| write_atomic_mode(&self.path, &self.bytes, self.mode))?;
        Ok(())
    }
}

/// Process one photo. On error nothing is to be written for it; on success
/// the output (none for a dry run) is returned to be written, so that a
/// worker can go on to the next photo while it is synced to disk.
pub fn run(
    job: &Job,
    det: &mut dyn FaceDetector,
    opts: &Options,
    dry_run: bool,
) -> Result<(PhotoReport, Option<Pending>)> {
    let bytes =
        std::fs::read(&job.input).with_context(|| format!("cannot read {}", shown(&job.input)))?;
    check_extension(&bytes, &job.input, &job.output)?;
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64() * 1000.0;
    let opts = Options {
        seed: fresh_seed(),
        ..*opts
    };
    let out = pipeline::process(&bytes, det, &opts, dry_run, &clock)?;
    let report = PhotoReport::from(&out);
    let pending = (!dry_run).then(|| Pending {
        path: job.output.clone(),
        bytes: out.bytes,
        mode: input_mode(&job.input),
    });
    Ok((report, pending))
}

/// The permission bits of the input, for its output: a private photo stays
/// private.
pub fn input_mode(input: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(input) {
            return m.permissions().mode() & 0o777;
        }
    }
    let _ = input;
    DEFAULT_MODE
}

/// The formats an extension names.
fn format_of_extension(p: &Path) -> Option<Format> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" | "jfif" => Format::Jpeg,
        "png" => Format::Png,
        "webp" => Format::Webp,
        "tif" | "tiff" => Format::Tiff,
        "bmp" => Format::Bmp,
        "gif" => Format::Gif,
        "heic" | "heif" | "hif" => Format::Heif,
        "avif" => Format::Avif,
        _ => return None,
    })
}

/// The output is written in the input's real format (HEIC as JPEG), so its
/// name must say that format: a PNG named `.jpg` fails (nothing written)
/// rather than come out as a PNG named `.jpg`. HEIC and AVIF inputs must be
/// named as what they are, since the output's name is chosen from the
/// input's.
fn check_extension(bytes: &[u8], input: &Path, output: &Path) -> Result<()> {
    let Some(real) = sniff(bytes) else {
        return Ok(()); // not a known image: the decoder says so
    };
    let name = |f: Format| format!("{f:?}").to_uppercase();
    let named = format_of_extension(input);
    let heif = |f: Option<Format>| matches!(f, Some(Format::Heif | Format::Avif));
    if (heif(Some(real)) || heif(named)) && named != Some(real) {
        anyhow::bail!(
            "the file is a {} but its name says {}; rename it (nothing was written)",
            name(real),
            named.map_or("neither".into(), name),
        );
    }
    let real_out = real.written_as();
    if real_out != real && format_of_extension(output) != Some(real_out) {
        anyhow::bail!(
            "a {} is written as {}, so it cannot replace its input (--in-place); \
             write it elsewhere with -o DIR or beside it (nothing was written)",
            name(real),
            name(real_out),
        );
    }
    let real = real_out;
    match format_of_extension(output) {
        Some(f) if f == real => Ok(()),
        Some(f) => anyhow::bail!(
            "the file is a {} but its name says {}; rename it to .{} (nothing was written)",
            name(real),
            name(f),
            name(real).to_lowercase().replace("jpeg", "jpg"),
        ),
        None => anyhow::bail!(
            "the file is a {} but its name does not end in a {} extension; rename it (nothing was written)",
            name(real),
            name(real)
        ),
    }
}

/// An unpredictable seed for the noise fill, so noise cannot be replayed.
fn fresh_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
