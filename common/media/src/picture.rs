//! Loading pictures and scaling them to cover a frame.

use fast_image_resize::images::{Image, ImageRef};
pub use fast_image_resize::PixelType;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use std::path::Path;

/// Why a picture could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// Unreadable or not an image.
    #[error("{path}: {cause} (use a JPEG or PNG file)")]
    Decode {
        /// The file.
        path: String,
        /// What the decoder said.
        cause: String,
    },
    /// The PNG could not be written.
    #[error("cannot write {path}: {cause}")]
    Save {
        /// The file.
        path: String,
        /// What the encoder or the file system said.
        cause: image::ImageError,
    },
}

/// Loads a JPEG or PNG as RGB, `(width, height, pixels)`.
pub fn load_rgb(path: &Path) -> Result<(u32, u32, Vec<u8>), PictureError> {
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())
        .and_then(|r| r.decode().map_err(|e| e.to_string()))
        .map_err(|cause| PictureError::Decode {
            path: path.display().to_string(),
            cause,
        })?;
    let rgb = img.to_rgb8();
    Ok((rgb.width(), rgb.height(), rgb.into_raw()))
}

/// Scales `src` (tightly packed pixels of `pixel_type`) to `dst_w` x `dst_h`, keeping the
/// aspect ratio by cropping the centre ("cover"), with a bilinear filter.
pub fn resize_cover(
    src: &[u8],
    (src_w, src_h): (u32, u32),
    (dst_w, dst_h): (u32, u32),
    pixel_type: PixelType,
) -> Vec<u8> {
    let mut out = vec![0u8; dst_w as usize * dst_h as usize * pixel_type.size()];
    let crop = cover_crop((src_w, src_h), (dst_w, dst_h));
    resize_into(
        src,
        (src_w, src_h),
        &mut out,
        (dst_w, dst_h),
        pixel_type,
        Some(crop),
    );
    out
}

/// The centred source rectangle `(left, top, width, height)` that has the destination's aspect
/// ratio: what "scale to cover, crop the rest" keeps of the source.
pub fn cover_crop((src_w, src_h): (u32, u32), (dst_w, dst_h): (u32, u32)) -> (f64, f64, f64, f64) {
    let scale = (dst_w as f64 / src_w as f64).max(dst_h as f64 / src_h as f64);
    let (w, h) = (dst_w as f64 / scale, dst_h as f64 / scale);
    ((src_w as f64 - w) / 2.0, (src_h as f64 - h) / 2.0, w, h)
}

/// Scales the `crop` rectangle of `src` (whole image when `None`) to fill `dst`, bilinear.
pub fn resize_into(
    src: &[u8],
    (src_w, src_h): (u32, u32),
    dst: &mut [u8],
    (dst_w, dst_h): (u32, u32),
    pixel_type: PixelType,
    crop: Option<(f64, f64, f64, f64)>,
) {
    let src_img = ImageRef::new(src_w, src_h, src, pixel_type).expect("source buffer size");
    let mut dst_img =
        Image::from_slice_u8(dst_w, dst_h, dst, pixel_type).expect("destination size");
    let mut options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .use_alpha(false);
    if let Some((left, top, width, height)) = crop {
        options = options.crop(left, top, width, height);
    }
    Resizer::new()
        .resize(&src_img, &mut dst_img, &options)
        .expect("pixel types match");
}

/// Loads a picture and returns it as YUYV of exactly `width` x `height`, scaled to cover.
pub fn load_cover_yuyv(path: &Path, width: u32, height: u32) -> Result<Vec<u8>, PictureError> {
    let (w, h, rgb) = load_rgb(path)?;
    let scaled = resize_cover(&rgb, (w, h), (width, height), PixelType::U8x3);
    let mut yuyv = vec![0u8; width as usize * height as usize * 2];
    viba_common::yuv::rgb_to_yuyv(&scaled, width as usize, height as usize, &mut yuyv);
    Ok(yuyv)
}

/// Writes RGB pixels as a PNG.
pub fn save_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), PictureError> {
    image::save_buffer_with_format(
        path,
        rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|cause| PictureError::Save {
        path: path.display().to_string(),
        cause,
    })
}
