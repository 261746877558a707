//! The background, loaded once and kept as YUYV of the frame size.

use viba_common::config::{parse_color, Background};
use viba_common::{picture, yuv};

/// Loads the configured background for frames of `width` x `height`.
pub fn load(config: &Background, width: u32, height: u32) -> Result<Vec<u8>, String> {
    if let Some(path) = &config.image {
        return picture::load_cover_yuyv(path, width, height)
            .map_err(|e| format!("background.image: {e}"));
    }
    let color = config
        .color
        .as_deref()
        .and_then(parse_color)
        .ok_or("background: needs an image or a color")?;
    let mut out = vec![0u8; width as usize * height as usize * 2];
    yuv::fill_yuyv(&mut out, color);
    Ok(out)
}
