//! rten backend: pure Rust, no native library, builds for wasm32. rten reads
//! the prepared `.onnx` file directly (its `onnx_format` feature); no
//! conversion step is needed.

use std::path::Path;
use std::sync::Arc;

use blindfold::Error;
use blindfold::detect::{Backend, ModelSpec, Tensor4};
use rten::{Model, ModelOptions, NodeId, RunOptions, ThreadPool, Value};
use rten_tensor::NdTensorView;
use rten_tensor::prelude::*;

use crate::check;

/// A network run by rten.
pub struct RtenBackend {
    model: Model,
    spec: ModelSpec,
    input: NodeId,
    outputs: Vec<NodeId>,
    pool: Option<Arc<ThreadPool>>,
}

impl RtenBackend {
    /// A backend for the prepared model in `model` (ONNX bytes) whose
    /// inputs and outputs `spec` names. It runs on rten's shared thread pool
    /// (one thread per physical core, or `RTEN_NUM_THREADS`); see
    /// [`RtenBackend::with_threads`].
    pub fn new(model: Vec<u8>, spec: ModelSpec) -> Result<Self, Error> {
        // Prepacked weights: a little more memory, faster runs.
        let model = ModelOptions::with_all_ops()
            .prepack_weights(true)
            .load(model)
            .map_err(|e| Error::Inference(format!("rten cannot load the model: {e}")))?;
        let id = |name: &str| {
            model
                .node_id(name)
                .map_err(|e| Error::Inference(format!("rten: model has no node {name}: {e}")))
        };
        let input = id(spec.input)?;
        let outputs = spec
            .outputs
            .iter()
            .map(|n| id(n))
            .collect::<Result<_, _>>()?;
        Ok(RtenBackend {
            model,
            spec,
            input,
            outputs,
            pool: None,
        })
    }

    /// Like [`RtenBackend::new`], reading the model from a file.
    pub fn from_file(model: &Path, spec: ModelSpec) -> Result<Self, Error> {
        let bytes = std::fs::read(model)
            .map_err(|e| Error::Inference(format!("cannot read model {}: {e}", model.display())))?;
        Self::new(bytes, spec)
    }

    /// Run on a thread pool of its own with `threads` threads instead of the
    /// shared one (0 keeps the shared pool).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.pool = (threads > 0).then(|| Arc::new(ThreadPool::with_num_threads(threads)));
        self
    }
}

fn take(value: Value, name: &str, input: [usize; 4]) -> Result<Tensor4, Error> {
    let tensor = value
        .into_tensor::<f32>()
        .ok_or_else(|| Error::BadOutput(format!("output {name} is not f32")))?;
    let shape = tensor.shape().to_vec();
    check::output(name, input, &shape, tensor.into_data())
}

impl Backend for RtenBackend {
    fn name(&self) -> &str {
        "rten"
    }

    fn run(&mut self, input: &Tensor4) -> Result<Vec<Tensor4>, Error> {
        check::input(input)?;
        let view = NdTensorView::try_from_data(input.shape, input.data.as_slice())
            .map_err(|e| Error::Inference(format!("rten input: {e}")))?;
        let options = RunOptions::default().with_thread_pool(self.pool.clone());
        let values = self
            .model
            .run(
                vec![(self.input, view.into())],
                &self.outputs,
                Some(options),
            )
            .map_err(|e| Error::Inference(format!("rten: {e}")))?;
        values
            .into_iter()
            .zip(self.spec.outputs)
            .map(|(v, name)| take(v, name, input.shape))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold::detect::CENTERFACE;

    #[test]
    fn garbage_is_not_a_model() {
        assert!(matches!(
            RtenBackend::new(b"not a model at all".to_vec(), CENTERFACE),
            Err(Error::Inference(_))
        ));
        assert!(matches!(
            RtenBackend::new(Vec::new(), CENTERFACE),
            Err(Error::Inference(_))
        ));
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(matches!(
            RtenBackend::from_file(Path::new("/nonexistent/centerface.onnx"), CENTERFACE),
            Err(Error::Inference(_))
        ));
    }
}
