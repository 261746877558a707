//! JPEG through libjpeg-turbo's TurboJPEG API (Debian's `libturbojpeg0`, SIMD on x86 and Arm).
//!
//! [`Decoder::decode`] and [`Decoder::write_yuyv`] turn an MJPEG camera frame straight into the ring's YUYV: the
//! library decompresses to its Y, Cb and Cr planes at the JPEG's own subsampling (no colour
//! conversion, no upsampling; webcams send 4:2:2, which is YUYV's own), and one pass
//! interleaves them, mapping JPEG's full-range values to the limited range the pipeline
//! carries (`yuv`). [`Encoder`] makes JPEG frames for tests and the benchmark's MJPEG input.
//!
//! The library reports corrupt data as a warning and still fills the picture (a torn frame's
//! missing part comes out grey); callers that must not show such a picture check
//! [`Decoded::warning`].

use std::ffi::{c_char, c_int, c_uchar, c_ulong, c_void, CStr};
use std::ptr::NonNull;

/// TurboJPEG's C API (`turbojpeg.h`, libjpeg-turbo 2.x; the 3.x library keeps these).
mod ffi {
    use super::*;

    pub const TJSAMP_444: c_int = 0;
    pub const TJSAMP_422: c_int = 1;
    pub const TJSAMP_420: c_int = 2;
    pub const TJSAMP_GRAY: c_int = 3;
    pub const TJSAMP_440: c_int = 4;
    pub const TJSAMP_411: c_int = 5;
    pub const TJPF_RGB: c_int = 0;
    pub const TJERR_WARNING: c_int = 0;
    pub const TJFLAG_FASTDCT: c_int = 2048;

    #[link(name = "turbojpeg")]
    extern "C" {
        pub fn tjInitDecompress() -> *mut c_void;
        pub fn tjInitCompress() -> *mut c_void;
        pub fn tjDestroy(handle: *mut c_void) -> c_int;
        pub fn tjGetErrorStr2(handle: *mut c_void) -> *mut c_char;
        pub fn tjGetErrorCode(handle: *mut c_void) -> c_int;
        pub fn tjDecompressHeader3(
            handle: *mut c_void,
            jpeg: *const c_uchar,
            size: c_ulong,
            width: *mut c_int,
            height: *mut c_int,
            subsamp: *mut c_int,
            colorspace: *mut c_int,
        ) -> c_int;
        pub fn tjPlaneWidth(component: c_int, width: c_int, subsamp: c_int) -> c_int;
        pub fn tjPlaneHeight(component: c_int, height: c_int, subsamp: c_int) -> c_int;
        pub fn tjDecompressToYUVPlanes(
            handle: *mut c_void,
            jpeg: *const c_uchar,
            size: c_ulong,
            planes: *mut *mut c_uchar,
            width: c_int,
            strides: *mut c_int,
            height: c_int,
            flags: c_int,
        ) -> c_int;
        pub fn tjCompress2(
            handle: *mut c_void,
            src: *const c_uchar,
            width: c_int,
            pitch: c_int,
            height: c_int,
            pixel_format: c_int,
            jpeg: *mut *mut c_uchar,
            size: *mut c_ulong,
            subsamp: c_int,
            quality: c_int,
            flags: c_int,
        ) -> c_int;
        pub fn tjFree(buffer: *mut c_uchar);
    }
}

/// Why a JPEG could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JpegError(String);

/// Chroma subsampling of a JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subsampling {
    /// Full chroma.
    S444,
    /// Half horizontal chroma: what webcams send, and YUYV's own.
    S422,
    /// Half chroma both ways.
    S420,
    /// No chroma.
    Gray,
    /// Half vertical chroma.
    S440,
    /// Quarter horizontal chroma.
    S411,
}

impl Subsampling {
    fn from_tj(code: c_int) -> Option<Subsampling> {
        Some(match code {
            ffi::TJSAMP_444 => Subsampling::S444,
            ffi::TJSAMP_422 => Subsampling::S422,
            ffi::TJSAMP_420 => Subsampling::S420,
            ffi::TJSAMP_GRAY => Subsampling::Gray,
            ffi::TJSAMP_440 => Subsampling::S440,
            ffi::TJSAMP_411 => Subsampling::S411,
            _ => return None,
        })
    }

    fn to_tj(self) -> c_int {
        match self {
            Subsampling::S444 => ffi::TJSAMP_444,
            Subsampling::S422 => ffi::TJSAMP_422,
            Subsampling::S420 => ffi::TJSAMP_420,
            Subsampling::Gray => ffi::TJSAMP_GRAY,
            Subsampling::S440 => ffi::TJSAMP_440,
            Subsampling::S411 => ffi::TJSAMP_411,
        }
    }
}

/// A TurboJPEG handle, destroyed on drop.
struct Handle(NonNull<c_void>);

impl Handle {
    fn new(init: unsafe extern "C" fn() -> *mut c_void, what: &str) -> Result<Handle, JpegError> {
        // SAFETY: tjInitDecompress / tjInitCompress take no arguments and return a new handle
        // or null.
        let raw = unsafe { init() };
        NonNull::new(raw)
            .map(Handle)
            .ok_or_else(|| JpegError(format!("libturbojpeg could not make a {what}")))
    }

    /// The library's message for the last failure on this handle, and whether it was only a
    /// warning (the output was still written).
    fn last_error(&self) -> (String, bool) {
        // SAFETY: the handle is live; tjGetErrorStr2 returns a NUL-terminated string owned by
        // the handle (or a static one), copied out here before any other call on it.
        let text = unsafe { CStr::from_ptr(ffi::tjGetErrorStr2(self.0.as_ptr())) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: the handle is live.
        let warning = unsafe { ffi::tjGetErrorCode(self.0.as_ptr()) } == ffi::TJERR_WARNING;
        (text, warning)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInit* and is destroyed exactly once, here.
        unsafe { ffi::tjDestroy(self.0.as_ptr()) };
    }
}

// SAFETY: a TurboJPEG handle has no thread affinity; `&mut self` on every use keeps it to one
// thread at a time.
unsafe impl Send for Handle {}

/// What [`Decoder::decode`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Picture width (the JPEG's, made even) and height.
    pub size: (u32, u32),
    /// The JPEG's subsampling.
    pub subsampling: Subsampling,
    /// The library's warning about corrupt data, if any (the picture was still written).
    pub warning: Option<String>,
}

/// Decodes JPEG frames to YUYV; keeps its buffers between frames.
pub struct Decoder {
    handle: Handle,
    planes: [Vec<u8>; 3],
    /// The last picture [`Decoder::decode`] left in `planes`: each plane's size, whether it
    /// has chroma, and its YUYV size.
    last: Option<Layout>,
}

/// Where a decoded picture lies in a [`Decoder`]'s planes.
#[derive(Debug, Clone, Copy)]
struct Layout {
    dims: [(usize, usize); 3],
    colour: bool,
    size: (usize, usize),
}

/// The inverse DCT the decoder asks for: libjpeg-turbo's fast integer one (`TJFLAG_FASTDCT`,
/// `JDCT_IFAST`). It is less exact than the default (`JDCT_ISLOW`) by a step or two of 8-bit
/// value, below what a webcam's own JPEG quality loses, and took 7-9 % off the decode of
/// MJPEG frames at quality 90 (`capture/examples/mjpeg_timing.rs`, docs/BENCHMARKS.md).
const DECODE_FLAGS: c_int = ffi::TJFLAG_FASTDCT;

impl Decoder {
    /// A decoder.
    pub fn new() -> Result<Decoder, JpegError> {
        Ok(Decoder {
            handle: Handle::new(ffi::tjInitDecompress, "decompressor")?,
            planes: Default::default(),
            last: None,
        })
    }

    /// Decodes `jpeg` into `out` as YUYV (BT.601 limited range), resized to `width * height *
    /// 2` bytes; an odd width loses its last column. [`Decoder::decode`] and
    /// [`Decoder::write_yuyv`] in one.
    pub fn decode_yuyv(&mut self, jpeg: &[u8], out: &mut Vec<u8>) -> Result<Decoded, JpegError> {
        let got = self.decode(jpeg)?;
        out.resize(got.size.0 as usize * got.size.1 as usize * 2, 0);
        self.write_yuyv(out);
        Ok(got)
    }

    /// The picture the last successful [`Decoder::decode`] kept, as YUYV (BT.601 limited
    /// range) into `out`, which holds `width * height * 2` bytes of its [`Decoded::size`]: the
    /// one pass from the library's planes, straight into where the frame goes.
    ///
    /// # Panics
    /// Without a decoded picture, or when `out` is not its size: a caller's mistake.
    pub fn write_yuyv(&self, out: &mut [u8]) {
        let last = self.last.expect("write_yuyv after a successful decode");
        let (w, h) = last.size;
        assert_eq!(
            out.len(),
            w * h * 2,
            "write_yuyv: out is not the picture's size"
        );
        let [y, u, v] = &self.planes;
        let chroma = last.colour.then_some(Chroma {
            u,
            v,
            size: last.dims[1],
        });
        interleave(y, last.dims[0].0, chroma, (w, h), out);
    }

    /// Decodes `jpeg` into the decoder's own planes, for [`Decoder::write_yuyv`]. On an error
    /// nothing is kept; on a warning (corrupt data) the picture is kept as the library wrote it.
    pub fn decode(&mut self, jpeg: &[u8]) -> Result<Decoded, JpegError> {
        self.last = None;
        let h = self.handle.0.as_ptr();
        let (mut width, mut height, mut subsamp, mut colorspace) = (0, 0, 0, 0);
        // SAFETY: `jpeg` is a live slice of the given length; the four out-pointers point to
        // locals.
        let rc = unsafe {
            ffi::tjDecompressHeader3(
                h,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                &mut width,
                &mut height,
                &mut subsamp,
                &mut colorspace,
            )
        };
        if rc != 0 {
            return Err(JpegError(self.handle.last_error().0));
        }
        let subsampling = Subsampling::from_tj(subsamp)
            .ok_or_else(|| JpegError(format!("unknown JPEG subsampling {subsamp}")))?;
        if width < 2 || height < 1 {
            return Err(JpegError(format!("a {width}x{height} JPEG is too small")));
        }
        let components = if subsampling == Subsampling::Gray {
            1
        } else {
            3
        };
        let mut dims = [(0usize, 0usize); 3];
        let mut pointers = [std::ptr::null_mut::<c_uchar>(); 3];
        let mut strides = [0 as c_int; 3];
        for (c, plane) in self.planes.iter_mut().enumerate().take(components) {
            // SAFETY: plain arithmetic on the arguments; returns -1 for an invalid argument.
            let (pw, ph) = unsafe {
                (
                    ffi::tjPlaneWidth(c as c_int, width, subsamp),
                    ffi::tjPlaneHeight(c as c_int, height, subsamp),
                )
            };
            if pw <= 0 || ph <= 0 {
                return Err(JpegError(format!(
                    "no plane size for a {width}x{height} JPEG"
                )));
            }
            dims[c] = (pw as usize, ph as usize);
            plane.resize(pw as usize * ph as usize, 0);
            pointers[c] = plane.as_mut_ptr();
            strides[c] = pw;
        }
        // SAFETY: each of the `components` planes holds stride * plane height bytes (sized
        // just above by tjPlaneWidth/tjPlaneHeight for this width, height and subsampling);
        // the unused pointers of a grey JPEG are null, as the API asks.
        let rc = unsafe {
            ffi::tjDecompressToYUVPlanes(
                h,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                pointers.as_mut_ptr(),
                width,
                strides.as_mut_ptr(),
                height,
                DECODE_FLAGS,
            )
        };
        let mut warning = None;
        if rc != 0 {
            let (text, only_warning) = self.handle.last_error();
            if !only_warning {
                return Err(JpegError(text));
            }
            warning = Some(text);
        }
        let (w, hgt) = ((width as usize) & !1, height as usize);
        self.last = Some(Layout {
            dims,
            colour: components == 3,
            size: (w, hgt),
        });
        Ok(Decoded {
            size: (w as u32, hgt as u32),
            subsampling,
            warning,
        })
    }
}

/// Full-range (JPEG) luma to limited range, `16 + y * 219 / 255` within 1, in 8-bit fixed point
/// (so the interleaving loop vectorises).
#[inline(always)]
fn luma(y: u8) -> u8 {
    (((y as u16 * 220 + 128) >> 8) + 16) as u8
}

/// Full-range (JPEG) chroma to limited range, `128 + (c - 128) * 224 / 255` within 1, in 8-bit
/// fixed point.
#[inline(always)]
fn chroma(c: u8) -> u8 {
    ((c as u16 * 225 + 4112) >> 8) as u8
}

/// The Cb and Cr planes and their size.
struct Chroma<'a> {
    u: &'a [u8],
    v: &'a [u8],
    size: (usize, usize),
}

/// Y and chroma planes (chroma `cw x ch`, any of JPEG's subsamplings) to limited-range YUYV of
/// `w x h` (`w` even). Chroma is taken at the nearest sample at or left of each pixel pair.
fn interleave(
    y: &[u8],
    y_stride: usize,
    chroma_planes: Option<Chroma>,
    (w, h): (usize, usize),
    out: &mut [u8],
) {
    for row in 0..h {
        let yrow = &y[row * y_stride..row * y_stride + w];
        let dst = &mut out[row * w * 2..(row + 1) * w * 2];
        match chroma_planes {
            Some(Chroma {
                u,
                v,
                size: (cw, ch),
            }) => {
                let crow = row * ch / h;
                let urow = &u[crow * cw..(crow + 1) * cw];
                let vrow = &v[crow * cw..(crow + 1) * cw];
                if cw * 2 >= w && cw < w {
                    // 4:2:2 and 4:2:0: one chroma sample per pixel pair.
                    for (((d, yy), &cu), &cv) in dst
                        .chunks_exact_mut(4)
                        .zip(yrow.chunks_exact(2))
                        .zip(urow)
                        .zip(vrow)
                    {
                        d[0] = luma(yy[0]);
                        d[1] = chroma(cu);
                        d[2] = luma(yy[1]);
                        d[3] = chroma(cv);
                    }
                } else {
                    for (pair, (d, yy)) in dst
                        .chunks_exact_mut(4)
                        .zip(yrow.chunks_exact(2))
                        .enumerate()
                    {
                        let cx = (pair * 2 * cw / w).min(cw - 1);
                        d[0] = luma(yy[0]);
                        d[1] = chroma(urow[cx]);
                        d[2] = luma(yy[1]);
                        d[3] = chroma(vrow[cx]);
                    }
                }
            }
            None => {
                for (d, yy) in dst.chunks_exact_mut(4).zip(yrow.chunks_exact(2)) {
                    d[0] = luma(yy[0]);
                    d[1] = 128;
                    d[2] = luma(yy[1]);
                    d[3] = 128;
                }
            }
        }
    }
}

/// Compresses RGB pictures to JPEG.
pub struct Encoder {
    handle: Handle,
}

impl Encoder {
    /// An encoder.
    pub fn new() -> Result<Encoder, JpegError> {
        Ok(Encoder {
            handle: Handle::new(ffi::tjInitCompress, "compressor")?,
        })
    }

    /// `rgb` (`width * height * 3` bytes) as a JPEG of `quality` (1..=100) and `subsampling`.
    pub fn encode_rgb(
        &mut self,
        rgb: &[u8],
        (width, height): (u32, u32),
        quality: u8,
        subsampling: Subsampling,
    ) -> Result<Vec<u8>, JpegError> {
        if rgb.len() < width as usize * height as usize * 3 || width == 0 || height == 0 {
            return Err(JpegError(format!(
                "{} bytes are no {width}x{height} RGB picture",
                rgb.len()
            )));
        }
        let mut buf: *mut c_uchar = std::ptr::null_mut();
        let mut size: c_ulong = 0;
        // SAFETY: `rgb` holds width * height * 3 bytes (checked above), read with pitch
        // width * 3; with a null `buf` the library allocates the output, freed below with
        // tjFree.
        let rc = unsafe {
            ffi::tjCompress2(
                self.handle.0.as_ptr(),
                rgb.as_ptr(),
                width as c_int,
                width as c_int * 3,
                height as c_int,
                ffi::TJPF_RGB,
                &mut buf,
                &mut size,
                subsampling.to_tj(),
                quality.clamp(1, 100) as c_int,
                0,
            )
        };
        let result = if rc == 0 && !buf.is_null() {
            // SAFETY: on success `buf` points to `size` bytes written by the library.
            Ok(unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec())
        } else {
            Err(JpegError(self.handle.last_error().0))
        };
        if !buf.is_null() {
            // SAFETY: `buf` was allocated by tjCompress2 and is freed once.
            unsafe { ffi::tjFree(buf) };
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_common::yuv;

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 90]);
            }
        }
        rgb
    }

    #[test]
    fn range_mapping_within_one_of_the_exact_one() {
        assert_eq!((luma(0), luma(255), luma(128)), (16, 235, 126));
        assert_eq!((chroma(0), chroma(128), chroma(255)), (16, 128, 240));
        for v in 0..=255u8 {
            let exact_luma = 16.0 + v as f64 * 219.0 / 255.0;
            let exact_chroma = 128.0 + (v as f64 - 128.0) * 224.0 / 255.0;
            assert!((luma(v) as f64 - exact_luma).abs() <= 1.0, "luma {v}");
            assert!((chroma(v) as f64 - exact_chroma).abs() <= 1.0, "chroma {v}");
        }
    }

    #[test]
    fn every_subsampling_decodes_to_the_picture_it_encoded() {
        let (w, h) = (64u32, 48u32);
        let rgb = gradient(w, h);
        let mut want = vec![0; (w * h * 2) as usize];
        yuv::rgb_to_yuyv(&rgb, w as usize, h as usize, &mut want);
        let mut enc = Encoder::new().unwrap();
        let mut dec = Decoder::new().unwrap();
        for s in [
            Subsampling::S444,
            Subsampling::S422,
            Subsampling::S420,
            Subsampling::S440,
            Subsampling::S411,
            Subsampling::Gray,
        ] {
            let jpeg = enc.encode_rgb(&rgb, (w, h), 95, s).unwrap();
            let mut out = Vec::new();
            let got = dec.decode_yuyv(&jpeg, &mut out).unwrap();
            assert_eq!((got.size, got.subsampling, got.warning), ((w, h), s, None));
            assert_eq!(out.len(), want.len());
            // Luma within JPEG's loss everywhere; chroma too, except for grey (neutral).
            let worst = |offsets: &[usize]| {
                out.chunks_exact(4)
                    .zip(want.chunks_exact(4))
                    .flat_map(|(a, b)| offsets.iter().map(move |&i| a[i].abs_diff(b[i])))
                    .max()
                    .unwrap()
            };
            assert!(worst(&[0, 2]) <= 6, "{s:?}: luma off by {}", worst(&[0, 2]));
            if s == Subsampling::Gray {
                assert!(out.chunks_exact(4).all(|p| p[1] == 128 && p[3] == 128));
            } else {
                assert!(
                    worst(&[1, 3]) <= 10,
                    "{s:?}: chroma off by {}",
                    worst(&[1, 3])
                );
            }
        }
    }

    #[test]
    fn an_odd_width_loses_its_last_column() {
        let rgb = gradient(33, 8);
        let jpeg = Encoder::new()
            .unwrap()
            .encode_rgb(&rgb, (33, 8), 90, Subsampling::S422)
            .unwrap();
        let mut out = Vec::new();
        let got = Decoder::new()
            .unwrap()
            .decode_yuyv(&jpeg, &mut out)
            .unwrap();
        assert_eq!(got.size, (32, 8));
        assert_eq!(out.len(), 32 * 8 * 2);
    }

    #[test]
    fn garbage_is_an_error_and_a_torn_frame_a_warning() {
        let mut dec = Decoder::new().unwrap();
        let mut out = Vec::new();
        assert!(dec.decode_yuyv(b"not a jpeg at all", &mut out).is_err());
        assert!(dec.decode_yuyv(&[], &mut out).is_err());
        let rgb = gradient(64, 64);
        let jpeg = Encoder::new()
            .unwrap()
            .encode_rgb(&rgb, (64, 64), 90, Subsampling::S422)
            .unwrap();
        let torn = &jpeg[..jpeg.len() * 2 / 3];
        let got = dec.decode_yuyv(torn, &mut out).unwrap();
        assert!(got.warning.is_some(), "{got:?}");
        // The decoder is still good for the next whole frame.
        let got = dec.decode_yuyv(&jpeg, &mut out).unwrap();
        assert_eq!(got.warning, None);
    }
}
