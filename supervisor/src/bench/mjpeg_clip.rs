//! `viba-bench --input mjpeg`: the test picture, panning slowly, as JPEG frames like a
//! webcam's (4:2:2, quality 90) in a Motion JPEG file. The capture stage reads it as a
//! `video` source, which decodes every frame it shows with the decoder the camera source
//! uses, so the benchmark's capture figure includes an MJPEG camera's decode.

use std::path::Path;
use viba_media::jpeg::{Encoder, Subsampling};
use viba_media::picture::{self, PixelType};

/// Frames in the clip (it loops): two seconds at 30 fps.
pub const FRAMES: usize = 60;
/// JPEG quality of the frames: what webcams' MJPEG is typically encoded at.
pub const QUALITY: u8 = 90;

/// Writes the clip of `image` at `size` to `out`; returns the mean bytes per frame.
pub fn write(image: &Path, size: (u32, u32), out: &Path) -> Result<usize, String> {
    let (w, h, rgb) = picture::load_rgb(image).map_err(|e| e.to_string())?;
    let mut encoder = Encoder::new().map_err(|e| e.to_string())?;
    let (left, top, cw, ch) = picture::cover_crop((w, h), size);
    // A window 90 % of the cover crop, panning across the other 10 % and back.
    let (ww, wh) = (cw * 0.9, ch * 0.9);
    let mut frame = vec![0u8; size.0 as usize * size.1 as usize * 3];
    let mut clip = Vec::new();
    for i in 0..FRAMES {
        let phase = (i as f64 / FRAMES as f64 * std::f64::consts::TAU).sin() * 0.5 + 0.5;
        let crop = (left + (cw - ww) * phase, top + (ch - wh) / 2.0, ww, wh);
        picture::resize_into(&rgb, (w, h), &mut frame, size, PixelType::U8x3, Some(crop));
        let jpeg = encoder
            .encode_rgb(&frame, size, QUALITY, Subsampling::S422)
            .map_err(|e| e.to_string())?;
        clip.extend_from_slice(&jpeg);
    }
    std::fs::write(out, &clip).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(clip.len() / FRAMES)
}
