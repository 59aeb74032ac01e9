//! From flags to an engine: the detection settings (defaults, the `--fast`
//! preset and overrides) and the backend. The rules live in the libraries:
//! presets in `blindfold::detect`, files in `blindfold-models`, backend
//! choice and the detector pool in `blindfold_infer::select`.

use crate::cli::{BackendArg, DetectArgs, EngineArgs, LookArgs, OutputArgs, PrecisionArg};
use anyhow::{Context, Result, bail};
use blindfold::anonymize::MaskSpec;
use blindfold::codec::{DecodeOptions, EncodeOptions};
use blindfold::detect::{DetectConfig, SizeGate, WeakPicture};
use blindfold::pipeline::Options;
use blindfold::track::TrackerConfig;
use blindfold_infer::select::{Choice, Engine, PrecisionChoice, num_cpus};
use blindfold_models::EngineSource;

/// The detection settings from the defaults, the `--fast` preset and flags.
pub fn detect_config(a: &DetectArgs) -> Result<DetectConfig> {
    let mut c = if a.fast {
        DetectConfig::fast()
    } else {
        DetectConfig::default()
    };
    if let Some(t) = a.threshold {
        c.threshold = t;
    }
    if let Some(s) = &a.scales {
        c.scales = s.clone();
    }
    if let Some(o) = a.overview {
        c.overview = o;
    }
    if let Some(o) = a.coarse_overview {
        c.coarse_overview = o;
    }
    if let Some(m) = a.downscaled_min {
        c.downscaled_min = m;
    }
    if let Some(t) = a.tile {
        c.tile = t;
    }
    if let Some(t) = a.upscaled_tile {
        c.upscaled_tile = t;
    }
    if let Some(g) = a.upscaled_gate {
        c.upscaled_gate = g;
    }
    if let Some(g) = &a.size_gate {
        c.size_gate = size_gate(g)?;
    }
    if let Some(w) = &a.weak_picture {
        c.weak_picture = weak_picture(w)?;
    }
    if let Some(f) = a.flip {
        c.flip = f;
    }
    if let Some(f) = a.flip_shrunk {
        c.flip_shrunk = f;
    }
    if let Some(f) = a.fusion {
        c.fusion = f.into();
    }
    c.validate().context("bad detection setting")?;
    Ok(c)
}

/// The photo settings from the masking and output flags.
pub fn photo_options(look: &LookArgs, out: &OutputArgs) -> Result<Options> {
    let mask = MaskSpec {
        shape: look.shape.into(),
        grow: look.grow.unwrap_or(MaskSpec::default().grow),
    };
    mask.validate().context("--grow")?;
    Ok(Options {
        decode: DecodeOptions {
            max_pixels: out
                .max_pixels
                .unwrap_or(DecodeOptions::default().max_pixels),
            accept_damaged: out.accept_damaged,
        },
        mask,
        mode: look.mode.into(),
        encode: EncodeOptions {
            jpeg_quality: out.quality,
            keep_icc: !out.drop_icc,
            keep_icc_as_is: out.keep_icc_as_is,
            jpeg_lossless: !out.reencode,
        },
        seed: 0,
        first_frame: out.first_frame,
        tracking: TrackerConfig::default(),
    })
}

/// The backend choice from `--backend`.
pub fn choice(b: BackendArg) -> Choice {
    match b {
        BackendArg::Auto => Choice::Auto,
        BackendArg::Ort => Choice::Ort,
        BackendArg::OrtCuda => Choice::OrtCuda,
        BackendArg::Rten => Choice::Rten,
    }
}

/// `--precision`.
pub fn precision(p: PrecisionArg) -> PrecisionChoice {
    match p {
        PrecisionArg::Auto => PrecisionChoice::Auto,
        PrecisionArg::Fp32 => PrecisionChoice::Fp32,
        PrecisionArg::Int8 => PrecisionChoice::Int8,
    }
}

/// Where the engine's files come from and what it runs on, from the flags.
pub fn source(a: &EngineArgs) -> EngineSource {
    EngineSource {
        model: a.model.clone(),
        ort_lib: a.ort_lib.clone(),
        offline: a.offline,
        choice: choice(a.backend),
        precision: precision(a.precision),
    }
}

/// Find the model (and ONNX Runtime, unless rten was asked for) through the
/// model store, and choose the backend and precision. `jobs` detectors will
/// run at once, sharing the CPUs.
pub fn resolve(a: &EngineArgs, jobs: usize, say: &dyn Fn(&str)) -> Result<Engine> {
    let threads = (num_cpus() / jobs.max(1)).max(1);
    Ok(blindfold_models::open_engine(&source(a), threads, say)?)
}

/// `--size-gate PX,SCORE[,PASSES[,CONFIRM]]`, or `0` for off.
fn size_gate(v: &[f32]) -> Result<SizeGate> {
    let agree = |n: f32| (n >= 0.0 && n.fract() == 0.0).then_some(n as u32);
    let g = |large_px, large_threshold, agree, confirm_below| SizeGate {
        large_px,
        large_threshold,
        agree,
        confirm_below,
    };
    match *v {
        [0.0] => Ok(SizeGate::OFF),
        [px, t] => Ok(g(px, t, 0, 0.0)),
        [px, t, n] if agree(n).is_some() => Ok(g(px, t, n as u32, 0.0)),
        [px, t, n, c] if agree(n).is_some() => Ok(g(px, t, n as u32, c)),
        _ => bail!("--size-gate takes 0 (off) or PX,SCORE[,PASSES[,CONFIRM]]"),
    }
}

/// `--weak-picture TOP,FLOOR`, or `0` for off.
fn weak_picture(v: &[f32]) -> Result<WeakPicture> {
    match *v {
        [0.0] => Ok(WeakPicture::OFF),
        [top, floor] => Ok(WeakPicture { top, floor }),
        _ => bail!("--weak-picture takes 0 (off) or TOP,FLOOR"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_gate_flag() {
        assert_eq!(size_gate(&[0.0]).unwrap(), SizeGate::OFF);
        let g = size_gate(&[256.0, 0.3]).unwrap();
        assert_eq!((g.large_px, g.large_threshold, g.agree), (256.0, 0.3, 0));
        assert_eq!(size_gate(&[512.0, 0.4, 2.0]).unwrap().agree, 2);
        assert_eq!(
            size_gate(&[512.0, 0.4, 2.0, 0.3]).unwrap().confirm_below,
            0.3
        );
        for bad in [
            &[1.0][..],
            &[512.0, 0.4, 1.5],
            &[512.0, 0.4, -1.0],
            &[512.0, 0.4, 2.5, 0.3],
            &[1.0, 2.0, 3.0, 4.0, 5.0],
        ] {
            assert!(size_gate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn weak_picture_flag() {
        assert_eq!(weak_picture(&[0.0]).unwrap(), WeakPicture::OFF);
        let w = weak_picture(&[0.5, 0.25]).unwrap();
        assert_eq!(w, WeakPicture::RECOMMENDED);
        assert!(weak_picture(&[0.5]).is_err());
        assert!(weak_picture(&[0.5, 0.2, 0.1]).is_err());
        // Out-of-range values are refused by the settings' check.
        let c = DetectConfig {
            weak_picture: weak_picture(&[1.5, 0.2]).unwrap(),
            ..DetectConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
