//! Face tracks across frames, so that a face the detector misses for a few
//! frames stays masked. Pure logic: no ffmpeg, no pixels.
//!
//! Each new frame's detections are matched to the live tracks by IoU with a
//! constant-velocity prediction (greedy, best overlap first). Frames leave the
//! tracker `lookahead` frames late, so when a frame is emitted the tracker
//! already knows the next `lookahead` frames' detections. A track's box in an
//! emitted frame `f` is then:
//!
//! - **detected**: the track was detected in `f`. The box is the union of the
//!   raw detection and the average of the track's detections at `f` and the
//!   pairs `f - d`, `f + d` for `d` up to `smooth` (a centred average has no
//!   lag for steady motion; the union means smoothing never shrinks the mask
//!   below the raw box).
//! - **interpolated**: a gap between two detections of the track, both known
//!   (the later one at most `lookahead` frames ahead): linear interpolation.
//! - **held**: after the track's last detection, for at most `hold` frames:
//!   the last box moved on with the track's velocity.
//! - **backfilled**: before the track's first detection, for at most
//!   `lookahead` frames: the first box moved back with the track's velocity.
//!
//! Boxes that are not detections are grown by `grow_per_frame` for each frame
//! away from the nearest detection (up to `max_grow`), because the guess gets
//! less certain with distance.

use crate::{BBox, Detection};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Tracker settings. Counts are in frames.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// Frames a track's mask stays after its last detection.
    pub hold: usize,
    /// Frames of look-ahead: masks extend this far before a track's first
    /// detection, and gaps up to this long are interpolated. Each frame of
    /// look-ahead keeps one decoded frame in memory (`width * height * 3` bytes).
    pub lookahead: usize,
    /// Half-width of the centred moving average over a track's detections
    /// (0 = no smoothing).
    pub smooth: usize,
    /// Minimum IoU between a track's predicted box and a detection to match.
    pub iou_match: f32,
    /// Each side of a guessed box grows by this fraction of its size per frame
    /// away from the nearest detection.
    pub grow_per_frame: f32,
    /// Upper bound for that growth.
    pub max_grow: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            hold: 15,
            lookahead: 8,
            smooth: 2,
            iou_match: 0.15,
            grow_per_frame: 0.02,
            max_grow: 0.25,
        }
    }
}

impl TrackerConfig {
    /// No tracking: each frame gets exactly its own detections.
    pub fn off() -> Self {
        TrackerConfig {
            hold: 0,
            lookahead: 0,
            smooth: 0,
            ..TrackerConfig::default()
        }
    }
}

/// Where a box in an emitted frame comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The detector found the face in this frame.
    Detected,
    /// Between two detections of the same track.
    Interpolated,
    /// After the track's last detection.
    Held,
    /// Before the track's first detection.
    Backfilled,
}

impl Source {
    /// True when tracking, not the detector, put this box here.
    pub fn is_filled(self) -> bool {
        self != Source::Detected
    }
}

/// One box to mask in an emitted frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackBox {
    /// The track it belongs to.
    pub track: u32,
    /// The face box (before the mask's own growth).
    pub bbox: BBox,
    /// How the box was found.
    pub source: Source,
}

/// All boxes of one emitted frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameBoxes {
    /// Frame index, from 0.
    pub frame: u64,
    /// The boxes to mask.
    pub boxes: Vec<TrackBox>,
}

/// What one track did over the whole video. Boxes only: nothing about the
/// face itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSummary {
    /// Track id, in order of creation from 0.
    pub id: u32,
    /// First frame with a mask from this track.
    pub first_frame: u64,
    /// Last frame with a mask from this track.
    pub last_frame: u64,
    /// Frames with a mask from this track.
    pub frames_masked: u64,
    /// Of those, frames where the detector found it.
    pub frames_detected: u64,
    /// Of those, frames filled in by tracking (`frames_masked - frames_detected`).
    pub frames_filled_by_tracking: u64,
}

struct Track {
    id: u32,
    /// Detections `(frame, box)` in frame order; old ones are pruned.
    hits: VecDeque<(u64, BBox)>,
    first_hit: u64,
    /// Velocity per frame of `[x0, y0, x1, y1]`.
    vel: [f32; 4],
    summary: Option<TrackSummary>,
}

impl Track {
    fn last(&self) -> (u64, BBox) {
        *self.hits.back().expect("a track has at least one hit")
    }

    fn predict(&self, frame: u64) -> BBox {
        let (f, b) = self.last();
        shift(b, self.vel, frame as f32 - f as f32)
    }

    fn record(&mut self, frame: u64, source: Source) {
        let s = self.summary.get_or_insert(TrackSummary {
            id: self.id,
            first_frame: frame,
            last_frame: frame,
            frames_masked: 0,
            frames_detected: 0,
            frames_filled_by_tracking: 0,
        });
        s.last_frame = frame;
        s.frames_masked += 1;
        if source.is_filled() {
            s.frames_filled_by_tracking += 1;
        } else {
            s.frames_detected += 1;
        }
    }
}

/// Associates detections across frames and emits each frame's boxes
/// `lookahead` frames later. Feed every frame in order with [`Tracker::push`],
/// then call [`Tracker::finish`].
pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<Track>,
    done: Vec<TrackSummary>,
    next_id: u32,
    /// Frames pushed so far.
    pushed: u64,
    /// Frames emitted so far.
    emitted: u64,
}

impl Tracker {
    /// A tracker with the given settings.
    pub fn new(cfg: TrackerConfig) -> Self {
        Tracker {
            cfg,
            tracks: Vec::new(),
            done: Vec::new(),
            next_id: 0,
            pushed: 0,
            emitted: 0,
        }
    }

    /// Frames pushed but not yet emitted (at most `lookahead`).
    pub fn pending(&self) -> usize {
        (self.pushed - self.emitted) as usize
    }

    /// Add the next frame's detections. Returns the frame that is now final,
    /// if any (the one `lookahead` frames back).
    pub fn push(&mut self, dets: &[Detection]) -> Option<FrameBoxes> {
        let frame = self.pushed;
        self.pushed += 1;
        self.associate(frame, dets);
        if self.pending() > self.cfg.lookahead {
            Some(self.emit())
        } else {
            None
        }
    }

    /// Emit the frames still held back, at the end of the video.
    pub fn finish(&mut self) -> Vec<FrameBoxes> {
        let mut out = Vec::new();
        while self.pending() > 0 {
            out.push(self.emit());
        }
        out
    }

    /// Per-track summaries of everything emitted so far, by id.
    pub fn summaries(&self) -> Vec<TrackSummary> {
        let mut all: Vec<TrackSummary> = self.done.clone();
        all.extend(self.tracks.iter().filter_map(|t| t.summary));
        all.sort_by_key(|s| s.id);
        all
    }

    fn associate(&mut self, frame: u64, dets: &[Detection]) {
        let max_gap = self.cfg.hold.max(self.cfg.lookahead) as u64 + 1;
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            if frame - t.last().0 > max_gap {
                continue;
            }
            let p = t.predict(frame);
            for (di, d) in dets.iter().enumerate() {
                let iou = p.iou(&d.bbox);
                if iou >= self.cfg.iou_match {
                    pairs.push((iou, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut t_used, mut d_used) = (vec![false; self.tracks.len()], vec![false; dets.len()]);
        for (_, ti, di) in pairs {
            if t_used[ti] || d_used[di] {
                continue;
            }
            t_used[ti] = true;
            d_used[di] = true;
            let t = &mut self.tracks[ti];
            let (lf, lb) = t.last();
            let dt = (frame - lf) as f32;
            let b = dets[di].bbox;
            let v = [
                (b.x0 - lb.x0) / dt,
                (b.y0 - lb.y0) / dt,
                (b.x1 - lb.x1) / dt,
                (b.y1 - lb.y1) / dt,
            ];
            let a = if t.hits.len() == 1 { 1.0 } else { 0.5 };
            for (tv, v) in t.vel.iter_mut().zip(v) {
                *tv = a * v + (1.0 - a) * *tv;
            }
            t.hits.push_back((frame, b));
        }
        for (di, d) in dets.iter().enumerate() {
            if !d_used[di] {
                self.tracks.push(Track {
                    id: self.next_id,
                    hits: VecDeque::from([(frame, d.bbox)]),
                    first_hit: frame,
                    vel: [0.0; 4],
                    summary: None,
                });
                self.next_id += 1;
            }
        }
    }

    fn emit(&mut self) -> FrameBoxes {
        let f = self.emitted;
        self.emitted += 1;
        let mut boxes = Vec::new();
        for t in &mut self.tracks {
            if let Some((bbox, source)) = box_at(t, f, &self.cfg) {
                t.record(f, source);
                boxes.push(TrackBox {
                    track: t.id,
                    bbox,
                    source,
                });
            }
        }
        self.prune(f);
        FrameBoxes { frame: f, boxes }
    }

    /// Drop hits no later frame needs, and tracks that can no longer mask
    /// or match anything.
    fn prune(&mut self, emitted: u64) {
        let keep_from = emitted.saturating_sub(self.cfg.smooth as u64);
        let max_gap = self.cfg.hold.max(self.cfg.lookahead) as u64 + 1;
        for t in &mut self.tracks {
            while t.hits.len() > 2 && t.hits[1].0 < keep_from {
                t.hits.pop_front();
            }
        }
        let (mut live, mut dead) = (Vec::new(), Vec::new());
        for t in self.tracks.drain(..) {
            let last = t.last().0;
            let can_mask = last + self.cfg.hold as u64 > emitted;
            let can_match = self.pushed - 1 - last <= max_gap;
            if can_mask || can_match {
                live.push(t);
            } else {
                dead.push(t);
            }
        }
        self.tracks = live;
        self.done.extend(dead.into_iter().filter_map(|t| t.summary));
    }
}

/// The track's box in frame `f`, if it has one there.
fn box_at(t: &Track, f: u64, cfg: &TrackerConfig) -> Option<(BBox, Source)> {
    if f < t.first_hit {
        let d = t.first_hit - f;
        if d > cfg.lookahead as u64 {
            return None;
        }
        let b = shift(t.hits[0].1, t.vel, -(d as f32));
        return Some((grown(b, d, cfg), Source::Backfilled));
    }
    let after = t.hits.iter().position(|h| h.0 >= f);
    match after {
        Some(i) if t.hits[i].0 == f => {
            let raw = t.hits[i].1;
            Some((smoothed(t, f, raw, cfg.smooth), Source::Detected))
        }
        Some(i) => {
            // A gap: both neighbours are known. i > 0 because f >= first_hit.
            let (fa, a) = t.hits[i - 1];
            let (fb, b) = t.hits[i];
            let s = (f - fa) as f32 / (fb - fa) as f32;
            let lerp = |p: f32, q: f32| p + (q - p) * s;
            let m = BBox::new(
                lerp(a.x0, b.x0),
                lerp(a.y0, b.y0),
                lerp(a.x1, b.x1),
                lerp(a.y1, b.y1),
            );
            let d = (f - fa).min(fb - f);
            Some((grown(m, d, cfg), Source::Interpolated))
        }
        None => {
            let (fl, last) = t.last();
            let d = f - fl;
            if d > cfg.hold as u64 {
                return None;
            }
            Some((grown(shift(last, t.vel, d as f32), d, cfg), Source::Held))
        }
    }
}

/// Union of the raw box and the mean of the track's hits within `k` frames,
/// taken in pairs `f - d`, `f + d` so the mean has no lag for steady motion.
fn smoothed(t: &Track, f: u64, raw: BBox, k: usize) -> BBox {
    let at = |g: u64| t.hits.iter().find(|h| h.0 == g).map(|h| h.1);
    let (mut s, mut n) = ([raw.x0, raw.y0, raw.x1, raw.y1], 1f32);
    for d in 1..=k as u64 {
        let (Some(a), Some(b)) = (f.checked_sub(d).and_then(at), at(f + d)) else {
            continue;
        };
        for bb in [a, b] {
            s[0] += bb.x0;
            s[1] += bb.y0;
            s[2] += bb.x1;
            s[3] += bb.y1;
        }
        n += 2.0;
    }
    let m = BBox::new(s[0] / n, s[1] / n, s[2] / n, s[3] / n);
    union(raw, m)
}

fn grown(b: BBox, frames_away: u64, cfg: &TrackerConfig) -> BBox {
    b.grow((cfg.grow_per_frame * frames_away as f32).min(cfg.max_grow))
}

fn shift(b: BBox, v: [f32; 4], dt: f32) -> BBox {
    BBox::new(
        b.x0 + v[0] * dt,
        b.y0 + v[1] * dt,
        b.x1 + v[2] * dt,
        b.y1 + v[3] * dt,
    )
}

fn union(a: BBox, b: BBox) -> BBox {
    BBox::new(
        a.x0.min(b.x0),
        a.y0.min(b.y0),
        a.x1.max(b.x1),
        a.y1.max(b.y1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, s: f32) -> Detection {
        Detection {
            bbox: BBox::from_xywh(x, y, s, s),
            score: 0.9,
        }
    }

    /// Run the tracker over per-frame detections; return every emitted frame.
    fn run(cfg: TrackerConfig, frames: &[Vec<Detection>]) -> (Vec<FrameBoxes>, Tracker) {
        let mut t = Tracker::new(cfg);
        let mut out: Vec<FrameBoxes> = frames.iter().filter_map(|d| t.push(d)).collect();
        out.extend(t.finish());
        assert_eq!(out.len(), frames.len());
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.frame, i as u64);
        }
        (out, t)
    }

    fn covers(outer: &BBox, inner: &BBox) -> bool {
        outer.x0 <= inner.x0 + 1e-3
            && outer.y0 <= inner.y0 + 1e-3
            && outer.x1 >= inner.x1 - 1e-3
            && outer.y1 >= inner.y1 - 1e-3
    }

    #[test]
    fn face_missed_for_a_few_frames_stays_masked() {
        // Moves 3 px a frame; detected 0-9 and 15-20, missed 10-14.
        let frames: Vec<Vec<Detection>> = (0..21)
            .map(|i| {
                if (10..15).contains(&i) {
                    vec![]
                } else {
                    vec![det(50.0 + 3.0 * i as f32, 40.0, 40.0)]
                }
            })
            .collect();
        let (out, t) = run(TrackerConfig::default(), &frames);
        for (f, frame) in out.iter().enumerate().take(15).skip(10) {
            let b = &frame.boxes;
            assert_eq!(b.len(), 1, "frame {f}");
            assert_eq!(b[0].source, Source::Interpolated);
            assert_eq!(b[0].track, 0);
            // The true face position is covered.
            let truth = det(50.0 + 3.0 * f as f32, 40.0, 40.0).bbox;
            assert!(b[0].bbox.iou(&truth) > 0.7, "frame {f}: {:?}", b[0].bbox);
        }
        let s = t.summaries();
        assert_eq!(s.len(), 1, "one track, not two: {s:?}");
        assert_eq!(s[0].frames_detected, 16);
        assert_eq!(s[0].frames_filled_by_tracking, 5);
        assert_eq!(s[0].first_frame, 0);
        assert_eq!(s[0].last_frame, 20);
    }

    #[test]
    fn gap_longer_than_lookahead_is_held_by_prediction() {
        let cfg = TrackerConfig {
            lookahead: 2,
            ..TrackerConfig::default()
        };
        let frames: Vec<Vec<Detection>> = (0..20)
            .map(|i| {
                if (8..13).contains(&i) {
                    vec![]
                } else {
                    vec![det(10.0 + 2.0 * i as f32, 10.0, 30.0)]
                }
            })
            .collect();
        let (out, t) = run(cfg, &frames);
        for (f, frame) in out.iter().enumerate().take(13).skip(8) {
            assert_eq!(frame.boxes.len(), 1);
            let truth = det(10.0 + 2.0 * f as f32, 10.0, 30.0).bbox;
            assert!(frame.boxes[0].bbox.iou(&truth) > 0.6, "frame {f}");
            // The last two frames of the gap are within reach of the look-ahead.
            let want = if f < 11 {
                Source::Held
            } else {
                Source::Interpolated
            };
            assert_eq!(frame.boxes[0].source, want, "frame {f}");
        }
        assert_eq!(t.summaries().len(), 1);
    }

    #[test]
    fn masks_start_before_first_detection() {
        let frames: Vec<Vec<Detection>> = (0..20)
            .map(|i| {
                if i >= 10 {
                    vec![det(100.0, 100.0, 20.0)]
                } else {
                    vec![]
                }
            })
            .collect();
        let cfg = TrackerConfig::default();
        let (out, _) = run(cfg, &frames);
        for (f, frame) in out.iter().enumerate().take(10) {
            let want = if f + cfg.lookahead >= 10 { 1 } else { 0 };
            assert_eq!(frame.boxes.len(), want, "frame {f}");
            if want == 1 {
                assert_eq!(frame.boxes[0].source, Source::Backfilled);
                assert!(covers(&frame.boxes[0].bbox, &frames[10][0].bbox));
            }
        }
    }

    #[test]
    fn hold_expires() {
        let frames: Vec<Vec<Detection>> = (0..40)
            .map(|i| {
                if i < 5 {
                    vec![det(10.0, 10.0, 20.0)]
                } else {
                    vec![]
                }
            })
            .collect();
        let cfg = TrackerConfig::default();
        let (out, t) = run(cfg, &frames);
        for (f, frame) in out.iter().enumerate() {
            let masked = f < 5 + cfg.hold;
            assert_eq!(!frame.boxes.is_empty(), masked, "frame {f}");
        }
        let s = t.summaries()[0];
        assert_eq!(s.last_frame, 4 + cfg.hold as u64);
        assert_eq!(s.frames_filled_by_tracking, cfg.hold as u64);
    }

    #[test]
    fn crossing_faces_keep_their_tracks() {
        // Two faces move towards each other along a line and cross at frame 10.
        let frames: Vec<Vec<Detection>> = (0..21)
            .map(|i| {
                let i = i as f32;
                vec![
                    det(10.0 + 8.0 * i, 50.0, 30.0),
                    det(170.0 - 8.0 * i, 58.0, 30.0),
                ]
            })
            .collect();
        let (out, t) = run(TrackerConfig::default(), &frames);
        for f in &out {
            let a = f.boxes.iter().find(|b| b.track == 0).expect("track 0");
            let b = f.boxes.iter().find(|b| b.track == 1).expect("track 1");
            // Track 0 keeps moving right, track 1 left.
            let x = 10.0 + 8.0 * f.frame as f32;
            assert!(
                (a.bbox.x0 - x).abs() < 4.0,
                "frame {}: {:?}",
                f.frame,
                a.bbox
            );
            assert!((b.bbox.x0 - (170.0 - 8.0 * f.frame as f32)).abs() < 4.0);
        }
        assert_eq!(t.summaries().len(), 2);
    }

    #[test]
    fn smoothing_reduces_jitter_and_never_shrinks() {
        // A still face whose detected box jitters by +-3 px.
        let frames: Vec<Vec<Detection>> = (0..30)
            .map(|i| {
                let j = if i % 2 == 0 { 3.0 } else { -3.0 };
                vec![det(100.0 + j, 100.0 - j, 40.0)]
            })
            .collect();
        let (out, _) = run(TrackerConfig::default(), &frames);
        let mut max_step: f32 = 0.0;
        for (f, frame) in out.iter().enumerate() {
            let b = frame.boxes[0].bbox;
            assert!(covers(&b, &frames[f][0].bbox), "frame {f} shrank");
            // Bounded: never more than the jitter larger than the raw box.
            assert!(b.width() <= 40.0 + 6.0 + 1e-3 && b.height() <= 46.0 + 1e-3);
            if f > 0 {
                let c0 = out[f - 1].boxes[0].bbox.center();
                let c1 = b.center();
                max_step = max_step.max((c1.0 - c0.0).abs());
            }
        }
        assert!(max_step < 6.0, "centre still jumps {max_step} px");
    }

    #[test]
    fn off_gives_exactly_the_detections() {
        let frames: Vec<Vec<Detection>> = (0..10)
            .map(|i| {
                if i % 3 == 0 {
                    vec![det(5.0, 5.0, 10.0)]
                } else {
                    vec![]
                }
            })
            .collect();
        let (out, _) = run(TrackerConfig::off(), &frames);
        for (f, frame) in out.iter().enumerate() {
            let want: Vec<BBox> = frames[f].iter().map(|d| d.bbox).collect();
            let got: Vec<BBox> = frame.boxes.iter().map(|b| b.bbox).collect();
            assert_eq!(got, want, "frame {f}");
        }
    }

    #[test]
    fn window_is_bounded() {
        let mut t = Tracker::new(TrackerConfig::default());
        for i in 0..1000 {
            t.push(&[det(i as f32, 0.0, 20.0)]);
            assert!(t.pending() <= TrackerConfig::default().lookahead);
            let cfg = TrackerConfig::default();
            let bound = cfg.lookahead + cfg.smooth + 2;
            assert!(t.tracks.iter().all(|tr| tr.hits.len() <= bound));
        }
    }
}
