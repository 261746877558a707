//! The segmentation model: loading, checking its input and output, running it.

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef, ValueType};
use std::path::Path;
use viba_common::config::{ExecutionProvider, Segmentation};

/// How the image tensor is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[1, H, W, 3]`.
    Nhwc,
    /// `[1, 3, H, W]`.
    Nchw,
}

/// Why a model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// ONNX Runtime refused the file.
    #[error("segmentation.model: {path} could not be loaded: {cause} (use an ONNX person-segmentation model, e.g. models/selfie_segmentation_landscape.onnx)")]
    Load {
        /// The model.
        path: String,
        /// What ONNX Runtime said.
        cause: String,
    },
    /// Inputs or outputs are not those of an image-to-mask model.
    #[error("segmentation.model: {path} has {what}; viba needs one float32 image input [1,H,W,3] or [1,3,H,W] and a float32 mask output [1,H,W,1], [1,1,H,W] or [1,H,W]")]
    Unsupported {
        /// The model.
        path: String,
        /// What was found.
        what: String,
    },
    /// The requested execution provider is unavailable.
    #[error("segmentation.execution_provider: cuda could not be used: {0} (install the GPU runtime with VIBA_ORT=gpu scripts/setup.sh, or use \"cpu\")")]
    Cuda(String),
    /// Running the model failed.
    #[error("running the model failed: {0}")]
    Run(String),
}

/// A loaded model and what viba learned of its tensors.
pub struct Model {
    session: Session,
    input_name: String,
    output_name: String,
    /// Input layout.
    pub layout: Layout,
    /// Input width.
    pub input_width: usize,
    /// Input height.
    pub input_height: usize,
    /// Mask (output) width.
    pub mask_width: usize,
    /// Mask (output) height.
    pub mask_height: usize,
}

fn dims(t: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    Some((
        t.tensor_type()?,
        t.tensor_shape()?.iter().copied().collect(),
    ))
}

impl Model {
    /// Loads the model with the configured threads and execution provider.
    pub fn load(env: &Environment, config: &Segmentation) -> Result<Model, ModelError> {
        let path = &config.model;
        let name = path.display().to_string();
        let load = |e: &dyn std::fmt::Display| ModelError::Load {
            path: name.clone(),
            cause: e.to_string().lines().next().unwrap_or("").to_owned(),
        };
        let mut builder = Session::builder(env)
            .map_err(|e| load(&e))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| load(&e))?
            .with_intra_threads(config.threads as usize)
            .map_err(|e| load(&e))?
            .with_intra_op_spinning(false)
            .map_err(|e| load(&e))?
            .with_inter_op_spinning(false)
            .map_err(|e| load(&e))?;
        if config.execution_provider == ExecutionProvider::Cuda {
            builder = builder
                .with_execution_providers([ort::ep::CUDA::default()
                    .with_device_id(config.cuda_device as i32)
                    .build()
                    .error_on_failure()])
                .map_err(|e| ModelError::Cuda(e.to_string()))?;
        }
        let session = builder.commit_from_file(path).map_err(|e| load(&e))?;
        Self::inspect(session, path)
    }

    fn inspect(session: Session, path: &Path) -> Result<Model, ModelError> {
        let unsupported = |what: String| ModelError::Unsupported {
            path: path.display().to_string(),
            what,
        };
        if session.inputs().len() != 1 {
            return Err(unsupported(format!("{} inputs", session.inputs().len())));
        }
        let input = &session.inputs()[0];
        let (ty, shape) = dims(input.dtype())
            .ok_or_else(|| unsupported(format!("input {} that is not a tensor", input.name())))?;
        if ty != TensorElementType::Float32 {
            return Err(unsupported(format!(
                "input {} of type {ty:?}",
                input.name()
            )));
        }
        let batch_ok = |b: i64| b == 1 || b == -1;
        let (layout, h, w) = match shape.as_slice() {
            [b, h, w, 3] if batch_ok(*b) => (Layout::Nhwc, *h, *w),
            [b, 3, h, w] if batch_ok(*b) => (Layout::Nchw, *h, *w),
            other => {
                return Err(unsupported(format!(
                    "input {} of shape {other:?}",
                    input.name()
                )))
            }
        };
        if h < 8 || w < 8 || h > 2048 || w > 2048 {
            return Err(unsupported(format!(
                "input {} of shape {shape:?} (height and width must be fixed, 8 to 2048)",
                input.name()
            )));
        }
        let output = session
            .outputs()
            .first()
            .ok_or_else(|| unsupported("no outputs".into()))?;
        let (oty, oshape) = dims(output.dtype())
            .ok_or_else(|| unsupported(format!("output {} that is not a tensor", output.name())))?;
        let (mh, mw) = match oshape.as_slice() {
            [b, h, w, 1] | [b, 1, h, w] if batch_ok(*b) => (*h, *w),
            [b, h, w] if batch_ok(*b) => (*h, *w),
            other => {
                return Err(unsupported(format!(
                    "output {} of shape {other:?}",
                    output.name()
                )))
            }
        };
        if oty != TensorElementType::Float32 || mh < 1 || mw < 1 || mh > 2048 || mw > 2048 {
            return Err(unsupported(format!(
                "output {} of type {oty:?} and shape {oshape:?}",
                output.name()
            )));
        }
        Ok(Model {
            input_name: input.name().to_owned(),
            output_name: output.name().to_owned(),
            layout,
            input_width: w as usize,
            input_height: h as usize,
            mask_width: mw as usize,
            mask_height: mh as usize,
            session,
        })
    }

    /// Runs the model on a prepared input tensor and writes the mask, 0..255, into `mask`.
    pub fn run(&mut self, input: &[f32], mask: &mut [u8]) -> Result<(), ModelError> {
        let shape = match self.layout {
            Layout::Nhwc => [1usize, self.input_height, self.input_width, 3],
            Layout::Nchw => [1usize, 3, self.input_height, self.input_width],
        };
        let tensor = TensorRef::from_array_view((shape, input))
            .map_err(|e| ModelError::Run(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| ModelError::Run(e.to_string()))?;
        let (_, probabilities) = outputs[self.output_name.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| ModelError::Run(e.to_string()))?;
        for (m, p) in mask.iter_mut().zip(probabilities) {
            *m = (p.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        Ok(())
    }
}
