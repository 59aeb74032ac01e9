//! The pipeline for one video: probe, then three stages that overlap.
//!
//! ```text
//! ffmpeg decoder --raw RGB--> reader thread --queue--> lanes --> tracker (caller's thread)
//!     --queue--> writer thread (masks, raw RGB) --> ffmpeg encoder --> temp file
//! ```
//!
//! Each detector given is a *lane*, a thread of its own: frames go to the
//! lanes in turn and come back in order, so two one-thread detectors work on
//! two frames at once. On a busy 2-core machine that beat one detector on
//! two threads by about a tenth (bench/RESULTS.md): a one-thread network
//! never waits for a thread that ffmpeg has taken the core from.
//!
//! The tracker holds `lookahead` frames back, so the frames in memory at once
//! are at most `lookahead + 2 * queue + lanes + 2` (each queue, the
//! look-ahead window, one frame in flight per lane, and one frame in the
//! reader and the writer). Each is `width * height * 3` bytes: 6.2 MB
//! at 1080p, so the defaults (look-ahead 8, queue 4) hold about 120 MB at
//! 1080p and 470 MB at 4K, whatever the video's length.
//!
//! Any failure (decoder error or early end, detector error, encoder error, a
//! failed output check) kills both ffmpeg processes and deletes the temp file;
//! the output path is only ever a complete, checked file.

use crate::VideoOptions;
use crate::error::{ErrorKind, VideoError};
use crate::ffmpeg::{self, Container, EncodeArgs, Proc, Tool};
use crate::frames;
use crate::probe::{self, MediaInfo};
use crate::report::{OutputInfo, Progress, VideoReport, VideoTimings};
use crate::scratch::Scratch;
use crate::track::{FrameBoxes, Tracker};
use crate::verify::{self, Expect};
use blindfold::Detection;
use blindfold::anonymize::{self, Mask, Mode};
use blindfold::detect::FaceDetector;
use blindfold::image::RgbImage;
use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// How often a waiting stage looks at the cancel switch.
const POLL: Duration = Duration::from_millis(50);

/// Anonymise `input` into `output` (container from the output's extension:
/// `.mp4`/`.m4v`, `.mov` or `.mkv`). On error nothing is left at `output`
/// and no temp file remains. `progress` is called after each frame.
pub fn anonymize_video(
    input: &Path,
    output: &Path,
    detector: &mut dyn FaceDetector,
    opts: &VideoOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<VideoReport, VideoError> {
    anonymize_video_lanes(input, output, &mut [detector], opts, progress)
}

/// [`anonymize_video`] with several detectors (same settings), each on a
/// thread of its own working on every `detectors.len()`-th frame. The
/// output is the same as with one of them.
pub fn anonymize_video_lanes(
    input: &Path,
    output: &Path,
    detectors: &mut [&mut dyn FaceDetector],
    opts: &VideoOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<VideoReport, VideoError> {
    let fail = |kind| VideoError::new(input, kind);
    opts.validate().map_err(fail)?;
    if detectors.is_empty() {
        return Err(fail(ErrorKind::Config("no detector given".into())));
    }
    let container = Container::for_path(output).ok_or_else(|| {
        fail(ErrorKind::Config(format!(
            "output {} must end in .mp4, .m4v, .mov or .mkv",
            output.display()
        )))
    })?;
    let start = Instant::now();
    let info = probe::probe(input).map_err(fail)?;
    let pixels = info.width as u64 * info.height as u64;
    if pixels > opts.max_pixels {
        return Err(fail(ErrorKind::Config(format!(
            "frames are {}x{}, over the limit of {} pixels",
            info.width, info.height, opts.max_pixels
        ))));
    }
    frames::check_input(&info).map_err(fail)?;
    let file_error = |source| {
        fail(ErrorKind::File {
            what: "cannot create a temp file beside",
            path: output.to_path_buf(),
            source,
        })
    };
    let scratch = Scratch::beside(output).map_err(file_error)?;
    let tmp = scratch.file_for(output).map_err(file_error)?;
    let mut report = run(
        input,
        &info,
        container,
        tmp.path(),
        detectors,
        opts,
        progress,
    )
    .map_err(fail)?;
    tmp.persist(output, opts.output_mode).map_err(|source| {
        fail(ErrorKind::File {
            what: "cannot move the output into place at",
            path: output.to_path_buf(),
            source,
        })
    })?;
    report.timings.wall_ms = start.elapsed().as_secs_f64() * 1e3;
    report.timings.fps = report.frames as f64 / start.elapsed().as_secs_f64().max(1e-9);
    Ok(report)
}

/// Owned detectors as lanes for [`anonymize_video_lanes`].
pub fn lanes(detectors: &mut [Box<dyn FaceDetector>]) -> Vec<&mut dyn FaceDetector> {
    detectors
        .iter_mut()
        .map(|d| &mut **d as &mut dyn FaceDetector)
        .collect()
}

/// One frame on its way to the encoder.
struct Job {
    image: RgbImage,
    masks: Vec<Mask>,
    seed: u64,
}

fn run(
    input: &Path,
    info: &MediaInfo,
    container: Container,
    tmp: &Path,
    detectors: &mut [&mut dyn FaceDetector],
    opts: &VideoOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<VideoReport, ErrorKind> {
    let (w, h) = (info.width, info.height);
    let frame_bytes = w as usize * h as usize * 3;
    let args = EncodeArgs {
        container,
        crf: opts.crf,
        preset: &opts.preset,
        keep_audio: opts.keep_audio,
        keep_subtitles: opts.keep_subtitles,
    };
    let (enc_cmd, plan) = ffmpeg::encoder(input, info, &args, tmp);
    let mut dec = Proc::spawn(Tool::Ffmpeg, ffmpeg::decoder(input, info))?;
    let mut enc = Proc::spawn(Tool::Ffmpeg, enc_cmd)?;
    let stdout = dec.child().stdout.take().expect("decoder stdout is piped");
    let stdin = enc.child().stdin.take().expect("encoder stdin is piped");

    let (ftx, frx) = sync_channel(opts.queue);
    let reader = std::thread::spawn(move || read_frames(stdout, frame_bytes, ftx));
    let (etx, erx) = sync_channel(opts.queue);
    let mode = opts.mode;
    let writer = std::thread::spawn(move || write_frames(stdin, mode, erx));

    let mut stage = Detect {
        tracker: Tracker::new(opts.tracking),
        pending: VecDeque::new(),
        opts,
        seeds: RandomState::new(),
        etx,
        stats: Stats::default(),
    };
    let frames = Frames {
        rx: frx,
        w,
        h,
        total: info.expected_frames(),
        limit: frames::limit(info),
        info,
    };
    let driven = stage.drive(detectors, frames, progress);
    let Detect {
        stats,
        tracker,
        etx,
        ..
    } = stage;
    // Closing the channel lets the writer finish and close the encoder's input.
    drop(etx);
    if driven.is_err() {
        dec.kill();
        enc.kill();
    }
    let read = reader.join().unwrap_or(Err("frame reader panicked".into()));
    let written = writer.join().unwrap_or(Err("frame writer panicked".into()));
    let dec_status = dec.finish();
    let enc_status = enc.finish();

    match driven {
        Err(ErrorKind::Encode(m)) => return Err(ErrorKind::Encode(enc_status.err().unwrap_or(m))),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let decoded = read.map_err(ErrorKind::Decode)?;
    let dec_log = dec_status.map_err(ErrorKind::Decode)?;
    frames::check_decoded(info, decoded, &dec_log).map_err(ErrorKind::Decode)?;
    let damage = decode_errors(&dec_log);
    if let Some(d) = &damage
        && !opts.accept_damaged
    {
        return Err(ErrorKind::Damaged(d.clone()));
    }
    let written = written.map_err(ErrorKind::Encode)?;
    enc_status.map_err(ErrorKind::Encode)?;
    if written != decoded {
        return Err(ErrorKind::Encode(format!(
            "wrote {written} of {decoded} frames"
        )));
    }
    let (ow, oh) = (w.div_ceil(2) * 2, h.div_ceil(2) * 2);
    let expect = Expect {
        width: ow,
        height: oh,
        pixel_aspect: info.pixel_aspect,
        frames: written,
        audio: plan.audio_copied + plan.audio_transcoded,
        subtitles: plan.subtitles_kept,
    };
    verify::verify(tmp, &expect).map_err(ErrorKind::Verify)?;
    Ok(VideoReport {
        input: info.clone(),
        output: OutputInfo {
            container,
            width: ow,
            height: oh,
            frames: written,
            streams: plan,
        },
        backend: stats.backend,
        tracking: opts.tracking,
        frames: decoded,
        frames_with_masks: stats.frames_with_masks,
        frames_filled_by_tracking: stats.frames_filled,
        masks_detected: stats.masks_detected,
        masks_filled: stats.masks_filled,
        tracks: tracker.summaries(),
        damage,
        timings: VideoTimings {
            detect_ms: stats.detect_ms,
            wait_decode_ms: stats.wait_ms,
            ..VideoTimings::default()
        },
    })
}

/// The decoder runs at `-v error`, so every line it logs is an error in the
/// input's data (a corrupt slice, a bad reference, a concealed macroblock).
/// `None` for a clean decode; otherwise how many lines and the last ones.
fn decode_errors(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "{} decoder error line(s), last: {}",
        lines.len(),
        ffmpeg::tail(log.as_bytes())
    ))
}

#[derive(Default)]
struct Stats {
    backend: String,
    detect_ms: f64,
    wait_ms: f64,
    frames_with_masks: u64,
    frames_filled: u64,
    masks_detected: u64,
    masks_filled: u64,
}

/// The middle stage: the lanes' results go through the tracker on the
/// caller's thread.
struct Detect<'a> {
    tracker: Tracker,
    pending: VecDeque<RgbImage>,
    opts: &'a VideoOptions,
    seeds: RandomState,
    etx: SyncSender<Job>,
    stats: Stats,
}

/// The decoded frames as they arrive: `w` x `h`, `total` expected, at most
/// `limit` (see `frames::limit`).
struct Frames<'i> {
    rx: Receiver<Result<Vec<u8>, String>>,
    w: u32,
    h: u32,
    total: Option<u64>,
    limit: Option<u64>,
    info: &'i MediaInfo,
}

/// A frame's way to a lane, and its boxes' way back (with the time taken).
type ToLane = SyncSender<(u64, RgbImage)>;
type FromLane = Receiver<(RgbImage, Result<Vec<Detection>, blindfold::Error>, f64)>;

impl Detect<'_> {
    fn drive(
        &mut self,
        detectors: &mut [&mut dyn FaceDetector],
        frames: Frames<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ErrorKind> {
        self.stats.backend = detectors[0].backend_name().to_string();
        let every = u64::from(self.opts.detect_every);
        std::thread::scope(|s| {
            let mut lanes: Vec<(ToLane, FromLane)> = Vec::with_capacity(detectors.len());
            for det in detectors.iter_mut() {
                let (itx, irx) = sync_channel::<(u64, RgbImage)>(1);
                let (otx, orx) = sync_channel(1);
                s.spawn(move || {
                    for (frame, image) in irx {
                        let t = Instant::now();
                        let dets = match frame.is_multiple_of(every) {
                            true => det.detect(&image),
                            false => Ok(Vec::new()),
                        };
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        if otx.send((image, dets, ms)).is_err() {
                            break;
                        }
                    }
                });
                lanes.push((itx, orx));
            }
            // Returning drops the lanes' channels, which ends their threads.
            self.through(&lanes, frames, progress)
        })
    }

    /// Feed the lanes in turn, keeping each busy, and take their results in
    /// frame order into the tracker.
    fn through(
        &mut self,
        lanes: &[(ToLane, FromLane)],
        frames: Frames<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ErrorKind> {
        let Frames {
            rx: frx,
            w,
            h,
            total,
            limit,
            info,
        } = frames;
        let n = lanes.len() as u64;
        let lane = |frame: u64| &lanes[(frame % n) as usize];
        let lost = |frame| ErrorKind::Detect {
            frame,
            source: blindfold::Error::Inference("a detector thread stopped".into()),
        };
        let start = Instant::now();
        let (mut sent, mut done, mut more) = (0u64, 0u64, true);
        loop {
            while more && sent - done < n {
                let t0 = Instant::now();
                let Some(msg) = self.next_frame(&frx)? else {
                    more = false;
                    break;
                };
                self.stats.wait_ms += t0.elapsed().as_secs_f64() * 1e3;
                if limit.is_some_and(|l| sent >= l) {
                    let planned = format!("more than {sent}");
                    return Err(ErrorKind::TooManyFrames(frames::too_many(info, planned)));
                }
                let image = RgbImage::from_raw(w, h, msg.map_err(ErrorKind::Decode)?)
                    .expect("reader sends whole frames");
                lane(sent).0.send((sent, image)).map_err(|_| lost(sent))?;
                sent += 1;
            }
            if done == sent {
                break;
            }
            let (image, dets, ms) = loop {
                self.check_cancel()?;
                match lane(done).1.recv_timeout(POLL) {
                    Ok(r) => break r,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Err(lost(done)),
                }
            };
            let dets = dets.map_err(|source| ErrorKind::Detect {
                frame: done,
                source,
            })?;
            self.stats.detect_ms += ms;
            self.pending.push_back(image);
            if let Some(fb) = self.tracker.push(&dets) {
                self.send(fb)?;
            }
            done += 1;
            progress(Progress {
                frame: done,
                total_frames: total,
                fps: done as f64 / start.elapsed().as_secs_f64().max(1e-9),
            });
        }
        for fb in self.tracker.finish() {
            self.send(fb)?;
        }
        Ok(())
    }

    /// The next decoded frame, `None` at the end; checks the cancel switch
    /// while it waits.
    fn next_frame(
        &self,
        frx: &Receiver<Result<Vec<u8>, String>>,
    ) -> Result<Option<Result<Vec<u8>, String>>, ErrorKind> {
        loop {
            self.check_cancel()?;
            match frx.recv_timeout(POLL) {
                Ok(msg) => return Ok(Some(msg)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    fn check_cancel(&self) -> Result<(), ErrorKind> {
        match self.opts.cancel.is_cancelled() {
            true => Err(ErrorKind::Cancelled),
            false => Ok(()),
        }
    }

    fn send(&mut self, fb: FrameBoxes) -> Result<(), ErrorKind> {
        let image = self.pending.pop_front().expect("one image per frame");
        let filled = fb.boxes.iter().filter(|b| b.source.is_filled()).count() as u64;
        let s = &mut self.stats;
        s.frames_with_masks += u64::from(!fb.boxes.is_empty());
        s.frames_filled += u64::from(filled > 0);
        s.masks_filled += filled;
        s.masks_detected += fb.boxes.len() as u64 - filled;
        let spec = self.opts.mask;
        let masks = fb
            .boxes
            .iter()
            .map(|b| Mask {
                shape: spec.shape,
                bbox: b.bbox.grow(spec.grow),
            })
            .collect();
        let seed = self.seeds.hash_one(fb.frame);
        self.etx
            .send(Job { image, masks, seed })
            .map_err(|_| ErrorKind::Encode("encoder stopped early".into()))
    }
}

/// Read whole frames until the end of the stream; an end inside a frame is
/// an error.
fn read_frames(
    mut r: impl Read,
    n: usize,
    tx: SyncSender<Result<Vec<u8>, String>>,
) -> Result<u64, String> {
    let mut count = 0;
    loop {
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match r.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let m = format!("reading frame {count}: {e}");
                    let _ = tx.send(Err(m.clone()));
                    return Err(m);
                }
            }
        }
        if got == 0 {
            return Ok(count);
        }
        if got < n {
            let m = format!("stream ended inside frame {count}");
            let _ = tx.send(Err(m.clone()));
            return Err(m);
        }
        if tx.send(Ok(buf)).is_err() {
            return Ok(count);
        }
        count += 1;
    }
}

/// Mask each frame and write it to the encoder.
fn write_frames(mut w: impl Write, mode: Mode, rx: Receiver<Job>) -> Result<u64, String> {
    let mut count = 0;
    for mut job in rx {
        anonymize::apply(&mut job.image, &job.masks, mode, job.seed);
        w.write_all(job.image.as_raw())
            .map_err(|e| format!("writing frame {count}: {e}"))?;
        count += 1;
    }
    w.flush().map_err(|e| e.to_string())?;
    Ok(count)
}
