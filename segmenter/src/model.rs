//! The segmentation model: loading, checking its input and output, running it.

use crate::cuda::Cuda;
use ort::environment::Environment;
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{IoBinding, Session};
use ort::value::{Tensor, TensorElementType, TensorRef, ValueType};
use std::ffi::c_void;
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
    /// A drive that cannot be used with the provider (`seg_timing`'s DRIVE argument).
    #[error("model drive {0:?}: {1}")]
    Drive(Drive, &'static str),
    /// Running the model failed.
    #[error("running the model failed: {0}")]
    Run(String),
}

/// How a session is driven. `Model::load` drives every session plainly (`Drive::default()`:
/// tensors made over the caller's buffers, no copies). The other drives are for the CUDA
/// provider, whose CPU cost with these small models is ONNX Runtime launching about a hundred
/// small kernels from the CPU and the CPU spinning while it waits (docs/BENCHMARKS.md): input
/// and output in fixed GPU buffers bound once, so that ONNX Runtime can capture the run as one
/// CUDA graph and replay it, and the CPU asleep while it waits. `scripts/gpu-check.sh` measures
/// each (`seg_timing`'s DRIVE argument) on a GPU machine; none is the default until that
/// measurement shows what it saves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drive {
    /// Input and output in buffers of the provider's own memory, bound once (IoBinding).
    pub bound: bool,
    /// CUDA only, needs `bound`: the run captured as a CUDA graph and replayed.
    pub graph: bool,
    /// CUDA only: the driver asked to block, not spin, while the CPU waits for the GPU.
    pub blocking_sync: bool,
}

/// Buffers bound to the session once; each run copies the input in and the output out.
struct Bound {
    binding: IoBinding,
    input_name: String,
    // The bound tensors (the binding holds them too); their buffers are `input_at` and
    // `output_at`.
    input: Tensor<f32>,
    _output: Tensor<f32>,
    input_at: usize,
    output_at: usize,
    /// The copies go through the CUDA runtime, or are plain memory copies (CPU buffers).
    cuda: Option<(Cuda, i32)>,
    output: Vec<f32>,
}

impl Bound {
    fn new(
        session: &Session,
        cuda: Option<(Cuda, i32)>,
        names: (&str, &str),
        shapes: (Vec<usize>, Vec<usize>),
    ) -> ort::Result<Bound> {
        let allocator = match cuda {
            Some((_, device_id)) => Allocator::new(
                session,
                MemoryInfo::new(
                    AllocationDevice::CUDA,
                    device_id,
                    AllocatorType::Device,
                    MemoryType::Default,
                )?,
            )?,
            None => Allocator::default(),
        };
        let output_len = shapes.1.iter().product();
        let mut input = Tensor::<f32>::new(&allocator, shapes.0)?;
        let mut output = Tensor::<f32>::new(&allocator, shapes.1)?;
        // Addresses (kept as numbers: `Bound` stays `Send`); the tensors own the buffers.
        let input_at = input.data_ptr_mut() as usize;
        let output_at = output.data_ptr_mut() as usize;
        let mut binding = session.create_binding()?;
        binding.bind_input(names.0, &input)?;
        binding.bind_output(names.1, &mut output)?;
        Ok(Bound {
            binding,
            input_name: names.0.to_owned(),
            input,
            _output: output,
            input_at,
            output_at,
            cuda,
            output: vec![0.0; output_len],
        })
    }

    /// Runs the session on `input` (of the bound input's length, checked by the caller); the
    /// probabilities are left in `self.output`.
    fn run(&mut self, session: &mut Session, input: &[f32]) -> Result<(), String> {
        match &self.cuda {
            // SAFETY: `input_at` is the bound input's device buffer, made for the model's input
            // shape, which has `input.len()` floats (the caller checked).
            Some((cuda, device)) => unsafe {
                cuda.to_device(*device, self.input_at as *mut c_void, input)?
            },
            // SAFETY: `input_at` is the bound input's CPU buffer of `input.len()` floats (the
            // caller checked the length), owned by `self.input`; it does not overlap a
            // caller's slice.
            None => unsafe {
                std::ptr::copy_nonoverlapping(
                    input.as_ptr(),
                    self.input_at as *mut f32,
                    input.len(),
                )
            },
        }
        // Bound again before each run: where ONNX Runtime would copy a bound input to another
        // device (a first node off the provider), it copies when binding, so a binding made
        // once would feed every run the first input. (No copy of ours: the tensor is bound by
        // reference.)
        self.binding
            .bind_input(self.input_name.as_str(), &self.input)
            .map_err(|e| e.to_string())?;
        drop(
            session
                .run_binding(&self.binding)
                .map_err(|e| e.to_string())?,
        );
        match &self.cuda {
            // SAFETY: `output_at` is the bound output's device buffer of `output.len()` floats,
            // complete once the run (which synchronises its stream) returned.
            Some((cuda, device)) => unsafe {
                cuda.to_host(*device, &mut self.output, self.output_at as *const c_void)
            },
            None => {
                // SAFETY: `output_at` is the bound output's CPU buffer of `output.len()`
                // floats, owned by `self._output`, written by the run that returned.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        self.output_at as *const f32,
                        self.output.as_mut_ptr(),
                        self.output.len(),
                    )
                };
                Ok(())
            }
        }
    }
}

/// A loaded model and what viba learned of its tensors.
pub struct Model {
    // Dropped before the session whose allocator made its buffers.
    bound: Option<Bound>,
    session: Session,
    input_name: String,
    output_name: String,
    output_shape: Vec<usize>,
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
    /// Loads the model with the configured threads and execution provider, driven plainly.
    pub fn load(env: &Environment, config: &Segmentation) -> Result<Model, ModelError> {
        Self::load_with(env, config, Drive::default())
    }

    /// Loads the model, driven as `drive` says.
    pub fn load_with(
        env: &Environment,
        config: &Segmentation,
        drive: Drive,
    ) -> Result<Model, ModelError> {
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
        let device_id = config.cuda_device as i32;
        let cuda_provider = config.execution_provider == ExecutionProvider::Cuda;
        if drive.graph && !drive.bound {
            return Err(ModelError::Drive(drive, "a CUDA graph needs bound buffers"));
        }
        if !cuda_provider && (drive.graph || drive.blocking_sync) {
            return Err(ModelError::Drive(
                drive,
                "graph and blocking need the cuda provider",
            ));
        }
        let mut cuda = None;
        if cuda_provider {
            if drive.bound || drive.blocking_sync {
                let c = Cuda::load().map_err(ModelError::Cuda)?;
                c.set_device(device_id).map_err(ModelError::Cuda)?;
                if drive.blocking_sync {
                    c.block_while_waiting().map_err(ModelError::Cuda)?;
                }
                cuda = Some((c, device_id));
            }
            builder = builder
                .with_execution_providers([ort::ep::CUDA::default()
                    .with_device_id(device_id)
                    .with_cuda_graph(drive.graph)
                    .build()
                    .error_on_failure()])
                .map_err(|e| ModelError::Cuda(e.to_string()))?;
        }
        let session = builder.commit_from_file(path).map_err(|e| load(&e))?;
        let mut model = Self::inspect(session, path)?;
        if drive.bound {
            let input_shape = match model.layout {
                Layout::Nhwc => vec![1, model.input_height, model.input_width, 3],
                Layout::Nchw => vec![1, 3, model.input_height, model.input_width],
            };
            let bound = Bound::new(
                &model.session,
                cuda,
                (&model.input_name, &model.output_name),
                (input_shape, model.output_shape.clone()),
            );
            model.bound = Some(bound.map_err(|e| match config.execution_provider {
                ExecutionProvider::Cuda => ModelError::Cuda(e.to_string()),
                ExecutionProvider::Cpu => ModelError::Run(format!("binding buffers: {e}")),
            })?);
        }
        Ok(model)
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
        // The output's shape with the batch of one (for a bound output buffer).
        let output_shape = oshape
            .iter()
            .enumerate()
            .map(|(i, &d)| if i == 0 { 1 } else { d as usize })
            .collect();
        Ok(Model {
            bound: None,
            input_name: input.name().to_owned(),
            output_name: output.name().to_owned(),
            output_shape,
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
        if let Some(bound) = &mut self.bound {
            let wanted = 3 * self.input_width * self.input_height;
            if input.len() != wanted {
                return Err(ModelError::Run(format!(
                    "an input of {} floats for a model that takes {wanted}",
                    input.len()
                )));
            }
            bound
                .run(&mut self.session, input)
                .map_err(ModelError::Run)?;
            to_mask(&bound.output, mask);
            return Ok(());
        }
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
        to_mask(probabilities, mask);
        Ok(())
    }
}

/// Probabilities to a 0..255 mask.
fn to_mask(probabilities: &[f32], mask: &mut [u8]) {
    for (m, p) in mask.iter_mut().zip(probabilities) {
        *m = viba_common::simd::to_u8(p.clamp(0.0, 1.0) * 255.0 + 0.5);
    }
}

// A model (and so a `Segmenter`) can be moved to another thread.
const _: () = {
    const fn send<T: Send>() {}
    send::<Model>()
};
