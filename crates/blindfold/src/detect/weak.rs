//! Weak pictures: when nothing in a picture looks clearly like a face, its
//! faintest boxes are more likely textures than people.
//!
//! A photo of leaves or gravel gets a scatter of small boxes scoring just
//! above the threshold, and no box scoring high; a photo with people nearly
//! always has at least one face that scores high. So when no box in the
//! picture scores at least `top`, boxes under `floor` are dropped. On the
//! WIDER FACE dev set (0.5, 0.25) cost 4 of 4,394 faces (swimmers in caps
//! and goggles) and took the park photo `DSCN0021.jpg` from 19 masks to 2
//! (`bench/RESULTS.md`, "Weak pictures").

use crate::Detection;
use serde::{Deserialize, Serialize};

/// Settings of the weak-picture rule. `top` 0 turns it off.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeakPicture {
    /// A picture with a box scoring at least this keeps all its boxes.
    pub top: f32,
    /// In other pictures, boxes scoring under this are dropped.
    pub floor: f32,
}

impl Default for WeakPicture {
    fn default() -> Self {
        WeakPicture::OFF
    }
}

impl WeakPicture {
    /// Every picture keeps all its boxes.
    pub const OFF: WeakPicture = WeakPicture {
        top: 0.0,
        floor: 0.0,
    };

    /// The values chosen on the WIDER FACE dev set.
    pub const RECOMMENDED: WeakPicture = WeakPicture {
        top: 0.5,
        floor: 0.25,
    };

    /// Are the values usable (both within 0..1)?
    pub fn is_valid(&self) -> bool {
        (0.0..=1.0).contains(&self.top) && (0.0..=1.0).contains(&self.floor)
    }

    /// The detections of one picture after the rule. Order is kept.
    pub fn apply(&self, mut dets: Vec<Detection>) -> Vec<Detection> {
        if self.top > 0.0 && !dets.iter().any(|d| d.score >= self.top) {
            dets.retain(|d| d.score >= self.floor);
        }
        dets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BBox;

    fn det(score: f32) -> Detection {
        Detection {
            bbox: BBox::from_xywh(10.0, 20.0, 12.0, 15.0),
            score,
        }
    }

    fn scores(v: Vec<Detection>) -> Vec<f32> {
        v.into_iter().map(|d| d.score).collect()
    }

    #[test]
    fn a_strong_box_keeps_the_weak_ones() {
        let dets = vec![det(0.16), det(0.5), det(0.2)];
        let kept = WeakPicture::RECOMMENDED.apply(dets);
        assert_eq!(scores(kept), vec![0.16, 0.5, 0.2]);
    }

    #[test]
    fn without_a_strong_box_the_faintest_go() {
        let dets = vec![det(0.16), det(0.49), det(0.25), det(0.24)];
        let kept = WeakPicture::RECOMMENDED.apply(dets);
        assert_eq!(scores(kept), vec![0.49, 0.25]);
    }

    #[test]
    fn off_keeps_everything() {
        let dets = vec![det(0.16), det(0.2)];
        assert_eq!(scores(WeakPicture::OFF.apply(dets)), vec![0.16, 0.2]);
        assert!(WeakPicture::OFF.is_valid());
        assert!(
            !WeakPicture {
                top: 1.5,
                floor: 0.2
            }
            .is_valid()
        );
    }
}
