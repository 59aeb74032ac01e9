//! Choosing the backend and keeping a pool of detectors, for every front end
//! (CLI, HTTP service, Python). Takes paths; never downloads (the model store,
//! `blindfold-models`, finds the files).

#[cfg(any(feature = "ort", feature = "rten"))]
use blindfold::detect::{CENTERFACE, CenterFace};
use blindfold::detect::{DetectConfig, FaceDetector};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

/// Which inference backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Choice {
    /// ONNX Runtime when its library is at hand and loads, else rten (the
    /// reason is kept in [`Engine::fallback_reason`]).
    #[default]
    Auto,
    /// ONNX Runtime, or an error.
    Ort,
    /// ONNX Runtime on its CUDA execution provider (a GPU build of the
    /// library, on device 0), or an error: never the CPU instead.
    OrtCuda,
    /// rten (pure Rust).
    Rten,
}

impl Choice {
    /// The choice named `auto`, `ort`, `ort-cuda` or `rten`.
    pub fn from_name(name: &str) -> Option<Choice> {
        match name {
            "auto" => Some(Choice::Auto),
            "ort" => Some(Choice::Ort),
            "ort-cuda" => Some(Choice::OrtCuda),
            "rten" => Some(Choice::Rten),
            _ => None,
        }
    }
}

/// The precision the network runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    /// The prepared fp32 graph.
    #[default]
    Fp32,
    /// The int8 graph derived from the prepared CenterFace
    /// ([`crate::onnx::quantize::quantize_centerface`]; ONNX Runtime on the
    /// CPU only).
    Int8,
}

impl Precision {
    /// `"fp32"` or `"int8"`, as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
        }
    }
}

/// Which precision to run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PrecisionChoice {
    /// int8 where it is fast and measured to leak no more than fp32: ONNX
    /// Runtime on a CPU with int8 dot-product instructions ([`cpu_int8`]);
    /// fp32 elsewhere (rten, CUDA, other CPUs, a model other than the pinned
    /// CenterFace), with the reason kept in [`Engine::precision_reason`].
    #[default]
    Auto,
    /// fp32 always.
    Fp32,
    /// int8, or an error where it cannot run (rten, CUDA, another model).
    Int8,
}

impl PrecisionChoice {
    /// The choice named `auto`, `fp32` or `int8`.
    pub fn from_name(name: &str) -> Option<PrecisionChoice> {
        match name {
            "auto" => Some(PrecisionChoice::Auto),
            "fp32" => Some(PrecisionChoice::Fp32),
            "int8" => Some(PrecisionChoice::Int8),
            _ => None,
        }
    }

    /// The choice for an audit (`blindfold verify`): `auto` runs fp32 there.
    /// An audit must find what the anonymiser may have left, and on the dev
    /// set fp32 found more darkened faces (71/29/10 of 101 at x0.10/x0.04/
    /// x0.02 brightness, int8 65/21/2) and made fewer false findings on
    /// blindfold's own outputs (`bench/verify.py`, 2026-12-05). An explicit
    /// choice is kept.
    pub fn for_audit(self) -> PrecisionChoice {
        match self {
            PrecisionChoice::Auto => PrecisionChoice::Fp32,
            asked => asked,
        }
    }
}

/// The int8 dot-product instructions this CPU has, by name, or `None`: on
/// x86-64, AVX-512 VNNI or AVX-VNNI, which ONNX Runtime's int8 convolutions
/// use (measured 1.5-1.8x faster than fp32 on AVX-512 VNNI; see
/// `bench/int8/README.md`). Other CPUs are not measured, so they get `None`.
/// `BLINDFOLD_CPU_INT8=0` says `None` whatever the CPU (to simulate a CPU
/// without them), `=1` says `"forced"`.
pub fn cpu_int8() -> Option<&'static str> {
    match std::env::var("BLINDFOLD_CPU_INT8").as_deref() {
        Ok("0") => return None,
        Ok("1") => return Some("forced by BLINDFOLD_CPU_INT8=1"),
        _ => {}
    }
    detect_cpu_int8()
}

#[cfg(target_arch = "x86_64")]
fn detect_cpu_int8() -> Option<&'static str> {
    if std::arch::is_x86_feature_detected!("avx512vnni") {
        Some("AVX-512 VNNI")
    } else if std::arch::is_x86_feature_detected!("avxvnni") {
        Some("AVX-VNNI")
    } else {
        None
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect_cpu_int8() -> Option<&'static str> {
    None
}

/// Which precision runs, and why: from what was asked, the backend that
/// runs (`"ort"`, `"ort-cuda"`, `"rten"`), the CPU's int8 instructions
/// ([`cpu_int8`]) and whether the int8 graph is at hand (`Err` says why
/// not; it is not looked at where the backend or, for `auto`, the CPU
/// already rules int8 out). `Err` when int8 was asked for and cannot run.
pub fn choose_precision(
    asked: PrecisionChoice,
    backend: &str,
    cpu: Option<&str>,
    int8: Result<(), &str>,
) -> Result<(Precision, String), String> {
    let backend_cannot = match backend {
        "ort" => None,
        "ort-cuda" => Some("int8 is for the CPU; CUDA runs fp32".to_string()),
        _ => Some(format!(
            "int8 runs on ONNX Runtime only; {backend} runs fp32"
        )),
    };
    let fp32 = |why: String| Ok((Precision::Fp32, why));
    match asked {
        PrecisionChoice::Fp32 => fp32("asked for".into()),
        PrecisionChoice::Int8 => match backend_cannot.or(int8.err().map(str::to_string)) {
            Some(why) => Err(why),
            None => Ok((Precision::Int8, "asked for".into())),
        },
        PrecisionChoice::Auto => match (backend_cannot, cpu, int8) {
            (Some(why), ..) => fp32(why),
            (None, None, _) => fp32(
                "the CPU has no AVX-512 VNNI or AVX-VNNI, where int8 is not measured to pay".into(),
            ),
            (None, Some(_), Err(why)) => fp32(why.to_string()),
            (None, Some(cpu), Ok(())) => Ok((Precision::Int8, format!("the CPU has {cpu}"))),
        },
    }
}

/// What an [`Engine`] is made from.
pub struct Request<'a> {
    /// The prepared (fp32) model.
    pub model: &'a Path,
    /// The int8 graph derived from `model`, made when first needed, or why
    /// there is none (the model store derives and caches it).
    pub int8_model: &'a dyn Fn() -> Result<PathBuf, String>,
    /// The ONNX Runtime library, or why there is none (used with
    /// [`Choice::Auto`] as the reason for falling back to rten).
    pub ort_lib: Result<PathBuf, String>,
    /// The backend asked for.
    pub choice: Choice,
    /// The precision asked for.
    pub precision: PrecisionChoice,
    /// Threads per detector unless told otherwise (at least 1).
    pub threads: usize,
}

/// Why no engine could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// ONNX Runtime was asked for and cannot be used.
    #[error("ONNX Runtime cannot be used: {0}")]
    Ort(String),
    /// This build lacks the backend that is needed.
    #[error("{0}")]
    NotBuilt(&'static str),
    /// int8 was asked for and cannot run.
    #[error("int8 cannot be used: {0}")]
    Precision(String),
    /// The model could not be loaded or a detector could not be made.
    #[error("cannot load the model {path}: {source}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// Why.
        source: blindfold::Error,
    },
}

/// Where the model and runtime come from, resolved once; makes detectors.
pub struct Engine {
    /// The model that runs: the prepared model, or its int8 graph.
    model: PathBuf,
    precision: Precision,
    precision_reason: String,
    ort_lib: Option<PathBuf>,
    cuda: bool,
    backend: &'static str,
    fallback_reason: Option<String>,
    threads: usize,
    /// The ORT backend made to check that ORT runs, kept for the first
    /// detector so the model is not loaded twice.
    #[cfg(feature = "ort")]
    spare: Mutex<Option<crate::ort_backend::OrtBackend>>,
}

impl Engine {
    /// Choose the backend and the precision for `req`.
    pub fn new(req: Request<'_>) -> Result<Engine, SelectError> {
        let Request {
            model,
            int8_model,
            ort_lib,
            choice,
            precision,
            threads,
        } = req;
        let mut engine = Engine {
            model: model.to_path_buf(),
            precision: Precision::Fp32,
            precision_reason: String::new(),
            ort_lib: None,
            cuda: choice == Choice::OrtCuda,
            backend: "rten",
            fallback_reason: None,
            threads: threads.max(1),
            #[cfg(feature = "ort")]
            spare: Mutex::new(None),
        };
        let cpu = cpu_int8();
        if choice == Choice::Rten {
            return engine.set_precision(precision, cpu, Err(""))?.check_rten();
        }
        // The int8 graph, when ONNX Runtime on the CPU may run it (`Err("")`:
        // not looked for, as `choose_precision` will not need it).
        let int8 = match (choice, precision, cpu) {
            (Choice::OrtCuda, ..) | (_, PrecisionChoice::Fp32, _) => Err(String::new()),
            (_, PrecisionChoice::Auto, None) => Err(String::new()),
            _ => int8_model(),
        };
        let lib = match ort_lib {
            Ok(lib) => lib,
            Err(e) => return engine.no_ort(e, choice, precision, cpu),
        };
        // Probe ONNX Runtime with the graph that will run: int8 when at hand
        // (fp32 after all if ORT refuses it and int8 was not insisted on).
        let int8 = match int8 {
            Ok(path) => match engine.probe_ort(&lib, &path) {
                Ok(()) => Ok(path),
                Err(why) if precision == PrecisionChoice::Int8 => {
                    return Err(SelectError::Precision(format!(
                        "ONNX Runtime cannot run the int8 graph {}: {why}",
                        path.display()
                    )));
                }
                Err(why) => Err(format!("ONNX Runtime cannot run the int8 graph: {why}")),
            },
            Err(why) => Err(why),
        };
        if int8.is_err()
            && let Err(e) = engine.probe_ort(&lib, model)
        {
            return engine.no_ort(e, choice, precision, cpu);
        }
        engine.ort_lib = Some(lib);
        engine.backend = if engine.cuda { "ort-cuda" } else { "ort" };
        let found = int8.as_ref().map(|_| ()).map_err(String::as_str);
        let mut engine = engine.set_precision(precision, cpu, found)?;
        if let (Precision::Int8, Ok(path)) = (engine.precision, int8) {
            engine.model = path;
        }
        Ok(engine)
    }

    /// ONNX Runtime cannot be used (`why`): rten with [`Choice::Auto`], else
    /// an error.
    fn no_ort(
        mut self,
        why: String,
        choice: Choice,
        precision: PrecisionChoice,
        cpu: Option<&str>,
    ) -> Result<Engine, SelectError> {
        if matches!(choice, Choice::Ort | Choice::OrtCuda) {
            return Err(SelectError::Ort(why));
        }
        if precision == PrecisionChoice::Int8 {
            return Err(SelectError::Precision(format!(
                "int8 runs on ONNX Runtime only, which cannot be used: {why}"
            )));
        }
        self.fallback_reason = Some(why);
        self.set_precision(precision, cpu, Err(""))?.check_rten()
    }

    fn set_precision(
        mut self,
        asked: PrecisionChoice,
        cpu: Option<&str>,
        int8: Result<(), &str>,
    ) -> Result<Engine, SelectError> {
        let (precision, why) =
            choose_precision(asked, self.backend, cpu, int8).map_err(SelectError::Precision)?;
        self.precision = precision;
        self.precision_reason = why;
        Ok(self)
    }

    fn check_rten(self) -> Result<Engine, SelectError> {
        if cfg!(feature = "rten") {
            Ok(self)
        } else {
            Err(SelectError::NotBuilt(
                "this build has no rten backend; use ONNX Runtime",
            ))
        }
    }

    /// The backend that runs: `"ort"`, `"ort-cuda"` or `"rten"`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Why ONNX Runtime is not used, when [`Choice::Auto`] fell back to rten.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// The precision the network runs in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Why [`Engine::precision`] was chosen (e.g. `"the CPU has AVX-512
    /// VNNI"`, `"asked for"`, or why int8 could not run).
    pub fn precision_reason(&self) -> &str {
        &self.precision_reason
    }

    /// The model file that runs: the prepared model, or its int8 graph.
    pub fn model(&self) -> &Path {
        &self.model
    }

    /// A new detector with `cfg` on the engine's share of threads.
    pub fn detector(&self, cfg: &DetectConfig) -> Result<Box<dyn FaceDetector>, SelectError> {
        self.detector_with_threads(cfg, self.threads)
    }

    /// A new detector with `cfg` running on `threads` threads.
    pub fn detector_with_threads(
        &self,
        cfg: &DetectConfig,
        threads: usize,
    ) -> Result<Box<dyn FaceDetector>, SelectError> {
        let model_err = |source| SelectError::Model {
            path: self.model.clone(),
            source,
        };
        if let Some(lib) = &self.ort_lib {
            #[cfg(feature = "ort")]
            {
                let spare = match threads == self.threads {
                    true => self.spare.lock().expect("spare lock").take(),
                    false => None,
                };
                let b = match spare {
                    Some(b) => b,
                    None => ort_backend(&self.model, lib, threads, self.provider())?,
                };
                return Ok(Box::new(
                    CenterFace::new(b, cfg.clone()).map_err(model_err)?,
                ));
            }
            #[cfg(not(feature = "ort"))]
            {
                let _ = lib;
                return Err(SelectError::NotBuilt(
                    "this build has no ONNX Runtime support",
                ));
            }
        }
        #[cfg(feature = "rten")]
        {
            let b = crate::rten_backend::RtenBackend::from_file(&self.model, CENTERFACE)
                .map_err(model_err)?
                .with_threads(threads);
            Ok(Box::new(
                CenterFace::new(b, cfg.clone()).map_err(model_err)?,
            ))
        }
        #[cfg(not(feature = "rten"))]
        {
            let _ = (cfg, threads, model_err);
            Err(SelectError::NotBuilt(
                "this build has no rten backend; use ONNX Runtime",
            ))
        }
    }

    /// The detectors for one video, one per lane (see [`video_lanes`]):
    /// `lanes` when given, else one per CPU up to [`MAX_VIDEO_LANES`] and as
    /// many as the free memory holds for `cfg`, the CPUs shared among them.
    pub fn video_detectors(
        &self,
        cfg: &DetectConfig,
        lanes: Option<usize>,
    ) -> Result<Vec<Box<dyn FaceDetector>>, SelectError> {
        let (n, threads) = video_lanes(lanes, num_cpus(), mem_available(), cfg.worker_memory());
        (0..n)
            .map(|_| self.detector_with_threads(cfg, threads))
            .collect()
    }

    /// Check that ORT loads and takes the model; keep that backend as the
    /// spare for the first detector. `Err` says why not.
    fn probe_ort(&self, lib: &Path, model: &Path) -> Result<(), String> {
        #[cfg(feature = "ort")]
        {
            let b =
                ort_backend(model, lib, self.threads, self.provider()).map_err(|e| match e {
                    // Said once: the caller wraps it in SelectError::Ort again.
                    SelectError::Ort(why) => why,
                    other => other.to_string(),
                })?;
            *self.spare.lock().expect("spare lock") = Some(b);
            Ok(())
        }
        #[cfg(not(feature = "ort"))]
        {
            let _ = (lib, model);
            Err("this build has no ONNX Runtime support".into())
        }
    }
}

impl Engine {
    #[cfg(feature = "ort")]
    fn provider(&self) -> crate::ort_backend::Provider {
        match self.cuda {
            true => crate::ort_backend::Provider::Cuda { device: 0 },
            false => crate::ort_backend::Provider::Cpu,
        }
    }
}

#[cfg(feature = "ort")]
fn ort_backend(
    model: &Path,
    lib: &Path,
    threads: usize,
    provider: crate::ort_backend::Provider,
) -> Result<crate::ort_backend::OrtBackend, SelectError> {
    crate::ort_backend::OrtBackend::from_file(model, CENTERFACE, lib, threads, provider)
        .map_err(|e| SelectError::Ort(format!("cannot start it from {}: {e}", lib.display())))
}

/// Detectors shared by worker threads: each takes one, uses it, puts it back.
pub struct Pool {
    free: Mutex<Vec<Box<dyn FaceDetector>>>,
    returned: Condvar,
    size: usize,
}

impl Pool {
    /// A pool of `n` detectors with `cfg` (0 makes an empty pool, for a run
    /// with nothing to detect; [`Pool::with`] would then wait forever).
    pub fn new(engine: &Engine, cfg: &DetectConfig, n: usize) -> Result<Pool, SelectError> {
        let free = (0..n)
            .map(|_| engine.detector(cfg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pool::from_detectors(free))
    }

    /// A pool of the given detectors.
    pub fn from_detectors(free: Vec<Box<dyn FaceDetector>>) -> Pool {
        Pool {
            size: free.len(),
            free: Mutex::new(free),
            returned: Condvar::new(),
        }
    }

    /// How many detectors the pool holds.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Run `f` with a detector from the pool, waiting for one to be free.
    pub fn with<T>(&self, f: impl FnOnce(&mut dyn FaceDetector) -> T) -> T {
        let mut det = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match free.pop() {
                    Some(d) => break d,
                    None => free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        // Put the detector back even if `f` panics.
        struct Back<'a>(&'a Pool, Option<Box<dyn FaceDetector>>);
        impl Drop for Back<'_> {
            fn drop(&mut self) {
                if let Some(d) = self.1.take() {
                    self.0
                        .free
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(d);
                    self.0.returned.notify_one();
                }
            }
        }
        let mut back = Back(self, None);
        let out = f(det.as_mut());
        back.1 = Some(det);
        out
    }
}

/// The memory available to new processes, where the system says (Linux
/// `MemAvailable`).
pub fn mem_available() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// `MemAvailable` from the text of /proc/meminfo, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Number of CPUs available.
pub fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// How many detectors may run at once: one per CPU, but no more than
/// `available` bytes of memory hold at `per_worker` each (at least one).
pub fn default_workers(cpus: usize, available: Option<u64>, per_worker: u64) -> usize {
    match available {
        Some(m) => cpus.min((m / per_worker.max(1)) as usize).max(1),
        None => cpus.max(1),
    }
}

/// At most this many video lanes by default (measured only on 2 cores; each
/// lane holds its own network memory and one frame in flight).
pub const MAX_VIDEO_LANES: usize = 4;

/// Lanes for a video (detectors each working on its own frame, see
/// `blindfold_video::anonymize_video_lanes`) and threads per lane: `lanes`
/// when given, else one per CPU up to [`MAX_VIDEO_LANES`] and as many as
/// `available` memory holds at `per_lane` each; the CPUs are shared out
/// among them. On 2 cores, two one-thread lanes ran a 1080p clip about a
/// tenth faster than one two-thread detector (bench/RESULTS.md).
pub fn video_lanes(
    lanes: Option<usize>,
    cpus: usize,
    available: Option<u64>,
    per_lane: u64,
) -> (usize, usize) {
    let n = lanes
        .unwrap_or_else(|| default_workers(cpus.min(MAX_VIDEO_LANES), available, per_lane))
        .max(1);
    (n, (cpus / n).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold::testing::ScriptedDetector;

    #[test]
    fn video_lanes_share_the_cpus() {
        let gb = 1u64 << 30;
        assert_eq!(video_lanes(None, 2, None, gb), (2, 1));
        assert_eq!(video_lanes(None, 1, None, gb), (1, 1));
        assert_eq!(video_lanes(None, 16, Some(64 * gb), gb), (4, 4));
        assert_eq!(video_lanes(None, 16, Some(2 * gb), gb), (2, 8));
        assert_eq!(video_lanes(Some(3), 16, Some(gb), gb), (3, 5));
        assert_eq!(video_lanes(Some(0), 2, None, gb), (1, 2));
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
    fn reads_mem_available() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(parse_mem_available(text), Some(20_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots\n"), None);
    }

    fn request(
        lib: Result<PathBuf, String>,
        choice: Choice,
        precision: PrecisionChoice,
    ) -> Request<'static> {
        Request {
            model: Path::new("/nonexistent/model.onnx"),
            int8_model: &|| Err("no int8 graph here".into()),
            ort_lib: lib,
            choice,
            precision,
            threads: 1,
        }
    }

    #[test]
    fn auto_falls_back_with_the_reason_and_ort_fails_loudly() {
        let none = || Err("no library here".to_string());
        let e = Engine::new(request(none(), Choice::Auto, PrecisionChoice::Auto)).unwrap();
        assert_eq!(e.backend(), "rten");
        assert_eq!(e.fallback_reason(), Some("no library here"));
        assert_eq!(e.precision(), Precision::Fp32);
        assert!(
            e.precision_reason().contains("rten runs fp32"),
            "{}",
            e.precision_reason()
        );
        let err = Engine::new(request(none(), Choice::Ort, PrecisionChoice::Auto))
            .err()
            .expect("ort was asked for");
        assert!(err.to_string().contains("no library here"), "{err}");
        let lib = PathBuf::from("/nonexistent/libonnxruntime.so");
        let e = Engine::new(request(Ok(lib), Choice::Auto, PrecisionChoice::Auto)).unwrap();
        assert_eq!(e.backend(), "rten");
        assert!(e.fallback_reason().is_some());
        let err = e
            .detector(&DetectConfig::default())
            .err()
            .expect("no model");
        assert!(err.to_string().contains("/nonexistent/model.onnx"), "{err}");
    }

    #[test]
    fn cuda_never_falls_back() {
        assert_eq!(Choice::from_name("ort-cuda"), Some(Choice::OrtCuda));
        assert_eq!(Choice::from_name("auto"), Some(Choice::Auto));
        assert_eq!(Choice::from_name("cuda"), None);
        let none = || Err("no library here".to_string());
        let err = Engine::new(request(none(), Choice::OrtCuda, PrecisionChoice::Auto))
            .err()
            .expect("cuda was asked for");
        assert!(err.to_string().contains("no library here"), "{err}");
        let lib = PathBuf::from("/nonexistent/libonnxruntime.so");
        let err = Engine::new(request(Ok(lib), Choice::OrtCuda, PrecisionChoice::Auto))
            .err()
            .expect("cuda was asked for");
        assert!(matches!(err, SelectError::Ort(_)), "{err}");
    }

    #[test]
    fn audits_run_fp32_unless_int8_is_asked_for() {
        assert_eq!(PrecisionChoice::Auto.for_audit(), PrecisionChoice::Fp32);
        assert_eq!(PrecisionChoice::Int8.for_audit(), PrecisionChoice::Int8);
        assert_eq!(PrecisionChoice::Fp32.for_audit(), PrecisionChoice::Fp32);
    }

    #[test]
    fn int8_asked_for_never_turns_into_fp32() {
        assert_eq!(
            PrecisionChoice::from_name("int8"),
            Some(PrecisionChoice::Int8)
        );
        assert_eq!(
            PrecisionChoice::from_name("auto"),
            Some(PrecisionChoice::Auto)
        );
        assert_eq!(PrecisionChoice::from_name("fp16"), None);
        let none = || Err("no library here".to_string());
        for choice in [Choice::Auto, Choice::Rten] {
            let err = Engine::new(request(none(), choice, PrecisionChoice::Int8))
                .err()
                .expect("int8 was asked for");
            assert!(matches!(err, SelectError::Precision(_)), "{err}");
        }
        let e = Engine::new(request(none(), Choice::Rten, PrecisionChoice::Fp32)).unwrap();
        assert_eq!(
            (e.precision(), e.precision_reason()),
            (Precision::Fp32, "asked for")
        );
    }

    #[test]
    fn precision_follows_the_backend_the_cpu_and_the_graph() {
        use PrecisionChoice::{Auto, Fp32, Int8};
        let vnni = Some("AVX-512 VNNI");
        let choose = |asked, backend, cpu, int8| choose_precision(asked, backend, cpu, int8);
        assert_eq!(
            choose(Auto, "ort", vnni, Ok(())).unwrap().0,
            Precision::Int8
        );
        // Without VNNI the engine does not look for the graph (`Err("")`):
        // the reason is still the CPU's.
        for int8 in [Ok(()), Err("")] {
            let (p, why) = choose(Auto, "ort", None, int8).unwrap();
            assert_eq!(p, Precision::Fp32);
            assert!(why.contains("no AVX-512 VNNI"), "{why}");
        }
        // Asked for, int8 runs on any CPU (the instructions only make it fast).
        assert_eq!(
            choose(Int8, "ort", None, Ok(())).unwrap().0,
            Precision::Int8
        );
        assert_eq!(
            choose(Fp32, "ort", vnni, Ok(())).unwrap().0,
            Precision::Fp32
        );
        let (p, why) = choose(Auto, "ort", vnni, Err("another model")).unwrap();
        assert_eq!((p, why.as_str()), (Precision::Fp32, "another model"));
        assert_eq!(
            choose(Int8, "ort", vnni, Err("another model")).unwrap_err(),
            "another model"
        );
        for backend in ["rten", "ort-cuda"] {
            assert_eq!(
                choose(Auto, backend, vnni, Ok(())).unwrap().0,
                Precision::Fp32
            );
            assert!(choose(Int8, backend, vnni, Ok(())).is_err());
        }
    }

    #[test]
    fn pool_lends_each_detector_to_one_thread_at_a_time() {
        let dets: Vec<Box<dyn FaceDetector>> = (0..2)
            .map(|_| {
                Box::new(ScriptedDetector::new(|_, _| Ok(Vec::new()))) as Box<dyn FaceDetector>
            })
            .collect();
        let pool = Pool::from_detectors(dets);
        assert_eq!(pool.size(), 2);
        let busy = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    pool.with(|_| {
                        let now = busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    })
                });
            }
        });
        assert!(most.into_inner() <= 2);
        let img = blindfold::image::RgbImage::new(4, 4);
        assert!(pool.with(|d| d.detect(&img)).unwrap().is_empty());
    }
}
