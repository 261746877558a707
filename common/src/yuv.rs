//! YUYV (packed 4:2:2, BT.601 limited range) conversions.
//!
//! YUYV stores two pixels in four bytes: `Y0 U Y1 V`; both pixels share U and V. It is what
//! webcams deliver natively and what the fake camera sends by default, so frames travel through
//! the pipeline in it and only small images (the model input, a snapshot) become RGB.

/// Converts one pixel from BT.601 limited-range YUV to RGB.
#[inline]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (y as i32 - 16);
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    let clip = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clip(c + 409 * e),
        clip(c - 100 * d - 208 * e),
        clip(c + 516 * d),
    ]
}

/// Luma of an RGB pixel.
#[inline]
pub fn rgb_to_y(r: u8, g: u8, b: u8) -> u8 {
    (16 + ((66 * r as i32 + 129 * g as i32 + 25 * b as i32 + 128) >> 8)) as u8
}

/// Chroma (U, V) of an RGB pixel.
#[inline]
pub fn rgb_to_uv(r: u8, g: u8, b: u8) -> (u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let u = 128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8);
    let v = 128 + ((112 * r - 94 * g - 18 * b + 128) >> 8);
    (u.clamp(0, 255) as u8, v.clamp(0, 255) as u8)
}

/// RGB (3 bytes per pixel, `width` even) to YUYV. `out` must hold `width * height * 2` bytes.
pub fn rgb_to_yuyv(rgb: &[u8], width: usize, height: usize, out: &mut [u8]) {
    assert!(width.is_multiple_of(2), "YUYV needs an even width");
    assert!(rgb.len() >= width * height * 3 && out.len() >= width * height * 2);
    for (src, dst) in rgb
        .chunks_exact(6)
        .zip(out.chunks_exact_mut(4))
        .take(width * height / 2)
    {
        let (r0, g0, b0) = (src[0], src[1], src[2]);
        let (r1, g1, b1) = (src[3], src[4], src[5]);
        let avg = |a: u8, b: u8| (a as u16 + b as u16).div_ceil(2) as u8;
        let (u, v) = rgb_to_uv(avg(r0, r1), avg(g0, g1), avg(b0, b1));
        dst[0] = rgb_to_y(r0, g0, b0);
        dst[1] = u;
        dst[2] = rgb_to_y(r1, g1, b1);
        dst[3] = v;
    }
}

/// YUYV to RGB (3 bytes per pixel). `out` must hold `width * height * 3` bytes.
pub fn yuyv_to_rgb(yuyv: &[u8], width: usize, height: usize, out: &mut [u8]) {
    assert!(yuyv.len() >= width * height * 2 && out.len() >= width * height * 3);
    for (src, dst) in yuyv
        .chunks_exact(4)
        .zip(out.chunks_exact_mut(6))
        .take(width * height / 2)
    {
        let p0 = yuv_to_rgb(src[0], src[1], src[3]);
        let p1 = yuv_to_rgb(src[2], src[1], src[3]);
        dst[..3].copy_from_slice(&p0);
        dst[3..].copy_from_slice(&p1);
    }
}

/// Planar YUV with chroma planes of `cw` x `ch` (4:2:0, 4:2:2 or 4:4:4) to YUYV of
/// `width` x `height` (`width` even). Chroma is sampled at the nearest chroma position.
pub fn planar_to_yuyv(
    y: &[u8],
    u: &[u8],
    v: &[u8],
    (width, height): (usize, usize),
    (cw, ch): (usize, usize),
    out: &mut [u8],
) {
    assert!(width % 2 == 0 && out.len() >= width * height * 2);
    let x_shift = if cw == width { 0 } else { 1 };
    let y_ratio_num = ch;
    for row in 0..height {
        let crow = row * y_ratio_num / height;
        let yrow = &y[row * width..(row + 1) * width];
        let urow = &u[crow * cw..(crow + 1) * cw];
        let vrow = &v[crow * cw..(crow + 1) * cw];
        let dst = &mut out[row * width * 2..(row + 1) * width * 2];
        for (pair, d) in dst.chunks_exact_mut(4).enumerate() {
            let cx = (pair * 2) >> x_shift;
            d[0] = yrow[pair * 2];
            d[1] = urow[cx];
            d[2] = yrow[pair * 2 + 1];
            d[3] = vrow[cx];
        }
    }
}

/// YUYV to planar 4:2:2 (Y plane `width*height`, then U and V planes `width/2*height` each).
pub fn yuyv_to_planar422(yuyv: &[u8], width: usize, height: usize, out: &mut [u8]) {
    let n = width * height;
    assert!(yuyv.len() >= n * 2 && out.len() >= n * 2);
    let (yp, rest) = out.split_at_mut(n);
    let (up, vp) = rest.split_at_mut(n / 2);
    for (i, src) in yuyv.chunks_exact(4).take(n / 2).enumerate() {
        yp[2 * i] = src[0];
        yp[2 * i + 1] = src[2];
        up[i] = src[1];
        vp[i] = src[3];
    }
}

/// YUYV to YU12 (I420: Y plane `width*height`, then U and V planes of `width/2 * height/2`;
/// `height` even). Each chroma sample is the rounded mean of the two rows it covers.
pub fn yuyv_to_yu12(yuyv: &[u8], width: usize, height: usize, out: &mut [u8]) {
    let n = width * height;
    assert!(width.is_multiple_of(2) && height.is_multiple_of(2));
    assert!(yuyv.len() >= n * 2 && out.len() >= n + n / 2);
    let (yp, rest) = out.split_at_mut(n);
    let (up, vp) = rest.split_at_mut(n / 4);
    let cw = width / 2;
    for row in (0..height).step_by(2) {
        let top = &yuyv[row * width * 2..(row + 1) * width * 2];
        let bottom = &yuyv[(row + 1) * width * 2..(row + 2) * width * 2];
        for (x, (t, b)) in top.chunks_exact(4).zip(bottom.chunks_exact(4)).enumerate() {
            yp[row * width + 2 * x] = t[0];
            yp[row * width + 2 * x + 1] = t[2];
            yp[(row + 1) * width + 2 * x] = b[0];
            yp[(row + 1) * width + 2 * x + 1] = b[2];
            let c = row / 2 * cw + x;
            up[c] = (t[1] as u16 + b[1] as u16).div_ceil(2) as u8;
            vp[c] = (t[3] as u16 + b[3] as u16).div_ceil(2) as u8;
        }
    }
}

/// Fills a YUYV buffer with one RGB colour.
pub fn fill_yuyv(out: &mut [u8], rgb: [u8; 3]) {
    let y = rgb_to_y(rgb[0], rgb[1], rgb[2]);
    let (u, v) = rgb_to_uv(rgb[0], rgb[1], rgb[2]);
    for d in out.chunks_exact_mut(4) {
        d.copy_from_slice(&[y, u, y, v]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yu12_keeps_luma_and_averages_chroma_of_two_rows() {
        // 4x2: row 0 = (Y 10,11 U 100 V 200) (Y 12,13 U 50 V 60); row 1 = U/V one higher.
        let yuyv = [
            10, 100, 11, 200, 12, 50, 13, 60, //
            20, 101, 21, 201, 22, 51, 23, 61,
        ];
        let mut out = [0u8; 12];
        yuyv_to_yu12(&yuyv, 4, 2, &mut out);
        assert_eq!(&out[..8], &[10, 11, 12, 13, 20, 21, 22, 23]);
        assert_eq!(&out[8..10], &[101, 51]); // (100+101+1)/2, (50+51+1)/2
        assert_eq!(&out[10..12], &[201, 61]);
    }

    #[test]
    fn yu12_of_a_flat_colour_is_flat() {
        let mut yuyv = vec![0u8; 8 * 6 * 2];
        fill_yuyv(&mut yuyv, [200, 30, 90]);
        let mut out = vec![0u8; 8 * 6 * 3 / 2];
        yuyv_to_yu12(&yuyv, 8, 6, &mut out);
        let (y, u, v) = (yuyv[0], yuyv[1], yuyv[3]);
        assert!(out[..48].iter().all(|&p| p == y));
        assert!(out[48..60].iter().all(|&p| p == u));
        assert!(out[60..].iter().all(|&p| p == v));
    }

    #[test]
    fn rgb_round_trips_within_rounding() {
        for &(r, g, b) in &[
            (0u8, 0u8, 0u8),
            (255, 255, 255),
            (200, 30, 90),
            (12, 180, 240),
        ] {
            let rgb = [r, g, b, r, g, b];
            let mut yuyv = [0u8; 4];
            rgb_to_yuyv(&rgb, 2, 1, &mut yuyv);
            let mut back = [0u8; 6];
            yuyv_to_rgb(&yuyv, 2, 1, &mut back);
            for (a, b) in rgb.iter().zip(back.iter()) {
                assert!((*a as i32 - *b as i32).abs() <= 3, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn limited_range_extremes() {
        assert_eq!(rgb_to_y(0, 0, 0), 16);
        assert_eq!(rgb_to_y(255, 255, 255), 235);
        assert_eq!(rgb_to_uv(128, 128, 128), (128, 128));
    }

    #[test]
    fn planar_420_to_yuyv_repeats_chroma_rows() {
        let y: Vec<u8> = (0..16).collect();
        let u = [100, 101, 102, 103];
        let v = [200, 201, 202, 203];
        let mut out = vec![0u8; 32];
        planar_to_yuyv(&y, &u, &v, (4, 4), (2, 2), &mut out);
        assert_eq!(&out[0..8], &[0, 100, 1, 200, 2, 101, 3, 201]);
        assert_eq!(&out[8..16], &[4, 100, 5, 200, 6, 101, 7, 201]);
        assert_eq!(&out[16..24], &[8, 102, 9, 202, 10, 103, 11, 203]);
    }
}
