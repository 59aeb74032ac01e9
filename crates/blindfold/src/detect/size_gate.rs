//! A size-aware threshold: tall boxes must score higher than small ones.
//!
//! Real faces that are large in the picture are easy for the detector and
//! nearly always score high; tiny faces score low. The false positives that
//! cost most collateral (masked pixels that are not faces) are the few large
//! boxes with a low score. So after fusion a box must score at least
//! [`min_score_for_height`]: the detection threshold for boxes up to
//! `large_px / 4` tall, rising linearly in log(height) over those two octaves
//! to `large_threshold` at `large_px`, and staying there above. Heights are in
//! original-image pixels, before the mask grows.
//!
//! On the WIDER FACE dev set (scale 1.25) it let the threshold drop from
//! 0.15 to 0.13 with less of everything: leaked 6.1% -> 5.1%, leaked >= 32 px
//! 3.6% -> 3.4%, collateral 0.60% -> 0.48% (see `bench/RESULTS.md`,
//! "Size-aware threshold").

use crate::Detection;
use serde::{Deserialize, Serialize};

/// Where the size gate starts rising, as a fraction of `large_px` (two
/// octaves below it).
const RAMP_START: f32 = 0.25;

/// Settings of the size-aware threshold. The default is off: every box
/// keeps the plain detection threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeGate {
    /// Box height (original-image pixels) from which a box must score at
    /// least `large_threshold`. The minimum score starts rising at a quarter
    /// of this height. 0 turns the gate off.
    pub large_px: f32,
    /// Minimum score for boxes at least `large_px` tall. At or below the
    /// detection threshold the gate does nothing.
    pub large_threshold: f32,
    /// A box that at least this many passes saw (scales and overviews; a
    /// mirrored image is the same pass) needs only the detection threshold,
    /// whatever its height: a large face is found at several scales, a
    /// texture that looks like one mostly at one. 0 turns this off.
    #[serde(default)]
    pub agree: u32,
    /// Boxes of any height scoring below this are kept only when `agree`
    /// passes saw them (a leaf pattern mostly fools one pass). At or below
    /// the detection threshold, or with `agree` 0, it does nothing.
    #[serde(default)]
    pub confirm_below: f32,
}

impl Default for SizeGate {
    fn default() -> Self {
        SizeGate::OFF
    }
}

impl SizeGate {
    /// No gate: every box keeps the detection threshold.
    pub const OFF: SizeGate = SizeGate {
        large_px: 0.0,
        large_threshold: 0.0,
        agree: 0,
        confirm_below: 0.0,
    };

    /// The values chosen on the WIDER FACE dev set: 0.4 from 512 px tall,
    /// rising from 128 px, unless two passes saw the box.
    pub const RECOMMENDED: SizeGate = SizeGate {
        large_px: 512.0,
        large_threshold: 0.4,
        agree: 2,
        confirm_below: 0.0,
    };

    /// Does the gate change anything for this detection threshold?
    pub fn is_active(&self, threshold: f32) -> bool {
        (self.large_px > 0.0 && self.large_threshold > threshold) || self.confirms(threshold)
    }

    /// Do weak boxes need agreeing passes at this detection threshold?
    fn confirms(&self, threshold: f32) -> bool {
        self.agree > 0 && self.confirm_below > threshold
    }
}

/// The score a box `h` pixels tall needs to be kept: `threshold` up to
/// `large_px / 4`, `large_threshold` from `large_px`, linear in `ln(h)`
/// between. Never below `threshold`.
pub fn min_score_for_height(h: f32, threshold: f32, gate: &SizeGate) -> f32 {
    if !(gate.large_px > 0.0 && gate.large_threshold > threshold) {
        return threshold;
    }
    let lo = gate.large_px * RAMP_START;
    let f = if h.is_nan() || h <= lo {
        0.0
    } else if h >= gate.large_px {
        1.0
    } else {
        (h / lo).ln() / (gate.large_px / lo).ln()
    };
    threshold + f * (gate.large_threshold - threshold)
}

/// Drop the detections that score below [`min_score_for_height`] of their
/// box height, unless `gate.agree` is set and `support` (how many passes saw
/// the box) reaches it. `support` is asked only for those boxes. Order is
/// kept.
pub fn apply(
    mut dets: Vec<Detection>,
    threshold: f32,
    gate: &SizeGate,
    mut support: impl FnMut(&Detection) -> u32,
) -> Vec<Detection> {
    if gate.is_active(threshold) {
        let confirm = gate.confirms(threshold);
        dets.retain(|d| {
            if confirm && d.score < gate.confirm_below {
                return support(d) >= gate.agree;
            }
            d.score >= min_score_for_height(d.bbox.height(), threshold, gate)
                || (gate.agree > 0 && support(d) >= gate.agree)
        });
    }
    dets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BBox;

    fn det(h: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox::from_xywh(10.0, 20.0, h * 0.8, h),
            score,
        }
    }

    const G: SizeGate = SizeGate {
        large_px: 256.0,
        large_threshold: 0.4,
        agree: 0,
        confirm_below: 0.0,
    };

    fn none(_: &Detection) -> u32 {
        panic!("support asked without agree")
    }

    #[test]
    fn small_boxes_keep_the_threshold() {
        for h in [0.0, 4.0, 32.0, 64.0] {
            assert_eq!(min_score_for_height(h, 0.12, &G), 0.12, "h {h}");
        }
    }

    #[test]
    fn large_boxes_need_the_large_threshold() {
        for h in [256.0, 257.0, 1000.0, f32::INFINITY] {
            assert!(
                (min_score_for_height(h, 0.12, &G) - 0.4).abs() < 1e-6,
                "h {h}"
            );
        }
    }

    #[test]
    fn ramp_is_linear_in_log_height() {
        // 128 px is one octave of the two between 64 and 256: half way.
        let m = min_score_for_height(128.0, 0.1, &G);
        assert!((m - 0.25).abs() < 1e-6, "{m}");
        let mut last = 0.0;
        for h in (60..300).map(|h| h as f32) {
            let m = min_score_for_height(h, 0.1, &G);
            assert!(m >= last, "not monotone at {h}");
            last = m;
        }
    }

    #[test]
    fn off_or_below_threshold_changes_nothing() {
        assert_eq!(min_score_for_height(500.0, 0.2, &SizeGate::default()), 0.2);
        // A large threshold under the detection threshold never lowers it.
        let low = SizeGate {
            large_px: 256.0,
            large_threshold: 0.1,
            agree: 0,
            confirm_below: 0.0,
        };
        assert_eq!(min_score_for_height(500.0, 0.2, &low), 0.2);
        let dets = vec![det(500.0, 0.21), det(10.0, 0.3)];
        assert_eq!(apply(dets.clone(), 0.2, &SizeGate::OFF, none), dets);
        assert_eq!(apply(dets.clone(), 0.2, &low, none), dets);
    }

    #[test]
    fn apply_drops_weak_large_boxes_only() {
        let dets = vec![
            det(300.0, 0.9),  // large, strong: kept
            det(300.0, 0.3),  // large, weak: dropped
            det(20.0, 0.15),  // small, weak: kept
            det(128.0, 0.24), // mid, needs 0.25 at t 0.1: dropped
            det(128.0, 0.26), // kept
        ];
        let kept = apply(dets.clone(), 0.1, &G, none);
        assert_eq!(kept, vec![dets[0], dets[2], dets[4]]);
    }

    #[test]
    fn agreeing_passes_keep_a_weak_large_box() {
        let g = SizeGate { agree: 2, ..G };
        let dets = vec![
            det(300.0, 0.9), // strong: kept without asking
            det(300.0, 0.3), // weak, seen by 2 passes: kept
            det(301.0, 0.3), // weak, seen by 1 pass: dropped
            det(20.0, 0.15), // small: kept without asking
        ];
        let mut asked = Vec::new();
        let kept = apply(dets.clone(), 0.1, &g, |d| {
            asked.push(d.bbox.height());
            if d.bbox.height() == 300.0 { 2 } else { 1 }
        });
        assert_eq!(kept, vec![dets[0], dets[1], dets[3]]);
        assert_eq!(asked, vec![300.0, 301.0]);
    }

    #[test]
    fn weak_boxes_of_any_height_need_agreement_below_confirm() {
        let g = SizeGate {
            agree: 2,
            confirm_below: 0.3,
            ..SizeGate::OFF
        };
        assert!(g.is_active(0.15) && !g.is_active(0.3));
        let dets = vec![
            det(20.0, 0.5),  // strong: kept
            det(20.0, 0.2),  // weak, 2 passes: kept
            det(21.0, 0.2),  // weak, 1 pass: dropped
            det(300.0, 0.2), // weak and large, 1 pass: dropped
        ];
        let one = |d: &Detection| if d.bbox.height() == 20.0 { 2 } else { 1 };
        assert_eq!(apply(dets.clone(), 0.15, &g, one), vec![dets[0], dets[1]]);
        // Without `agree` nothing needs confirming.
        let off = SizeGate { agree: 0, ..g };
        assert_eq!(apply(dets.clone(), 0.15, &off, none), dets);
    }

    #[test]
    fn serde_round_trip_and_default_is_off() {
        // Settings saved before `agree` existed still read.
        let g: SizeGate =
            serde_json::from_str(r#"{"large_px":512,"large_threshold":0.4}"#).unwrap();
        assert_eq!(
            g,
            SizeGate {
                agree: 0,
                ..SizeGate::RECOMMENDED
            }
        );
        let back: SizeGate = serde_json::from_str(&serde_json::to_string(&G).unwrap()).unwrap();
        assert_eq!(back, G);
        assert_eq!(SizeGate::default(), SizeGate::OFF);
        assert!(!SizeGate::default().is_active(0.0));
    }
}
