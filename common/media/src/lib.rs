//! The viba processes' media code: cameras and the fake webcam (V4L2), JPEG, pictures, Y4M
//! files and who holds a device. Built on `viba-common`; the segmenter uses neither this crate
//! nor what it links (`v4l`, `image`, libjpeg-turbo).
//!
//! - [`v4l2io`]: opening V4L2 nodes and memory-mapped streaming, for the camera source and the
//!   fake-webcam sink.
//! - [`camera_modes`]: every mode a camera lists, for [`viba_common::camera_mode::choose`].
//! - [`jpeg`]: MJPEG frames decoded straight to YUYV (libjpeg-turbo), and JPEG encoding.
//! - [`picture`]: JPEG and PNG pictures loaded as RGB, scaled to cover a frame, saved as PNG.
//! - [`y4m`]: the whole frames of a YUV4MPEG2 file, found without reading their pictures.
//! - [`openers`]: which processes have a file (a camera, the fake webcam) open.
//!
//! ```no_run
//! use std::path::Path;
//! let (width, height, rgb) = viba_media::picture::load_rgb(Path::new("photo.jpg")).unwrap();
//! let mut yuyv = vec![0u8; width as usize * height as usize * 2];
//! viba_common::yuv::rgb_to_yuyv(&rgb, width as usize, height as usize, &mut yuyv);
//! ```
#![deny(missing_docs)]

pub mod camera_modes;
pub mod jpeg;
pub mod loopback;
pub mod openers;
pub mod picture;
pub mod v4l2io;
pub mod y4m;
