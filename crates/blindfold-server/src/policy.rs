//! What a client may change. The operator's flags set the floor of
//! protection; a request may strengthen it (a lower threshold, more grow,
//! solid instead of noise, a rectangle instead of an ellipse) but not weaken
//! it unless the operator allowed that ([`ClientBounds`]): such a request
//! gets 403 and nothing is processed.

use crate::AppError;
use blindfold::anonymize::{Mode, Shape};
use blindfold::detect::DetectConfig;
use blindfold::pipeline::Options;
use serde::Serialize;

/// The weakening settings the operator lets clients ask for. The default
/// allows none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientBounds {
    /// Highest `threshold` a request may ask for when that is above the
    /// service's (`None`: none above it).
    pub max_threshold: Option<f32>,
    /// Smallest `grow` a request may ask for when that is below the
    /// service's (`None`: none below it).
    pub min_grow: Option<f32>,
    /// `mode=blur` and `mode=pixelate` when the service's fill is noise or solid.
    pub reversible: bool,
    /// `fast=true` when the service does not run the fast preset itself.
    pub fast: bool,
    /// `shape=ellipse` when the service's shape is the whole box.
    pub ellipse: bool,
}

impl ClientBounds {
    /// Everything allowed (`--allow-client-settings`).
    pub fn any() -> ClientBounds {
        ClientBounds {
            max_threshold: Some(1.0),
            min_grow: Some(0.0),
            reversible: true,
            fast: true,
            ellipse: true,
        }
    }

    /// Refuse (403) a request whose settings are weaker than the service's
    /// (`base_cfg`, `base`) beyond what these bounds allow.
    pub fn check(
        &self,
        cfg: &DetectConfig,
        opts: &Options,
        fast: bool,
        base_cfg: &DetectConfig,
        base: &Options,
    ) -> Result<(), AppError> {
        let refuse = |what: String| {
            Err(AppError::Forbidden(format!(
                "{what} would lower the protection this service is set to give; the \
                 operator decides that (blindfold serve --allow-client-settings, or a bound)"
            )))
        };
        if fast && !self.fast && *base_cfg != DetectConfig::fast() {
            return refuse("fast=true".into());
        }
        // With `fast` allowed, the fast preset's own threshold is allowed too.
        let own = match fast {
            true => base_cfg.threshold.max(DetectConfig::fast().threshold),
            false => base_cfg.threshold,
        };
        let threshold_cap = self.max_threshold.unwrap_or(0.0).max(own);
        if cfg.threshold > threshold_cap {
            return refuse(format!(
                "threshold {} (the service's is {}{})",
                cfg.threshold,
                base_cfg.threshold,
                bound_note(self.max_threshold, "at most")
            ));
        }
        let grow_floor = self.min_grow.unwrap_or(f32::INFINITY).min(base.mask.grow);
        if opts.mask.grow < grow_floor {
            return refuse(format!(
                "grow {} (the service's is {}{})",
                opts.mask.grow,
                base.mask.grow,
                bound_note(self.min_grow, "at least")
            ));
        }
        if opts.mode.is_reversible() && !base.mode.is_reversible() && !self.reversible {
            return refuse(format!(
                "mode {} (reversible; the service's is {})",
                name(opts.mode),
                name(base.mode)
            ));
        }
        if opts.mask.shape == Shape::Ellipse && base.mask.shape == Shape::Rect && !self.ellipse {
            return refuse("shape ellipse (the service's is rect)".into());
        }
        Ok(())
    }
}

fn bound_note(bound: Option<f32>, how: &str) -> String {
    bound.map_or_else(String::new, |b| format!("; clients may ask for {how} {b}"))
}

fn name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The settings a request ran with, echoed in its report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Effective {
    /// Fill.
    pub mode: Mode,
    /// Mask shape.
    pub shape: Shape,
    /// Mask growth.
    pub grow: f32,
    /// Detector threshold.
    pub threshold: f32,
    /// Whether the fast preset ran.
    pub fast: bool,
    /// Largest photo or frame, in pixels.
    pub max_pixels: u64,
    /// Only the first frame of an animation or page of a TIFF.
    pub first_frame: bool,
    /// A JPEG re-encoded from its pixels instead of edited in the DCT domain.
    pub reencode: bool,
}

impl Effective {
    /// The settings of `cfg` and `opts`.
    pub fn of(cfg: &DetectConfig, opts: &Options, fast: bool) -> Effective {
        Effective {
            mode: opts.mode,
            shape: opts.mask.shape,
            grow: opts.mask.grow,
            threshold: cfg.threshold,
            fast,
            max_pixels: opts.decode.max_pixels,
            first_frame: opts.first_frame,
            reencode: !opts.encode.jpeg_lossless,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(b: &ClientBounds, f: impl FnOnce(&mut DetectConfig, &mut Options)) -> bool {
        let (base_cfg, base) = (DetectConfig::default(), Options::default());
        let (mut cfg, mut opts) = (base_cfg.clone(), base);
        f(&mut cfg, &mut opts);
        b.check(&cfg, &opts, false, &base_cfg, &base).is_ok()
    }

    #[test]
    fn weaker_settings_need_the_operator_and_stronger_ones_do_not() {
        let none = ClientBounds::default();
        assert!(check(&none, |_, _| {}));
        assert!(check(&none, |c, _| c.threshold = 0.05));
        assert!(check(&none, |_, o| o.mask.grow = 1.0));
        assert!(check(&none, |_, o| o.mode = Mode::Solid));
        assert!(check(&none, |_, o| o.mask.shape = Shape::Rect));
        assert!(!check(&none, |c, _| c.threshold = 0.99999));
        assert!(!check(&none, |_, o| o.mask.grow = 0.0));
        assert!(!check(&none, |_, o| o.mode = Mode::Blur));
        assert!(!check(&none, |_, o| o.mode = Mode::Pixelate));
        let (base_cfg, base) = (DetectConfig::default(), Options::default());
        assert!(
            none.check(&DetectConfig::fast(), &base, true, &base_cfg, &base)
                .is_err()
        );
        let any = ClientBounds::any();
        assert!(check(&any, |c, _| c.threshold = 0.99999));
        assert!(check(&any, |_, o| o.mask.grow = 0.0));
        assert!(check(&any, |_, o| o.mode = Mode::Blur));
        assert!(
            any.check(&DetectConfig::fast(), &base, true, &base_cfg, &base)
                .is_ok()
        );
        let bounded = ClientBounds {
            max_threshold: Some(0.5),
            min_grow: Some(0.1),
            ..ClientBounds::default()
        };
        assert!(check(&bounded, |c, _| c.threshold = 0.5));
        assert!(!check(&bounded, |c, _| c.threshold = 0.51));
        assert!(check(&bounded, |_, o| o.mask.grow = 0.1));
        assert!(!check(&bounded, |_, o| o.mask.grow = 0.05));
        // A bound below the service's own value takes nothing away.
        let low = ClientBounds {
            max_threshold: Some(0.01),
            min_grow: Some(3.0),
            ..ClientBounds::default()
        };
        assert!(check(&low, |_, _| {}));
    }

    #[test]
    fn ellipse_is_weaker_than_the_whole_box() {
        let (base_cfg, mut base) = (DetectConfig::default(), Options::default());
        base.mask.shape = Shape::Rect;
        let opts = Options::default();
        let none = ClientBounds::default();
        assert!(
            none.check(&base_cfg, &opts, false, &base_cfg, &base)
                .is_err()
        );
        assert!(
            ClientBounds::any()
                .check(&base_cfg, &opts, false, &base_cfg, &base)
                .is_ok()
        );
    }
}
