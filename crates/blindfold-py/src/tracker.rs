//! `blindfold.Tracker`: the core's face tracker over a sequence of frames.

use blindfold::track::{self, FrameBoxes, Source, TrackerConfig};
use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::convert;
use crate::errors::ConfigError;

/// One tracked box: ``(x0, y0, x1, y1, track, source)``.
type BoxTuple = (f32, f32, f32, f32, u32, &'static str);

/// Keeps faces masked across frames where the detector misses them: feed
/// each frame's detections in order with :meth:`push`; each call may return
/// an earlier frame's final boxes (``lookahead`` frames late); call
/// :meth:`finish` after the last frame for the rest.
#[pyclass(module = "blindfold")]
pub struct Tracker {
    inner: track::Tracker,
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Detected => "detected",
        Source::Interpolated => "interpolated",
        Source::Held => "held",
        Source::Backfilled => "backfilled",
    }
}

fn frame(f: FrameBoxes) -> (u64, Vec<BoxTuple>) {
    let boxes = f
        .boxes
        .iter()
        .map(|b| {
            let r = b.bbox;
            (r.x0, r.y0, r.x1, r.y1, b.track, source_name(b.source))
        })
        .collect();
    (f.frame, boxes)
}

#[pymethods]
impl Tracker {
    /// A tracker; the defaults are the CLI's for videos.
    #[new]
    #[pyo3(signature = (hold=None, lookahead=None, smooth=None, iou_match=None, grow_per_frame=None, max_grow=None))]
    fn new(
        hold: Option<usize>,
        lookahead: Option<usize>,
        smooth: Option<usize>,
        iou_match: Option<f32>,
        grow_per_frame: Option<f32>,
        max_grow: Option<f32>,
    ) -> PyResult<Tracker> {
        let d = TrackerConfig::default();
        let cfg = TrackerConfig {
            hold: hold.unwrap_or(d.hold),
            lookahead: lookahead.unwrap_or(d.lookahead),
            smooth: smooth.unwrap_or(d.smooth),
            iou_match: iou_match.unwrap_or(d.iou_match),
            grow_per_frame: grow_per_frame.unwrap_or(d.grow_per_frame),
            max_grow: max_grow.unwrap_or(d.max_grow),
        };
        let unit = 0.0..=1.0;
        if !unit.contains(&cfg.iou_match)
            || !unit.contains(&cfg.grow_per_frame)
            || !(0.0..=4.0).contains(&cfg.max_grow)
        {
            return Err(ConfigError::new_err(
                "iou_match and grow_per_frame must be within 0..1, max_grow within 0..4",
            ));
        }
        Ok(Tracker {
            inner: track::Tracker::new(cfg),
        })
    }

    /// Add the next frame's detections (``[(x0, y0, x1, y1, score), ...]``,
    /// as :meth:`Anonymizer.detect` returns). Returns ``(frame_index,
    /// boxes)`` for the frame that is now final, or ``None``; each box is
    /// ``(x0, y0, x1, y1, track, source)``.
    fn push(&mut self, detections: &Bound<'_, PyAny>) -> PyResult<Option<(u64, Vec<BoxTuple>)>> {
        let dets = convert::boxes(detections)?;
        Ok(self.inner.push(&dets).map(frame))
    }

    /// The frames still held back, after the last :meth:`push`.
    fn finish(&mut self) -> Vec<(u64, Vec<BoxTuple>)> {
        self.inner.finish().into_iter().map(frame).collect()
    }

    /// Frames pushed but not yet returned.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// What each track did so far (frames only; nothing about the face).
    fn summaries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.inner.summaries())
            .map_err(|e| crate::errors::Error::new_err(format!("summaries: {e}")))?;
        convert::json(py, &v)
    }
}
