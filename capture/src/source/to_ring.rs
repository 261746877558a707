//! A camera's picture (YUYV with a row stride, or an MJPEG frame) made into the ring's frame:
//! YUYV of the ring's size, scaled to cover it when the picture's size differs.
//!
//! MJPEG goes straight to YUYV (`jpeg::Decoder`: the JPEG's own Y, Cb and Cr planes, no RGB
//! step); only a picture that must be scaled passes through RGB.

use viba_common::yuv;
use viba_media::jpeg;
use viba_media::picture::{self, PixelType};

/// Frames in a row with corrupt data after which a camera is taken to always send such
/// frames, and they are shown rather than all dropped.
const ALWAYS_CORRUPT: u32 = 30;

/// Converts pictures into the ring's frame; keeps its buffers between frames.
pub struct ToRing {
    /// The ring's frame size.
    size: (u32, u32),
    /// For messages: the device or file.
    name: String,
    frame: Vec<u8>,
    rgb: Vec<u8>,
    scaled: Vec<u8>,
    decoded: Vec<u8>,
    jpeg: Option<jpeg::Decoder>,
    /// The ring's frame is the MJPEG decoder's last picture, still in its planes: written
    /// straight into the ring by [`ToRing::copy_to`] (one pass, no copy of a whole frame).
    in_decoder: bool,
    /// The last `yuyv` or `mjpeg` call returned `Ok`: what [`ToRing::copy_to`] writes is its
    /// frame (after an error it would be an older one).
    ready: bool,
    corrupt_run: u32,
    corrupt_logged: bool,
}

impl ToRing {
    /// A converter to frames of `size`; `name` names the source in messages.
    pub fn new(size: (u32, u32), name: &str) -> ToRing {
        ToRing {
            size,
            name: name.to_string(),
            frame: vec![0; size.0 as usize * size.1 as usize * 2],
            rgb: Vec::new(),
            scaled: Vec::new(),
            decoded: Vec::new(),
            jpeg: None,
            in_decoder: false,
            ready: false,
            corrupt_run: 0,
            corrupt_logged: false,
        }
    }

    /// Writes the frame the last `yuyv` or `mjpeg` call made (ring size) into `out`: for the
    /// sources' `copy_to` after `Fill::Frame`, that is after a call that returned `Ok`.
    pub fn copy_to(&self, out: &mut [u8]) {
        debug_assert!(
            self.ready,
            "{}: copy_to after a failed conversion",
            self.name
        );
        match &self.jpeg {
            Some(decoder) if self.in_decoder => decoder.write_yuyv(out),
            _ => out.copy_from_slice(&self.frame),
        }
    }

    /// A YUYV picture of `size` whose rows are `stride` bytes apart.
    pub fn yuyv(&mut self, data: &[u8], (sw, sh): (u32, u32), stride: usize) -> Result<(), String> {
        let row = sw as usize * 2;
        self.in_decoder = false;
        self.ready = false;
        if sh == 0 || data.len() < stride * (sh as usize - 1) + row {
            return Err(format!(
                "short frame: {} bytes for {sw}x{sh} YUYV",
                data.len()
            ));
        }
        if (sw, sh) == self.size {
            for (y, dst) in self.frame.chunks_exact_mut(row).enumerate() {
                dst.copy_from_slice(&data[y * stride..y * stride + row]);
            }
            self.ready = true;
            return Ok(());
        }
        let mut packed = std::mem::take(&mut self.decoded);
        packed.clear();
        for y in 0..sh as usize {
            packed.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        self.decoded = packed;
        self.scale_decoded((sw, sh));
        self.ready = true;
        Ok(())
    }

    /// An MJPEG frame. A frame with corrupt data (torn in transfer) is an error, so it is
    /// skipped, unless the camera sends nothing else (`ALWAYS_CORRUPT` in a row): then such
    /// frames are shown as decoded.
    pub fn mjpeg(&mut self, data: &[u8]) -> Result<(), String> {
        self.in_decoder = false;
        self.ready = false;
        if self.jpeg.is_none() {
            self.jpeg = Some(jpeg::Decoder::new().map_err(|e| e.to_string())?);
        }
        let decoder = self.jpeg.as_mut().expect("made above");
        let got = decoder
            .decode(data)
            .map_err(|e| format!("bad MJPEG frame: {e}"))?;
        match got.warning {
            Some(w) => {
                self.corrupt_run = self.corrupt_run.saturating_add(1);
                if self.corrupt_run < ALWAYS_CORRUPT {
                    return Err(format!("corrupt MJPEG frame: {w}"));
                }
                if !self.corrupt_logged {
                    self.corrupt_logged = true;
                    eprintln!(
                        "viba-capture: {}: every MJPEG frame has corrupt data ({w}); showing them as decoded",
                        self.name
                    );
                }
            }
            None => self.corrupt_run = 0,
        }
        if got.size == self.size {
            self.in_decoder = true;
        } else {
            let (w, h) = (got.size.0 as usize, got.size.1 as usize);
            self.decoded.resize(w * h * 2, 0);
            decoder.write_yuyv(&mut self.decoded);
            self.scale_decoded(got.size);
        }
        self.ready = true;
        Ok(())
    }

    /// `self.decoded` (packed YUYV of `src`) scaled to cover the ring size, into the frame.
    fn scale_decoded(&mut self, src: (u32, u32)) {
        let (sw, sh) = (src.0 as usize, src.1 as usize);
        self.rgb.resize(sw * sh * 3, 0);
        yuv::yuyv_to_rgb(&self.decoded, sw, sh, &mut self.rgb);
        let (dw, dh) = self.size;
        let mut out = std::mem::take(&mut self.scaled);
        out.resize(dw as usize * dh as usize * 3, 0);
        picture::resize_into(
            &self.rgb,
            src,
            &mut out,
            (dw, dh),
            PixelType::U8x3,
            Some(picture::cover_crop(src, (dw, dh))),
        );
        yuv::rgb_to_yuyv(&out, dw as usize, dh as usize, &mut self.frame);
        self.scaled = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use viba_media::jpeg::{Decoder, Encoder, Subsampling};

    /// The ring's frame as [`ToRing::copy_to`] writes it.
    fn jpeg_of_two_colours((w, h): (u32, u32)) -> Vec<u8> {
        Encoder::new()
            .unwrap()
            .encode_rgb(&two_colours(w, h), (w, h), 90, Subsampling::S422)
            .unwrap()
    }

    /// The ring's frame as [`ToRing::copy_to`] writes it.
    fn copied(to: &ToRing) -> Vec<u8> {
        let mut out = vec![0; to.size.0 as usize * to.size.1 as usize * 2];
        to.copy_to(&mut out);
        out
    }

    #[test]
    fn a_frame_from_the_decoder_and_one_copied_are_the_ring_frame_in_turn() {
        // MJPEG of the ring's size is written from the decoder's planes; a YUYV frame after
        // it must replace it, and an MJPEG frame after that replace the YUYV one.
        let jpeg = jpeg_of_two_colours((64, 32));
        let mut want = Vec::new();
        Decoder::new()
            .unwrap()
            .decode_yuyv(&jpeg, &mut want)
            .unwrap();
        let mut to = ToRing::new((64, 32), "test");
        to.mjpeg(&jpeg).unwrap();
        assert_eq!(copied(&to), want);
        let grey = vec![128u8; 64 * 32 * 2];
        to.yuyv(&grey, (64, 32), 128).unwrap();
        assert_eq!(copied(&to), grey);
        to.mjpeg(&jpeg).unwrap();
        assert_eq!(copied(&to), want);
        // A bad frame is an error, and the decoder is good for the next one.
        assert!(to.mjpeg(b"garbage").is_err());
        to.mjpeg(&jpeg).unwrap();
        assert_eq!(copied(&to), want);
    }

    fn two_colours(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                if i % w < w / 2 {
                    [200, 40, 40]
                } else {
                    [40, 40, 200]
                }
            })
            .collect()
    }

    #[test]
    fn mjpeg_of_the_ring_size_and_of_another_size_cover_the_ring() {
        for (src, ring) in [
            ((64, 32), (64, 32)),
            ((128, 64), (64, 32)),
            ((64, 64), (64, 32)),
        ] {
            let jpeg = jpeg_of_two_colours(src);
            let mut to = ToRing::new(ring, "test");
            to.mjpeg(&jpeg).unwrap();
            let frame = copied(&to);
            // Left half red (V high), right half blue (U high), on every row.
            let row = ring.0 as usize * 2;
            for line in frame.chunks_exact(row) {
                let (l, r) = (&line[4..8], &line[row - 8..row - 4]);
                assert!(l[3] > 180 && l[1] < 128, "{src:?}->{ring:?} left {l:?}");
                assert!(r[1] > 180 && r[3] < 128, "{src:?}->{ring:?} right {r:?}");
            }
        }
    }

    #[test]
    fn torn_frames_are_skipped_until_the_camera_sends_nothing_else() {
        let jpeg = jpeg_of_two_colours((64, 64));
        // Cut inside the scan data: decodes with a warning.
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let torn = &jpeg[..sos + (jpeg.len() - sos) / 2];
        let mut to = ToRing::new((64, 64), "test");
        to.mjpeg(&jpeg).unwrap();
        for _ in 1..ALWAYS_CORRUPT {
            assert!(to.mjpeg(torn).unwrap_err().contains("corrupt MJPEG frame"));
        }
        to.mjpeg(torn).unwrap();
        // A whole frame starts the count again.
        to.mjpeg(&jpeg).unwrap();
        assert!(to.mjpeg(torn).is_err());
        assert!(to
            .mjpeg(b"garbage")
            .unwrap_err()
            .starts_with("bad MJPEG frame: "));
    }

    #[test]
    fn yuyv_with_a_stride_and_a_short_buffer() {
        let mut to = ToRing::new((4, 2), "test");
        let data: Vec<u8> = (0..2 * 12).map(|i| i as u8).collect();
        to.yuyv(&data, (4, 2), 12).unwrap();
        let frame = copied(&to);
        assert_eq!(&frame[..8], &data[..8]);
        assert_eq!(&frame[8..], &data[12..20]);
        assert!(to.yuyv(&data[..15], (4, 2), 12).is_err());
    }
}
