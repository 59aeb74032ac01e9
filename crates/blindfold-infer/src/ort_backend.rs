//! ONNX Runtime backend, loading `libonnxruntime` at run time from a path the
//! caller names (the `ort` crate's `load-dynamic`; nothing is downloaded).
//!
//! ONNX Runtime can be loaded only once per process, and `ort` allows one
//! environment per process, so both are kept here for the life of the
//! process: later backends with the same library share them; a different
//! library is refused with an error.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use blindfold::Error;
use blindfold::detect::{Backend, ModelSpec, Tensor4};
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::builder::SessionBuilder;
use ort::session::{OutputSelector, RunOptions, Session, SessionOutputs};
use ort::value::TensorRef;

use crate::check;

/// The library loaded into this process and the environment built on it.
struct Loaded {
    lib: PathBuf,
    env: Option<Environment>,
}

static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);

fn err(what: &str) -> impl Fn(ort::Error) -> Error + '_ {
    move |e| Error::Inference(format!("ONNX Runtime: {what}: {e}"))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The process-wide environment, loading ONNX Runtime from `lib` on first use.
fn environment(lib: &Path) -> Result<Environment, Error> {
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(done) = loaded.as_ref()
        && !same_file(&done.lib, lib)
    {
        return Err(Error::Inference(format!(
            "ONNX Runtime is already loaded from {}; cannot also load {}",
            done.lib.display(),
            lib.display()
        )));
    }
    if let Some(env) = loaded.as_ref().and_then(|l| l.env.clone()) {
        return Ok(env);
    }
    let builder = if loaded.is_some() {
        ort::init()
    } else {
        if !lib.is_file() {
            return Err(Error::Inference(format!(
                "ONNX Runtime library not found: {}",
                lib.display()
            )));
        }
        let builder = ort::init_from(lib).map_err(|e| {
            Error::Inference(format!(
                "cannot load ONNX Runtime from {}: {e}",
                lib.display()
            ))
        })?;
        *loaded = Some(Loaded {
            lib: lib.to_path_buf(),
            env: None,
        });
        builder
    };
    let env = builder
        .with_name("blindfold")
        .with_telemetry(false)
        .build()
        .map_err(err("cannot create environment"))?;
    if let Some(l) = loaded.as_mut() {
        l.env = Some(env.clone());
    }
    Ok(env)
}

/// Whether ONNX Runtime can be loaded from `lib` (or already was). This
/// loads the library into the process when it succeeds, as [`OrtBackend::new`]
/// would.
pub fn ort_available(lib: &Path) -> bool {
    environment(lib).is_ok()
}

/// Where ONNX Runtime runs the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Provider {
    /// The CPU (every build of ONNX Runtime has it).
    #[default]
    Cpu,
    /// NVIDIA CUDA on the given device, from a GPU build of ONNX Runtime.
    /// Never falls back to the CPU: a library without the CUDA provider, or
    /// a provider that cannot start (no driver, no device), is an error.
    Cuda {
        /// The CUDA device number (0 for the first GPU).
        device: i32,
    },
}

impl Provider {
    /// `"ort"` or `"ort-cuda"`, as reports name the backend.
    pub fn backend_name(self) -> &'static str {
        match self {
            Provider::Cpu => "ort",
            Provider::Cuda { .. } => "ort-cuda",
        }
    }
}

/// Register the CUDA execution provider on `builder`, failing (instead of
/// ORT's default of carrying on without it) when it cannot be used.
fn with_cuda(builder: SessionBuilder, device: i32, lib: &Path) -> Result<SessionBuilder, Error> {
    use ort::ep::ExecutionProvider;
    let built = ort::ep::CUDA::is_available().map_err(err("CUDA provider check"))?;
    if !built {
        return Err(Error::Inference(format!(
            "ONNX Runtime: CUDA was asked for, but the library {} was built without the CUDA \
             execution provider (it is a CPU build); supply a GPU build of ONNX Runtime \
             (e.g. libonnxruntime.so from the onnxruntime-gpu package) with --ort-lib or \
             BLINDFOLD_ORT_LIB",
            lib.display()
        )));
    }
    let cuda = ort::ep::CUDA::default()
        .with_device_id(device)
        .build()
        .error_on_failure();
    builder.with_execution_providers([cuda]).map_err(|e| {
        Error::Inference(format!(
            "ONNX Runtime: cannot start the CUDA execution provider on device {device} \
             (is there an NVIDIA GPU, driver, CUDA and cuDNN?): {e}"
        ))
    })
}

/// A network run by ONNX Runtime (on the CPU, or on a GPU with
/// [`OrtBackend::with_provider`]).
pub struct OrtBackend {
    session: Session,
    spec: ModelSpec,
    provider: Provider,
}

impl OrtBackend {
    /// A backend for the prepared model in `model` (ONNX bytes) whose inputs
    /// and outputs `spec` names, running on
    /// ONNX Runtime loaded from `lib`, with `threads` intra-op threads
    /// (0 lets ONNX Runtime choose). Graph optimisation is at its highest
    /// level.
    pub fn new(model: &[u8], spec: ModelSpec, lib: &Path, threads: usize) -> Result<Self, Error> {
        Self::with_provider(model, spec, lib, threads, Provider::Cpu)
    }

    /// Like [`OrtBackend::new`], on the execution `provider`. With
    /// [`Provider::Cuda`] this fails when the provider cannot be registered;
    /// it never runs on the CPU instead.
    pub fn with_provider(
        model: &[u8],
        spec: ModelSpec,
        lib: &Path,
        threads: usize,
        provider: Provider,
    ) -> Result<Self, Error> {
        let env = environment(lib)?;
        let options = |env: &Environment| -> ort::Result<SessionBuilder> {
            // ORT's arena and memory patterns stay on: measured on the WIDER
            // dev set they make blindfold 1.7x faster (41 s against 71 s for
            // 503 images) for a higher peak (2.8 GB against 1.5 GB).
            Ok(Session::builder(env)?
                .with_optimization_level(GraphOptimizationLevel::Level3)?
                .with_intra_threads(threads)?)
        };
        let mut builder = options(&env).map_err(err("session options"))?;
        if let Provider::Cuda { device } = provider {
            builder = with_cuda(builder, device, lib)?;
        }
        let session = builder
            .commit_from_memory(model)
            .map_err(err("cannot load the model"))?;
        Ok(OrtBackend {
            session,
            spec,
            provider,
        })
    }

    /// Like [`OrtBackend::new`], reading the model from a file.
    pub fn from_file(
        model: &Path,
        spec: ModelSpec,
        lib: &Path,
        threads: usize,
        provider: Provider,
    ) -> Result<Self, Error> {
        let bytes = std::fs::read(model)
            .map_err(|e| Error::Inference(format!("cannot read model {}: {e}", model.display())))?;
        Self::with_provider(&bytes, spec, lib, threads, provider)
    }
}

fn take(outputs: &SessionOutputs<'_>, name: &str, input: [usize; 4]) -> Result<Tensor4, Error> {
    let value = outputs
        .get(name)
        .ok_or_else(|| Error::BadOutput(format!("output {name} is missing")))?;
    let (shape, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| Error::BadOutput(format!("output {name}: {e}")))?;
    let shape: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect();
    check::output(name, input, &shape, data.to_vec())
}

impl Backend for OrtBackend {
    fn name(&self) -> &str {
        self.provider.backend_name()
    }

    fn run(&mut self, input: &Tensor4) -> Result<Vec<Tensor4>, Error> {
        check::input(input)?;
        let tensor = TensorRef::from_array_view((input.shape, input.data.as_slice()))
            .map_err(err("input tensor"))?;
        let selector = self
            .spec
            .outputs
            .iter()
            .fold(OutputSelector::no_default(), |s, name| s.with(*name));
        let options = RunOptions::new()
            .map_err(err("run options"))?
            .with_outputs(selector);
        let outputs = self
            .session
            .run_with_options(ort::inputs![self.spec.input => tensor], &options)
            .map_err(err("run"))?;
        self.spec
            .outputs
            .iter()
            .map(|name| take(&outputs, name, input.shape))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_an_error() {
        let lib = Path::new("/nonexistent/libonnxruntime.so");
        assert!(!ort_available(lib));
        match OrtBackend::new(b"not a model", blindfold::detect::CENTERFACE, lib, 1) {
            Err(Error::Inference(msg)) => assert!(msg.contains("libonnxruntime"), "{msg}"),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("loaded a missing library"),
        }
    }

    #[test]
    fn not_a_library_is_an_error() {
        let dir = std::env::temp_dir().join(format!("blindfold-ort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("libonnxruntime.so");
        std::fs::write(&fake, b"not a shared library").unwrap();
        let ok = ort_available(&fake);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!ok);
    }
}
