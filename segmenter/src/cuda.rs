//! The few CUDA runtime calls the CUDA path makes itself, from the `libcudart` that ONNX
//! Runtime's CUDA provider loads (found the same way: the dynamic loader's search path, e.g.
//! `LD_LIBRARY_PATH` with the `nvidia-cuda-runtime` wheel's `lib/`): asking the driver to block
//! rather than spin while the CPU waits for the GPU, and the copies into and out of the model's
//! fixed GPU buffers.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// The runtime's soname for CUDA 13 (what `onnxruntime-gpu` 1.31.1 is built against).
const LIBRARY: &str = "libcudart.so.13";
/// `cudaDeviceScheduleBlockingSync`: a thread waiting for the GPU sleeps on a semaphore.
const SCHEDULE_BLOCKING_SYNC: u32 = 0x04;
/// `cudaMemcpyHostToDevice`, `cudaMemcpyDeviceToHost`.
const HOST_TO_DEVICE: c_int = 1;
const DEVICE_TO_HOST: c_int = 2;

type SetDevice = unsafe extern "C" fn(c_int) -> c_int;
type SetDeviceFlags = unsafe extern "C" fn(u32) -> c_int;
type Memcpy = unsafe extern "C" fn(*mut c_void, *const c_void, usize, c_int) -> c_int;
type StreamSynchronize = unsafe extern "C" fn(*mut c_void) -> c_int;
type ErrorString = unsafe extern "C" fn(c_int) -> *const c_char;

/// The CUDA runtime library, loaded once and never unloaded (ONNX Runtime holds it too).
pub struct Cuda {
    set_device: SetDevice,
    set_device_flags: SetDeviceFlags,
    memcpy: Memcpy,
    stream_synchronize: StreamSynchronize,
    error_string: ErrorString,
}

impl Cuda {
    /// Loads the runtime; the error names the library and what the loader said.
    pub fn load() -> Result<Cuda, String> {
        let name = CString::new(LIBRARY).expect("no NUL in a literal");
        // SAFETY: dlopen with a valid C string; the handle is kept for the life of the process
        // (never dlclose'd), so the function pointers below stay valid.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns null or a valid C string owned by the loader.
            let why = unsafe {
                let e = libc::dlerror();
                if e.is_null() {
                    String::from("not found")
                } else {
                    CStr::from_ptr(e).to_string_lossy().into_owned()
                }
            };
            return Err(format!(
                "{LIBRARY} could not be loaded: {why}; put the CUDA 13 runtime's lib folder on \
                 LD_LIBRARY_PATH (setup.sh's .ort/cuda/nvidia/*/lib)"
            ));
        }
        let symbol = |name: &str| -> Result<*mut c_void, String> {
            let c = CString::new(name).expect("no NUL in a literal");
            // SAFETY: a valid handle from dlopen and a valid C string.
            let f = unsafe { libc::dlsym(handle, c.as_ptr()) };
            if f.is_null() {
                Err(format!("{LIBRARY} has no {name}"))
            } else {
                Ok(f)
            }
        };
        // SAFETY: each symbol is the CUDA runtime function of that name, whose C signature the
        // type it is transmuted to matches (cuda_runtime_api.h; cudaError_t is an int, enums
        // are ints, cudaStream_t a pointer).
        unsafe {
            Ok(Cuda {
                set_device: std::mem::transmute::<*mut c_void, SetDevice>(symbol("cudaSetDevice")?),
                set_device_flags: std::mem::transmute::<*mut c_void, SetDeviceFlags>(symbol(
                    "cudaSetDeviceFlags",
                )?),
                memcpy: std::mem::transmute::<*mut c_void, Memcpy>(symbol("cudaMemcpy")?),
                stream_synchronize: std::mem::transmute::<*mut c_void, StreamSynchronize>(symbol(
                    "cudaStreamSynchronize",
                )?),
                error_string: std::mem::transmute::<*mut c_void, ErrorString>(symbol(
                    "cudaGetErrorString",
                )?),
            })
        }
    }

    fn check(&self, what: &str, code: c_int) -> Result<(), String> {
        if code == 0 {
            return Ok(());
        }
        // SAFETY: cudaGetErrorString returns a static C string for any code.
        let text = unsafe { CStr::from_ptr((self.error_string)(code)) };
        Err(format!(
            "{what} failed: {} ({code})",
            text.to_string_lossy()
        ))
    }

    /// Makes `device` current for this thread (`segmentation.cuda_device`).
    pub fn set_device(&self, device: i32) -> Result<(), String> {
        // SAFETY: a plain runtime call with a plain argument.
        let code = unsafe { (self.set_device)(device) };
        self.check(
            &format!("cudaSetDevice({device}) (segmentation.cuda_device)"),
            code,
        )
    }

    /// Asks the driver to put a thread that waits for the current device to sleep instead of
    /// spinning (the default spins while a few kernels are in flight: CPU time that buys
    /// nothing here). Call before ONNX Runtime starts using the device.
    pub fn block_while_waiting(&self) -> Result<(), String> {
        // SAFETY: a plain runtime call with a plain argument.
        let code = unsafe { (self.set_device_flags)(SCHEDULE_BLOCKING_SYNC) };
        self.check("cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync)", code)
    }

    /// Copies `host` into the device buffer at `device`, and waits until the copy is done (a copy
    /// from pageable memory may return while its DMA is still running, and ONNX Runtime's own
    /// stream does not wait for the default stream).
    ///
    /// # Safety
    /// `at` must be an allocation on `device` of at least `size_of_val(host)` bytes.
    pub unsafe fn to_device(
        &self,
        device: i32,
        at: *mut c_void,
        host: &[f32],
    ) -> Result<(), String> {
        self.set_device(device)?;
        // SAFETY: the caller guarantees the destination; the source is a valid slice.
        unsafe {
            self.check(
                "cudaMemcpy to the device",
                (self.memcpy)(
                    at,
                    host.as_ptr().cast(),
                    std::mem::size_of_val(host),
                    HOST_TO_DEVICE,
                ),
            )?;
            self.check(
                "cudaStreamSynchronize",
                (self.stream_synchronize)(std::ptr::null_mut()),
            )
        }
    }

    /// Copies the buffer at `at` on `device` into `host` (returns when the copy is done).
    ///
    /// # Safety
    /// `at` must be an allocation on `device` of at least `size_of_val(host)` bytes whose
    /// contents are complete (ONNX Runtime synchronises its stream at the end of a run).
    pub unsafe fn to_host(
        &self,
        device: i32,
        host: &mut [f32],
        at: *const c_void,
    ) -> Result<(), String> {
        self.set_device(device)?;
        // SAFETY: the caller guarantees the source; the destination is a valid slice.
        unsafe {
            self.check(
                "cudaMemcpy to the host",
                (self.memcpy)(
                    host.as_mut_ptr().cast(),
                    at,
                    std::mem::size_of_val(host),
                    DEVICE_TO_HOST,
                ),
            )
        }
    }
}
