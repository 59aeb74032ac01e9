//! `blindfold verify`: audit anonymised photos with the core's
//! [`blindfold::audit::audit`] and videos with [`blindfold_video::audit_video`],
//! the detector at its most thorough.

use crate::cli::VerifyArgs;
use crate::engine;
use crate::inputs::{self, Kind, Placement};
use anyhow::{Context, Result};
use blindfold::audit::{Audit, AuditOptions, audit};
use blindfold::detect::DetectConfig;
use blindfold_infer::select::num_cpus;
use blindfold_video::{VideoAudit, audit_video};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One line of `--json` output.
#[derive(Serialize)]
struct Line<'a> {
    path: &'a Path,
    /// `clean`, `found` or `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<&'a Path>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    audit: Option<&'a Audit>,
    /// The audit of a video: streams, tags, faces in sampled frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<&'a VideoAudit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Audit every photo in `args.paths`; exit 1 when anything is found or a
/// file cannot be audited.
pub fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let plan = inputs::collect(&args.paths, &Placement::InPlace)?;
    let jobs = plan.jobs;
    let say = |m: &str| eprintln!("blindfold: {m}");
    let cfg = DetectConfig::audit(args.threshold, args.confirm);
    cfg.validate().context("bad --threshold or --confirm")?;
    // One detector, every CPU; fp32 unless int8 is asked for.
    let mut source = engine::source(&args.engine);
    source.precision = source.precision.for_audit();
    let engine = blindfold_models::open_engine(&source, num_cpus(), &say)?;
    let mut det = engine.detector_with_threads(&cfg, num_cpus())?;
    let opts = AuditOptions {
        max_changed_share: args.max_changed,
        min_face_height: args.min_height,
        ..AuditOptions::default()
    };
    let (mut clean, mut total) = (0usize, 0usize);
    let out = std::io::stdout();
    for job in &jobs {
        total += 1;
        let original = args
            .originals
            .as_deref()
            .and_then(|d| original_for(&job.input, d));
        let (res, vres) = if job.kind == Kind::Video {
            let v = audit_video(&job.input, det.as_mut(), args.every, args.min_height)
                .map_err(|e| anyhow::anyhow!("{}", e.kind));
            let photo = v
                .as_ref()
                .map(|_| None)
                .map_err(|e| anyhow::anyhow!("{e:#}"));
            (photo, v.ok())
        } else {
            (
                audit_file(&job.input, original.as_deref(), &mut det, &opts).map(Some),
                None,
            )
        };
        let is_clean = match (&res, &vres) {
            (Ok(Some(a)), _) => a.clean,
            (Ok(None), Some(v)) => v.clean,
            _ => false,
        };
        let (status, error) = match &res {
            Ok(_) if is_clean => ("clean", None),
            Ok(_) => ("found", None),
            Err(e) => ("error", Some(format!("{e:#}"))),
        };
        if status == "clean" {
            clean += 1;
        }
        if args.json {
            let line = Line {
                path: &job.input,
                status,
                original: original.as_deref(),
                audit: res.as_ref().ok().and_then(|a| a.as_ref()),
                video: vres.as_ref(),
                error,
            };
            let mut lock = out.lock();
            serde_json::to_writer(&mut lock, &line)?;
            writeln!(lock)?;
        } else {
            match &vres {
                Some(v) => human_video(&job.input, v),
                None => human(&job.input, &res),
            }
        }
    }
    // A file that cannot be audited is not clean.
    for skip in &plan.skipped {
        total += 1;
        let error = format!("not audited: {}", skip.reason);
        if args.json {
            let line = Line {
                path: &skip.path,
                status: "error",
                original: None,
                audit: None,
                video: None,
                error: Some(error),
            };
            let mut lock = out.lock();
            serde_json::to_writer(&mut lock, &line)?;
            writeln!(lock)?;
        } else {
            eprintln!("{}: {error}", skip.path.display());
        }
    }
    if args.json {
        let mut lock = out.lock();
        let s = serde_json::json!({"summary": "verify", "files": total, "clean": clean,
            "backend": engine.backend(), "precision": engine.precision().name()});
        serde_json::to_writer(&mut lock, &s)?;
        writeln!(lock)?;
    } else {
        eprintln!(
            "blindfold verify: {clean} of {total} files clean ({}, {})",
            engine.backend(),
            engine.precision().name()
        );
    }
    Ok(if clean == total {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn audit_file(
    path: &Path,
    original: Option<&Path>,
    det: &mut dyn blindfold::detect::FaceDetector,
    opts: &AuditOptions,
) -> Result<Audit> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let orig = match original {
        Some(o) => Some(std::fs::read(o).with_context(|| format!("cannot read {}", o.display()))?),
        None => None,
    };
    Ok(audit(&bytes, det, orig.as_deref(), opts)?)
}

/// The original of `output` in `dir`: the same file name, or the name
/// without the `.anon` suffix.
fn original_for(output: &Path, dir: &Path) -> Option<PathBuf> {
    let name = output.file_name()?.to_str()?;
    let plain = name.replacen(".anon.", ".", 1);
    let found = [plain.as_str(), name]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
    // A HEIC's output is a JPEG: its original has the same stem.
    found.or_else(|| {
        let stem = Path::new(&plain).file_stem()?;
        ["heic", "HEIC", "heif", "HEIF", "hif"]
            .iter()
            .map(|e| dir.join(stem).with_extension(e))
            .find(|p| p.is_file())
    })
}

fn human(path: &Path, res: &Result<Option<Audit>>) {
    let p = path.display();
    match res {
        Err(e) => eprintln!("{p}: error: {e:#}"),
        Ok(None) => eprintln!("{p}: error: nothing audited"),
        Ok(Some(a)) if a.clean && a.frames > 1 => {
            eprintln!("{p}: clean ({} frames or pages checked)", a.frames)
        }
        Ok(Some(a)) if a.clean => eprintln!("{p}: clean"),
        Ok(Some(a)) => {
            let mut parts: Vec<String> = a.found.faces.iter().map(face_text).collect();
            if !a.metadata.is_empty() {
                parts.push(format!("metadata: {}", a.metadata.join(", ")));
            }
            if let Some(c) = a.changed_outside_masks {
                parts.push(format!(
                    "{:.2}% of pixels changed outside the masks",
                    c * 100.0
                ));
            }
            eprintln!("{p}: FOUND {}", parts.join("; "));
        }
    }
}

fn face_text(c: &blindfold::audit::Candidate) -> String {
    let b = c.detection.bbox;
    let frame = c
        .frame
        .map(|f| format!(" of frame {f}"))
        .unwrap_or_default();
    format!(
        "face in {}{frame} at {:.0},{:.0} {:.0}x{:.0} (score {:.2})",
        c.view,
        b.x0,
        b.y0,
        b.width(),
        b.height(),
        c.detection.score
    )
}

fn human_video(path: &Path, v: &VideoAudit) {
    let p = path.display();
    let checked = match v.frames_checked {
        1 => "1 frame checked".to_string(),
        n => format!("{n} frames checked"),
    };
    if v.clean {
        eprintln!("{p}: clean ({checked})");
        return;
    }
    let mut parts: Vec<String> = v.found.faces.iter().map(face_text).collect();
    if !v.streams.is_empty() {
        parts.push(format!("streams: {}", v.streams.join(", ")));
    }
    if !v.tags.is_empty() {
        parts.push(format!("tags: {}", v.tags.join(", ")));
    }
    eprintln!("{p}: FOUND {} ({checked})", parts.join("; "));
}
