//! Choosing the backend, loading the model, and a pool of detectors so that
//! several images can be processed at once.

use crate::cli::{BackendArg, DetectArgs, EngineArgs};
use crate::model;
use anyhow::{Context, Result, bail};
use blindfold::detect::{CenterFace, DetectConfig, FaceDetector, SizeGate};
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

/// The detection settings from the defaults, the `--fast` preset and flags.
pub fn detect_config(a: &DetectArgs) -> Result<DetectConfig> {
    let mut c = if a.fast {
        fast_config()
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
    if let Some(f) = a.flip {
        c.flip = f;
    }
    if let Some(f) = a.fusion {
        c.fusion = f.into();
    }
    c.validate().context("bad detection setting")?;
    Ok(c)
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

/// The `--fast` preset: one pass on the whole image shrunk to a 640 px long
/// side (smaller images run at native size), at a lower threshold.
pub fn fast_config() -> DetectConfig {
    DetectConfig {
        threshold: 0.1,
        scales: vec![],
        overview: 640,
        coarse_overview: 0,
        flip: false,
        ..DetectConfig::default()
    }
}

/// Where the model and runtime come from, resolved once.
pub struct Engine {
    model: PathBuf,
    ort_lib: Option<PathBuf>,
    /// The backend that will run ("ort" or "rten").
    pub backend: &'static str,
    /// Why ORT is not used, when `auto` fell back to rten.
    pub fallback_reason: Option<String>,
    threads: usize,
    /// The ORT backend made to check that ORT runs, kept for the first
    /// detector so the model is not loaded twice.
    #[cfg(feature = "ort")]
    spare: Mutex<Option<blindfold_infer::ort_backend::OrtBackend>>,
}

impl Engine {
    /// Resolve the model and the backend. `jobs` detectors will run at once.
    pub fn resolve(a: &EngineArgs, jobs: usize, say: &dyn Fn(&str)) -> Result<Engine> {
        let model = model::model_path(a.model.as_deref(), !a.offline, say)?;
        let threads = (num_cpus() / jobs.max(1)).max(1);
        let mut engine = Engine {
            model,
            ort_lib: None,
            backend: "rten",
            fallback_reason: None,
            threads,
            #[cfg(feature = "ort")]
            spare: Mutex::new(None),
        };
        match a.backend {
            BackendArg::Rten => {}
            BackendArg::Ort | BackendArg::Auto => {
                let found = model::ort_lib_path(a.ort_lib.as_deref(), !a.offline, say);
                let probe = found.and_then(|lib| match lib {
                    Some(lib) => probe_ort(&engine, &lib).map(|_| lib),
                    None => bail!("no ONNX Runtime library (run `blindfold model fetch`)"),
                });
                match (probe, a.backend) {
                    (Ok(lib), _) => {
                        engine.ort_lib = Some(lib);
                        engine.backend = "ort";
                    }
                    (Err(e), BackendArg::Ort) => return Err(e.context("--backend ort")),
                    (Err(e), _) => engine.fallback_reason = Some(format!("{e:#}")),
                }
            }
        }
        Ok(engine)
    }

    /// A new detector with `cfg`, using the share of the CPUs meant for one
    /// of the parallel photo workers.
    pub fn detector(&self, cfg: &DetectConfig) -> Result<Box<dyn FaceDetector>> {
        self.detector_with_threads(cfg, self.threads)
    }

    /// A new detector with `cfg` running on `threads` threads (videos are
    /// processed one at a time, so their detector gets every CPU).
    pub fn detector_with_threads(
        &self,
        cfg: &DetectConfig,
        threads: usize,
    ) -> Result<Box<dyn FaceDetector>> {
        if let Some(lib) = &self.ort_lib {
            #[cfg(feature = "ort")]
            {
                let spare = match threads == self.threads {
                    true => self.spare.lock().expect("spare lock").take(),
                    false => None,
                };
                let b = match spare {
                    Some(b) => b,
                    None => ort_backend(&self.model, lib, threads)?,
                };
                return Ok(Box::new(CenterFace::new(b, cfg.clone())?));
            }
            #[cfg(not(feature = "ort"))]
            bail!("this build has no ONNX Runtime support ({})", lib.display());
        }
        #[cfg(feature = "rten")]
        {
            let b = blindfold_infer::rten_backend::RtenBackend::from_file(&self.model)
                .with_context(|| format!("cannot load the model {}", self.model.display()))?
                .with_threads(threads);
            Ok(Box::new(CenterFace::new(b, cfg.clone())?))
        }
        #[cfg(not(feature = "rten"))]
        bail!("this build has no rten backend; use --backend ort")
    }
}

/// Check that ORT loads and takes the model; the backend is kept as the
/// engine's spare for the first detector.
fn probe_ort(engine: &Engine, lib: &std::path::Path) -> Result<()> {
    #[cfg(feature = "ort")]
    {
        let b = ort_backend(&engine.model, lib, engine.threads)?;
        *engine.spare.lock().expect("spare lock") = Some(b);
        Ok(())
    }
    #[cfg(not(feature = "ort"))]
    {
        let _ = (engine, lib);
        bail!("this build has no ONNX Runtime support")
    }
}

#[cfg(feature = "ort")]
fn ort_backend(
    model: &std::path::Path,
    lib: &std::path::Path,
    threads: usize,
) -> Result<blindfold_infer::ort_backend::OrtBackend> {
    blindfold_infer::ort_backend::OrtBackend::from_file(model, lib, threads)
        .with_context(|| format!("cannot start ONNX Runtime from {}", lib.display()))
}

/// Memory the network takes per input pixel, with a margin (measured: about
/// 350 bytes with ONNX Runtime and rten; see bench/RESULTS.md, "Memory").
const BYTES_PER_PIXEL: u64 = 400;

/// The most memory one photo worker may need with `cfg`: its largest network
/// input (a tile, or the overview pass) plus 100 MiB for the image and buffers.
pub fn worker_memory(cfg: &DetectConfig) -> u64 {
    let side = match cfg.scales.is_empty() {
        true => cfg.overview,
        false => cfg.tile.max(cfg.overview),
    };
    let side = u64::from(side);
    side * side * BYTES_PER_PIXEL + (100 << 20)
}

/// The default number of photo workers: one per CPU, but no more than
/// `available` bytes of memory hold at `per_worker` each (at least one).
pub fn default_workers(cpus: usize, available: Option<u64>, per_worker: u64) -> usize {
    match available {
        Some(m) => cpus.min((m / per_worker.max(1)) as usize).max(1),
        None => cpus.max(1),
    }
}

/// `MemAvailable` from the text of /proc/meminfo, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The memory available to new processes, where the system says (Linux).
pub fn mem_available() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// Number of CPUs available.
pub fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Detectors shared by worker threads: each takes one, uses it, puts it back.
pub struct Pool {
    free: Mutex<Vec<Box<dyn FaceDetector>>>,
    returned: Condvar,
}

impl Pool {
    /// A pool of `n` detectors (0 when there are no photos to process).
    pub fn new(engine: &Engine, cfg: &DetectConfig, n: usize) -> Result<Pool> {
        let free = (0..n)
            .map(|_| engine.detector(cfg))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pool {
            free: Mutex::new(free),
            returned: Condvar::new(),
        })
    }

    /// Run `f` with a detector from the pool.
    pub fn with<T>(&self, f: impl FnOnce(&mut dyn FaceDetector) -> T) -> T {
        let mut det = {
            let mut free = self.free.lock().expect("pool lock");
            loop {
                match free.pop() {
                    Some(d) => break d,
                    None => free = self.returned.wait(free).expect("pool lock"),
                }
            }
        };
        let out = f(det.as_mut());
        self.free.lock().expect("pool lock").push(det);
        self.returned.notify_one();
        out
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
    fn workers_fit_in_memory() {
        let gb = 1u64 << 30;
        assert_eq!(default_workers(8, None, 2 * gb), 8);
        assert_eq!(default_workers(8, Some(64 * gb), 2 * gb), 8);
        assert_eq!(default_workers(8, Some(7 * gb), 2 * gb), 3);
        assert_eq!(default_workers(8, Some(gb), 2 * gb), 1);
        assert_eq!(default_workers(0, None, gb), 1);
    }

    #[test]
    fn worker_memory_follows_the_largest_input() {
        let big = worker_memory(&DetectConfig::default());
        let small = worker_memory(&DetectConfig {
            tile: 1024,
            overview: 1024,
            ..DetectConfig::default()
        });
        assert_eq!(big, 2048 * 2048 * 400 + (100 << 20));
        assert!(small * 3 < big);
        // --fast runs only the overview pass, at 640 px.
        assert_eq!(worker_memory(&fast_config()), 640 * 640 * 400 + (100 << 20));
    }

    #[test]
    fn reads_mem_available() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(parse_mem_available(text), Some(20_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots\n"), None);
    }
}
