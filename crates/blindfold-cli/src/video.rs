//! Videos: hand the file to `blindfold-video` with its own detectors (lanes).

use crate::cli::{Cli, DetectArgs, OutputArgs, VideoArgs};
use crate::engine;
use crate::inputs::Job;
use crate::report::{FileReport, shown};
use crate::signals;
use blindfold::detect::FaceDetector;
use blindfold::pipeline::Options;
use blindfold_infer::select::Engine;
use blindfold_video::{TrackerConfig, VideoOptions, anonymize_video_lanes, lanes};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;
use std::time::Instant;

/// The video settings from the flags.
pub fn options(v: &VideoArgs, out: &OutputArgs, opts: &Options) -> VideoOptions {
    let defaults = TrackerConfig::default();
    VideoOptions {
        mask: opts.mask,
        mode: opts.mode,
        crf: v.crf,
        keep_audio: !v.no_audio,
        keep_subtitles: v.keep_subtitles,
        accept_damaged: out.accept_damaged,
        tracking: TrackerConfig {
            hold: v.hold.unwrap_or(defaults.hold),
            lookahead: v.lookahead.unwrap_or(defaults.lookahead),
            ..defaults
        },
        max_pixels: opts.decode.max_pixels,
        ..VideoOptions::default()
    }
}

/// The detection settings for videos: the photo settings, except that
/// without `--scales` only the native and the quarter-size pass run (see
/// `DetectConfig::for_video`), and the weak-picture rule is off unless asked
/// for: a faint box in one frame may be a distant face that tracking carries on.
pub fn detect_config(d: &DetectArgs) -> anyhow::Result<blindfold::detect::DetectConfig> {
    // What the user did not choose comes from the video preset.
    let mut c = engine::detect_config(d)?;
    let video = c.clone().for_video();
    if d.scales.is_none() && !d.fast {
        c.scales = video.scales;
        c.scale_thresholds = video.scale_thresholds;
    }
    if d.weak_picture.is_none() {
        c.weak_picture = video.weak_picture;
    }
    Ok(c)
}

/// The detectors used for videos (one per lane), made on first use.
pub type Slot = Mutex<Option<Vec<Box<dyn FaceDetector>>>>;

/// Anonymise one video; failures become an `error` report and leave no output.
pub fn run(job: &Job, engine: &Engine, slot: &Slot, cli: &Cli, opts: &Options) -> FileReport {
    let t = Instant::now();
    let vopts = VideoOptions {
        output_mode: crate::photo::input_mode(&job.input),
        ..options(&cli.video, &cli.output_opts, opts)
    };
    let bar = frame_bar(cli.quiet);
    let mut guard = slot.lock().expect("video detector lock");
    let res = (|| {
        if guard.is_none() {
            let cfg = detect_config(&cli.detect)?;
            *guard = Some(engine.video_detectors(&cfg, cli.engine.jobs)?);
        }
        let mut lanes = lanes(guard.as_mut().expect("detectors were just made"));
        if cli.dry_run {
            return Err(anyhow::anyhow!(
                "--dry-run is not supported for videos (nothing was written)"
            ));
        }
        if let Some(dir) = job.output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create folder {}: {e}", shown(dir)))?;
        }
        signals::writing(|| {
            anonymize_video_lanes(&job.input, &job.output, &mut lanes, &vopts, &mut |p| {
                if let Some(total) = p.total_frames {
                    bar.set_length(total);
                }
                bar.set_position(p.frame);
                bar.set_message(format!("{:.1} fps", p.fps));
            })
        })
        // The report already names the file; keep only the reason.
        .map_err(|e| anyhow::anyhow!("{}", e.kind))
    })();
    bar.finish_and_clear();
    let total_ms = t.elapsed().as_secs_f64() * 1000.0;
    let ran = crate::report::Ran::of(engine);
    match res {
        Ok(rep) => FileReport {
            video: serde_json::to_value(&rep).ok(),
            ..FileReport::done(&job.input, Some(job.output.clone()), "video", ran, total_ms)
        },
        Err(e) => FileReport::failed(&job.input, "video", ran, total_ms, &e),
    }
}

fn frame_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} frames  {msg}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> blindfold::detect::DetectConfig {
        let cli = Cli::try_parse_from([&["blindfold"], args, &["a.mp4"]].concat()).unwrap();
        detect_config(&cli.detect).unwrap()
    }

    fn scales(args: &[&str]) -> Vec<f32> {
        config(args).scales
    }

    #[test]
    fn videos_run_the_native_and_quarter_passes_unless_scales_are_given() {
        assert!(blindfold::detect::DetectConfig::default().scales.len() > 2);
        assert_eq!(scales(&[]), vec![0.25, 1.0]);
        assert_eq!(scales(&["--scales", "0.5,1"]), vec![0.5, 1.0]);
    }

    #[test]
    fn videos_have_no_weak_picture_rule_unless_asked() {
        use blindfold::detect::WeakPicture;
        assert_ne!(
            blindfold::detect::DetectConfig::default().weak_picture,
            WeakPicture::OFF
        );
        for args in [&[][..], &["--scales", "0.5,1"], &["--fast"]] {
            assert_eq!(config(args).weak_picture, WeakPicture::OFF, "{args:?}");
        }
        let asked = config(&["--scales", "1", "--weak-picture", "0.5,0.2"]);
        assert_eq!(asked.weak_picture.floor, 0.2);
    }
}
