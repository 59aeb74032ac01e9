//! Test tooling shared by every crate's tests (feature `test-util`): a fake
//! CenterFace backend that sees red squares as faces, scenes for it, and a
//! detector that returns boxes it is given. No weights needed.

use crate::detect::{Backend, FaceDetector, ModelOutput, Tensor4};
use crate::{BBox, Detection, Error};
use image::{Rgb, RgbImage};

/// Text planted in [`hostile_icc_profile`]; none of it may survive.
pub const ICC_PLANTED: [&[u8]; 4] = crate::icc::testdata::PLANTED;

/// An RGB display profile with sRGB-like colour tags and identifying text in
/// the description, device model, copyright and header device fields, plus a
/// private tag holding JPEG bytes.
pub fn hostile_icc_profile() -> Vec<u8> {
    crate::icc::testdata::profile(true)
}

/// The boxes a [`ScriptedDetector`] reports for one call, or its error.
pub type Script = Result<Vec<BBox>, Error>;

/// A detector that finds the faces a function says, per call (frame).
pub struct ScriptedDetector<F: FnMut(u64, &RgbImage) -> Script + Send> {
    script: F,
    calls: u64,
    config: Option<crate::detect::DetectConfig>,
}

impl<F: FnMut(u64, &RgbImage) -> Script + Send> ScriptedDetector<F> {
    /// `script(call, image)` gives the boxes for call number `call` (from 0),
    /// each reported with score 0.9, or the error to fail with.
    pub fn new(script: F) -> Self {
        ScriptedDetector {
            script,
            calls: 0,
            config: None,
        }
    }

    /// The settings last given to `set_config` (they change nothing else).
    pub fn config(&self) -> Option<&crate::detect::DetectConfig> {
        self.config.as_ref()
    }

    /// How many times `detect` was called.
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

impl<F: FnMut(u64, &RgbImage) -> Script + Send> FaceDetector for ScriptedDetector<F> {
    fn backend_name(&self) -> &str {
        "scripted"
    }

    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, Error> {
        let boxes = (self.script)(self.calls, image)?;
        self.calls += 1;
        Ok(boxes
            .into_iter()
            .map(|bbox| Detection { bbox, score: 0.9 })
            .collect())
    }

    /// Checks and keeps the settings, as a real detector would.
    fn set_config(&mut self, config: &crate::detect::DetectConfig) -> Result<(), Error> {
        config.validate()?;
        self.config = Some(config.clone());
        Ok(())
    }
}

/// What the fake network does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeMode {
    /// Report every red blob as a face.
    Faces,
    /// Outputs at stride 8 instead of 4.
    WrongShape,
    /// One image too few.
    WrongCount,
    /// NaN everywhere.
    Nan,
    /// The backend itself fails.
    Fails,
}

/// A fake CenterFace: every 4-connected blob of red pixels in the input
/// is a face with its bounding box. The peak cell scores 0.9 (0.5 if the
/// blob touches the input's edge, as a cut face would), its four
/// neighbours 0.6, all decoding to the same box. A blob under 8 px on
/// both sides is too small to be sure of: peak 0.1, neighbours 0.05.
pub struct FakeCenterFace {
    mode: FakeMode,
    /// The input shape of every call, in order.
    pub calls: Vec<[usize; 4]>,
}

impl FakeCenterFace {
    /// A fake network behaving as `mode` says.
    pub fn new(mode: FakeMode) -> Self {
        FakeCenterFace {
            mode,
            calls: Vec::new(),
        }
    }
}

/// Bounding boxes `(x0, y0, x1, y1)` of the red blobs of image `i`.
fn blobs(input: &Tensor4, i: usize) -> Vec<(usize, usize, usize, usize)> {
    let [_, _, h, w] = input.shape;
    let plane = h * w;
    let base = i * 3 * plane;
    let red = |k: usize| {
        let d = &input.data;
        d[base + k] > 128.0 && d[base + plane + k] < 64.0 && d[base + 2 * plane + k] < 64.0
    };
    let map: Vec<bool> = (0..plane).map(red).collect();
    crate::audit::fill::regions(&map, w, h, 1)
        .iter()
        .map(|region| {
            region
                .iter()
                .fold((usize::MAX, usize::MAX, 0, 0), |(x0, y0, x1, y1), &k| {
                    let (y, x) = (k / w, k % w);
                    (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1))
                })
        })
        .collect()
}

impl Backend for FakeCenterFace {
    fn name(&self) -> &str {
        "fake"
    }

    fn run(&mut self, input: &Tensor4) -> Result<Vec<Tensor4>, Error> {
        let [n, c, h, w] = input.shape;
        assert_eq!(c, 3);
        assert!(h % 32 == 0 && w % 32 == 0, "input {h}x{w}");
        self.calls.push(input.shape);
        let stride = if self.mode == FakeMode::WrongShape {
            8
        } else {
            4
        };
        let m = if self.mode == FakeMode::WrongCount {
            n - 1
        } else {
            n
        };
        let (h4, w4) = (h / stride, w / stride);
        let mut out = ModelOutput {
            heatmap: Tensor4::zeros([m, 1, h4, w4]),
            scale: Tensor4::zeros([m, 2, h4, w4]),
            offset: Tensor4::zeros([m, 2, h4, w4]),
        };
        match self.mode {
            FakeMode::Fails => return Err(Error::Inference("fake failure".into())),
            FakeMode::Nan => out.heatmap.data.fill(f32::NAN),
            FakeMode::Faces => {}
            _ => return Ok(out.into_vec()),
        }
        let cells = h4 * w4;
        for i in 0..n {
            for (x0, y0, x1, y1) in blobs(input, i) {
                let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
                let (bw, bh) = ((x1 - x0) as f32, (y1 - y0) as f32);
                let cut = x0 == 0 || y0 == 0 || x1 == w || y1 == h;
                let tiny = bw < 8.0 && bh < 8.0;
                let (peak, near) = match (tiny, cut) {
                    (true, _) => (0.1, 0.05),
                    (false, true) => (0.5, 0.6),
                    (false, false) => (0.9, 0.6),
                };
                let (r, c) = ((cy / 4.0) as i64, (cx / 4.0) as i64);
                for (dr, dc, score) in [
                    (0, 0, peak),
                    (0, 1, near),
                    (0, -1, near),
                    (1, 0, near),
                    (-1, 0, near),
                ] {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= h4 as i64 || cc >= w4 as i64 {
                        continue;
                    }
                    let k = rr as usize * w4 + cc as usize;
                    let hk = i * cells + k;
                    if out.heatmap.data[hk] >= score {
                        continue;
                    }
                    out.heatmap.data[hk] = score;
                    let (s, o) = (i * 2 * cells + k, i * 2 * cells + cells + k);
                    out.scale.data[s] = (bh / 4.0).ln();
                    out.scale.data[o] = (bw / 4.0).ln();
                    out.offset.data[s] = cy / 4.0 - rr as f32 - 0.5;
                    out.offset.data[o] = cx / 4.0 - cc as f32 - 0.5;
                }
            }
        }
        Ok(out.into_vec())
    }
}

/// A black image with red squares `(x, y, side)`: faces for [`FakeCenterFace`].
pub fn red_squares(w: u32, h: u32, faces: &[(u32, u32, u32)]) -> RgbImage {
    let mut img = RgbImage::new(w, h);
    for &(x, y, s) in faces {
        for yy in y..y + s {
            for xx in x..x + s {
                img.put_pixel(xx, yy, Rgb([255, 0, 0]));
            }
        }
    }
    img
}

/// A little-endian, uncompressed RGB TIFF with one directory per page, in
/// file order, each page `(pixels, NewSubfileType)`. Tag 254 is written when
/// not 0 (bit 0: a reduced-resolution copy), as tifffile writes a page with
/// `subfiletype=1`.
pub fn tiff_pages(pages: &[(&RgbImage, u32)]) -> Vec<u8> {
    let mut out = b"II*\0\0\0\0\0".to_vec();
    // Where the offset of the next directory goes: the header's, then each
    // directory's last field.
    let mut link = 4;
    for (img, subfile) in pages {
        let (w, h) = img.dimensions();
        let strip = out.len() as u32;
        out.extend_from_slice(img.as_raw());
        out.resize((out.len() + 1) & !1, 0);
        let bits = out.len() as u32;
        out.extend_from_slice(&[8, 0, 8, 0, 8, 0]);
        let ifd = out.len() as u32;
        out[link..link + 4].copy_from_slice(&ifd.to_le_bytes());
        // (tag, type: 3 SHORT or 4 LONG, count, value or offset)
        let mut entries = vec![
            (256u16, 4u16, 1u32, w),
            (257, 4, 1, h),
            (258, 3, 3, bits),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (273, 4, 1, strip),
            (277, 3, 1, 3),
            (278, 4, 1, h),
            (279, 4, 1, w * h * 3),
            (284, 3, 1, 1),
        ];
        if *subfile != 0 {
            entries.insert(0, (254, 4, 1, *subfile));
        }
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, typ, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&typ.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        link = out.len();
        out.extend_from_slice(&[0; 4]);
    }
    out
}
