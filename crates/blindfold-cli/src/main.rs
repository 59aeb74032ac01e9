//! The `blindfold` command: flags in, files out. The work happens in the
//! `blindfold` library; this binary finds files, loads the model, runs images
//! in parallel, writes outputs atomically and reports.
//!
//! Exit codes: 0 all files done, 1 some failed, 2 bad usage, nothing to do
//! or an output that would overwrite an input or another output; 130 and 143
//! when stopped by SIGINT and SIGTERM.

mod cli;
mod engine;
mod inputs;
mod outputs;
mod photo;
mod report;
mod serve;
mod signals;
mod verify;
mod video;

use anyhow::{Context, Result};
use blindfold::anonymize::MaskSpec;
use blindfold::pipeline::Options;
use blindfold_infer::select::{Pool, default_workers, mem_available, num_cpus};
use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, ModelCommand};
use indicatif::{ProgressBar, ProgressStyle};
use inputs::{Job, Kind, Placement};
use report::{FileReport, Ran, Summary, escaped, shown};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Parse the flags; `--help` also shows the detection defaults and presets.
fn parse_args() -> Cli {
    let d = blindfold::detect::DetectConfig::default();
    let f = blindfold::detect::DetectConfig::fast();
    let v = d.clone().for_video();
    let defaults = format!(
        "Detection defaults: --threshold {} --scales {} --overview {} --coarse-overview {} \
         --downscaled-min {} --size-gate {},{},{},{} --weak-picture {},{} \
         --tile {} --upscaled-tile {} --upscaled-gate {} --flip {} --fusion {} --grow {}\n\
         --fast means: --threshold {} --scales {} --overview {} --coarse-overview {} \
         --weak-picture {},{} --flip {}\n\
         Videos run --scales {} unless --scales is given, and no --weak-picture unless given.",
        d.threshold,
        join(&d.scales),
        d.overview,
        d.coarse_overview,
        d.downscaled_min,
        d.size_gate.large_px,
        d.size_gate.large_threshold,
        d.size_gate.agree,
        d.size_gate.confirm_below,
        d.weak_picture.top,
        d.weak_picture.floor,
        d.tile,
        d.upscaled_tile,
        d.upscaled_gate,
        d.flip,
        format!("{:?}", d.fusion).to_lowercase(),
        MaskSpec::default().grow,
        f.threshold,
        join(&f.scales),
        f.overview,
        f.coarse_overview,
        f.weak_picture.top,
        f.weak_picture.floor,
        f.flip,
        join(&v.scales),
    );
    let cmd = Cli::command().before_long_help(defaults);
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn join(v: &[f32]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A usage problem: exit code 2.
#[derive(Debug)]
struct Usage(anyhow::Error);

fn main() -> ExitCode {
    let cli = parse_args();
    let result = run(cli);
    signals::hold_if_stopping();
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(Usage(inner)) = e.downcast_ref::<Usage>() {
                eprintln!("blindfold: {inner:#}");
                return ExitCode::from(2);
            }
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("blindfold: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Usage {}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The warning for blur and pixelate.
const REVERSIBLE: &str = "--mode blur and pixelate can be reversed by learned attacks; use noise or solid to protect people";

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Some(Command::Model(cmd)) => return model_command(cmd),
        Some(Command::Serve(args)) => {
            return serve::run(args).map_err(|e| match e {
                serve::Failure::Usage(e) => Usage(e).into(),
                serve::Failure::Other(e) => e,
            });
        }
        Some(Command::Verify(args)) => return verify::run(args),
        None => {}
    }
    let place = if cli.in_place {
        Placement::InPlace
    } else if let Some(dir) = &cli.output {
        Placement::Dir(dir.clone())
    } else {
        Placement::Beside(cli.suffix.clone())
    };
    let plan = inputs::collect(&cli.inputs, &place).map_err(Usage)?;
    let skipped = plan.skipped;
    if plan.jobs.is_empty() {
        report::print_skipped(&skipped, cli.quiet);
        return Err(Usage(anyhow::anyhow!("no photos or videos found in the inputs")).into());
    }
    let jobs = outputs::check(plan.jobs, &place).map_err(Usage)?;
    if !cli.dry_run {
        let dirs = signals::output_dirs(jobs.iter().map(|j| j.output.as_path()));
        let stale = signals::clean_stale(&dirs);
        if stale > 0 && !cli.quiet {
            eprintln!("blindfold: removed {stale} temp file(s) left by an interrupted run");
        }
        // Folders that -o creates during the run are looked into as well.
        signals::install(dirs).context("cannot install the signal handler")?;
    }
    let cfg = engine::detect_config(&cli.detect).map_err(Usage)?;
    let opts = engine::photo_options(&cli.look, &cli.output_opts).map_err(Usage)?;
    if cli.video.keep_subtitles && !cli.quiet && jobs.iter().any(|j| j.kind == Kind::Video) {
        eprintln!(
            "blindfold: warning: --keep-subtitles copies subtitle text verbatim; it can hold names and GPS positions",
        );
    }
    if opts.mode.is_reversible() && !cli.quiet {
        eprintln!("blindfold: warning: {REVERSIBLE}");
    }

    let n_photos = jobs.iter().filter(|j| j.kind == Kind::Photo).count();
    let say = |m: &str| {
        if !cli.quiet {
            eprintln!("blindfold: {m}");
        }
    };
    let workers = match cli.engine.jobs {
        Some(j) => j,
        None => {
            let (cpus, per) = (num_cpus(), cfg.worker_memory());
            let fit = default_workers(cpus, mem_available(), per);
            let wanted = cpus.min(n_photos);
            if fit < wanted {
                say(&format!(
                    "{fit} workers instead of {wanted}: each may need {:.1} GB and memory is short (set -j to choose)",
                    per as f64 / 1e9
                ));
            }
            fit
        }
    }
    .clamp(1, n_photos.max(1));
    let engine = engine::resolve(&cli.engine, workers, &say)?;
    if let Some(why) = engine.fallback_reason()
        && !cli.quiet
    {
        eprintln!("blindfold: ONNX Runtime not used ({why}); using rten, which is slower");
    }
    // Videos get their own detector (see `video::run`), so a run with no
    // photos loads no photo detectors.
    let pool = Pool::new(&engine, &cfg, if n_photos > 0 { workers } else { 0 })?;
    let video_detector = std::sync::Mutex::new(None);

    let started = Instant::now();
    let bar = progress_bar(jobs.len() as u64, cli.quiet);
    let out = std::io::stdout();
    let (tx, rx) = std::sync::mpsc::channel::<FileReport>();
    let (photos, videos): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| j.kind == Kind::Photo);
    let (mut files, mut failed, mut faces) = (0usize, 0usize, 0usize);
    std::thread::scope(|s| -> Result<()> {
        s.spawn(|| {
            // Plain threads, not a rayon pool: the rten backend runs on rayon,
            // and a rayon worker waiting for it may steal another photo job,
            // which would then wait for the detector its own stack holds.
            // Outputs are written by one thread of their own, so a worker
            // goes on to its next photo while the last one is synced to disk
            // (about 3% of a --fast run); its report is sent once written.
            let next = AtomicUsize::new(0);
            std::thread::scope(|w| {
                let (to_write, written) = std::sync::mpsc::sync_channel(workers);
                let tx_written = tx.clone();
                w.spawn(move || {
                    for done in written {
                        let _ = tx_written.send(write_photo(done));
                    }
                });
                for _ in 0..workers {
                    let to_write = to_write.clone();
                    let next = &next;
                    let (photos, pool, opts, ran) = (&photos, &pool, &opts, Ran::of(&engine));
                    w.spawn(move || {
                        while let Some(job) = photos.get(next.fetch_add(1, Ordering::Relaxed)) {
                            let done = photo_job(job, pool, opts, cli.dry_run, ran);
                            let _ = to_write.send(done);
                        }
                    });
                }
                drop(to_write);
            });
            for job in &videos {
                let rep = bar.suspend(|| video::run(job, &engine, &video_detector, &cli, &opts));
                let _ = tx.send(rep);
            }
            drop(tx);
        });
        for rep in rx {
            if signals::stopping() {
                continue; // failures caused by the signal: not reported
            }
            files += 1;
            faces += rep.photo.as_ref().map_or(0, |p| p.faces.len());
            if rep.status == "error" {
                failed += 1;
                bar.suspend(|| {
                    eprintln!(
                        "blindfold: {}: {}",
                        shown(&rep.input),
                        escaped(rep.error.as_deref().unwrap_or("failed"))
                    )
                });
            }
            if cli.json {
                let mut lock = out.lock();
                serde_json::to_writer(&mut lock, &rep)?;
                writeln!(lock)?;
            } else if !cli.quiet {
                bar.suspend(|| human_line(&rep));
            }
            bar.inc(1);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let ok = files - failed;
    let summary = Summary {
        summary: "summary",
        files,
        ok,
        failed,
        faces,
        skipped: skipped.len(),
        skipped_files: &skipped,
        seconds: started.elapsed().as_secs_f64(),
    };
    if cli.json {
        let mut lock = out.lock();
        serde_json::to_writer(&mut lock, &summary)?;
        writeln!(lock)?;
    } else if !cli.quiet {
        report::print_skipped(&skipped, false);
        eprintln!(
            "blindfold: {ok} of {files} files done, {failed} failed, {} skipped, {:.1} s ({}, {})",
            skipped.len(),
            summary.seconds,
            engine.backend(),
            engine.precision().name()
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One photo anonymised: its report, and its output still to be written.
type PhotoDone = (FileReport, Option<photo::Pending>);

fn photo_job(job: &Job, pool: &Pool, opts: &Options, dry_run: bool, ran: Ran) -> PhotoDone {
    let t = Instant::now();
    let res = pool.with(|det| photo::run(job, det, opts, dry_run));
    let total_ms = t.elapsed().as_secs_f64() * 1000.0;
    match res {
        Ok((photo, pending)) => {
            let rep = FileReport {
                photo: Some(photo),
                ..FileReport::done(
                    &job.input,
                    (!dry_run).then(|| job.output.clone()),
                    "photo",
                    ran,
                    total_ms,
                )
            };
            (rep, pending)
        }
        Err(e) => (
            FileReport::failed(&job.input, "photo", ran, total_ms, &e),
            None,
        ),
    }
}

/// Write a photo's output; its report says `error` (and no output) when
/// that fails, and its time includes the writing.
fn write_photo((rep, pending): PhotoDone) -> FileReport {
    let Some(pending) = pending else {
        return rep;
    };
    let t = Instant::now();
    let res = pending.write();
    let total_ms = rep.total_ms + t.elapsed().as_secs_f64() * 1000.0;
    match res {
        Ok(()) => FileReport { total_ms, ..rep },
        Err(e) => FileReport::failed(&rep.input, "photo", rep.ran, total_ms, &e),
    }
}

fn human_line(rep: &FileReport) {
    if rep.status == "error" {
        return;
    }
    let faces = rep.photo.as_ref().map(|p| p.faces.len());
    let dest = rep
        .output
        .as_ref()
        .map(|p| format!(" -> {}", shown(p)))
        .unwrap_or_default();
    match faces {
        Some(n) => eprintln!("{}: {n} face(s){dest}", shown(&rep.input)),
        None => eprintln!("{}: done{dest}", shown(&rep.input)),
    }
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn model_command(cmd: &ModelCommand) -> Result<ExitCode> {
    let say = |m: &str| eprintln!("blindfold: {m}");
    match cmd {
        ModelCommand::Fetch { force } => {
            let f = blindfold_models::fetch_all(*force, &say)?;
            println!("model: {}", f.model.display());
            println!("int8: {}", f.int8.display());
            match f.ort_lib {
                Some(l) => println!("onnxruntime: {}", l.display()),
                None => println!("onnxruntime: not fetched (rten will be used)"),
            }
        }
        ModelCommand::Path { model } => {
            let m = blindfold_models::model_path(model.as_deref(), false, &say)?;
            println!("{}", m.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
