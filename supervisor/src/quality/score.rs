//! Scoring an output frame against the truth.
//!
//! The pipeline composites over a magenta background (far from skin, hair, clothes and rooms),
//! so the alpha it used can be read back from each output pixel: `out = a * frame + (1 - a) *
//! magenta` byte by byte. The pixel's own luma byte gives `a` directly where the frame's luma
//! is at least 24 steps from magenta's (an error of at most 1/48); elsewhere the pair's shared
//! chroma bytes do (least squares over Y, U, V; they carry the pair's mean alpha). Pixels
//! whose colour is within 40 steps of magenta are left out.

/// The background the benchmark composites over, as a config colour and as YUYV samples.
pub const BACKGROUND: &str = "#ff00ff";

fn background_yuv() -> (f32, f32, f32) {
    let y = viba_common::yuv::rgb_to_y(255, 0, 255) as f32;
    let (u, v) = viba_common::yuv::rgb_to_uv(255, 0, 255);
    (y, u as f32, v as f32)
}

/// The alpha the compositor used, per pixel (`None`: too close to the background to tell).
pub fn estimate_alpha(out: &[u8], frame: &[u8]) -> Vec<Option<f32>> {
    let (by, bu, bv) = background_yuv();
    let mut alpha = Vec::with_capacity(out.len() / 2);
    for (o, f) in out.chunks_exact(4).zip(frame.chunks_exact(4)) {
        let (du, dv) = (f[1] as f32 - bu, f[3] as f32 - bv);
        let (ou, ov) = (o[1] as f32 - bu, o[3] as f32 - bv);
        for k in [0, 2] {
            let dy = f[k] as f32 - by;
            let oy = o[k] as f32 - by;
            if dy.abs() >= 24.0 {
                alpha.push(Some((oy / dy).clamp(0.0, 1.0)));
                continue;
            }
            let den = dy * dy + du * du + dv * dv;
            alpha.push(
                (den >= 1600.0).then(|| ((oy * dy + ou * du + ov * dv) / den).clamp(0.0, 1.0)),
            );
        }
    }
    alpha
}

/// Per pixel: whether the square window of radius `r` around it (clipped at the borders)
/// holds both set and unset pixels of `inside`. Integer counts: exact.
fn mixed_windows(inside: &[bool], (w, h): (usize, usize), r: usize) -> Vec<bool> {
    // Summed-area table of `inside`.
    let mut sat = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += inside[y * w + x] as u32;
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = sat[y1 * (w + 1) + x1] + sat[y0 * (w + 1) + x0]
                - sat[y0 * (w + 1) + x1]
                - sat[y1 * (w + 1) + x0];
            out[y * w + x] = n > 0 && (n as usize) < (x1 - x0) * (y1 - y0);
        }
    }
    out
}

/// The truth of one frame, with the regions the scores use.
pub struct Truth {
    /// The true alpha, per pixel (1: person).
    pub alpha: Vec<f32>,
    /// Within `band_radius` of the outline (where the person/background edge is).
    pub band: Vec<bool>,
}

impl Truth {
    /// `band_radius`: pixels each side of the true outline that count as its edge band.
    pub fn new(alpha: Vec<f32>, size: (usize, usize), band_radius: usize) -> Truth {
        let inside: Vec<bool> = alpha.iter().map(|&a| a >= 0.5).collect();
        let near = mixed_windows(&inside, size, band_radius);
        let band = near
            .iter()
            .zip(&alpha)
            .map(|(&n, &a)| n || (a > 0.02 && a < 0.98))
            .collect();
        Truth { alpha, band }
    }
}

/// Scores of one output frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameScore {
    /// IoU of the person (alpha >= 0.5) with the truth.
    pub iou: f64,
    /// Share of the true background (alpha <= 0.02) where the room shows (alpha > 0.1).
    pub leak: f64,
    /// Mean alpha over the true background: how much room shows, on average.
    pub leak_mean: f64,
    /// Share of the true person (alpha >= 0.98) shown at less than half.
    pub cut: f64,
    /// Mean |alpha - truth| in the edge band.
    pub band_error: f64,
}

/// IoU of the person (alpha >= 0.5) between an estimate and a truth.
pub fn iou(est: &[Option<f32>], truth: &[f32]) -> f64 {
    let (mut inter, mut union) = (0u64, 0u64);
    for (e, &t) in est.iter().zip(truth) {
        let Some(e) = e else { continue };
        let (a, b) = (*e >= 0.5, t >= 0.5);
        inter += (a && b) as u64;
        union += (a || b) as u64;
    }
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// IoU of the person (alpha >= 0.5) between two truths.
pub fn iou_truths(a: &[f32], b: &[f32]) -> f64 {
    let (mut inter, mut union) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        let (p, q) = (x >= 0.5, y >= 0.5);
        inter += (p && q) as u64;
        union += (p || q) as u64;
    }
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Scores an estimated alpha (from [`estimate_alpha`]) against the truth; pixels without an
/// estimate are left out.
pub fn score(est: &[Option<f32>], truth: &Truth) -> FrameScore {
    let (mut bg, mut leak, mut leak_sum) = (0u64, 0u64, 0.0f64);
    let (mut fg, mut cut) = (0u64, 0u64);
    let (mut band, mut band_sum) = (0u64, 0.0f64);
    for ((e, &t), &in_band) in est.iter().zip(&truth.alpha).zip(&truth.band) {
        let Some(e) = *e else { continue };
        if t <= 0.02 {
            bg += 1;
            leak += (e > 0.1) as u64;
            leak_sum += e as f64;
        }
        if t >= 0.98 {
            fg += 1;
            cut += (e < 0.5) as u64;
        }
        if in_band {
            band += 1;
            band_sum += (e - t).abs() as f64;
        }
    }
    let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    FrameScore {
        iou: iou(est, &truth.alpha),
        leak: share(leak, bg),
        leak_mean: if bg == 0 { 0.0 } else { leak_sum / bg as f64 },
        cut: share(cut, fg),
        band_error: if band == 0 {
            0.0
        } else {
            band_sum / band as f64
        },
    }
}

/// Mean |a - b| over the pixels both know and `region` keeps: frame-to-frame change.
pub fn change(a: &[Option<f32>], b: &[Option<f32>], region: &[bool]) -> f64 {
    let (mut n, mut sum) = (0u64, 0.0f64);
    for ((x, y), &keep) in a.iter().zip(b).zip(region) {
        if let (Some(x), Some(y), true) = (x, y, keep) {
            n += 1;
            sum += (x - y).abs() as f64;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alpha_used_is_read_back_from_a_composite() {
        // A skin-like frame over magenta at alpha 0, 0.3, 0.7 and 1, blended as the
        // compositor does (per byte, rounded).
        let frame: Vec<u8> = [150u8, 110, 140, 150].repeat(8);
        let mut bg = vec![0u8; frame.len()];
        viba_common::yuv::fill_yuyv(&mut bg, [255, 0, 255]);
        for a in [0u8, 77, 179, 255] {
            let out: Vec<u8> = frame
                .iter()
                .zip(&bg)
                .map(|(&f, &b)| {
                    ((f as u32 * a as u32 + b as u32 * (255 - a as u32) + 127) / 255) as u8
                })
                .collect();
            for e in estimate_alpha(&out, &frame) {
                let e = e.expect("skin is far from magenta");
                assert!((e - a as f32 / 255.0).abs() < 0.02, "{e} vs {a}");
            }
        }
    }

    #[test]
    fn perfect_and_empty_estimates() {
        let size = (8, 8);
        let alpha: Vec<f32> = (0..64).map(|i| if i % 8 < 4 { 1.0 } else { 0.0 }).collect();
        let truth = Truth::new(alpha.clone(), size, 1);
        let perfect: Vec<Option<f32>> = alpha.iter().map(|&a| Some(a)).collect();
        let s = score(&perfect, &truth);
        assert_eq!((s.iou, s.leak, s.cut, s.band_error), (1.0, 0.0, 0.0, 0.0));
        let empty = vec![Some(0.0); 64];
        let s = score(&empty, &truth);
        assert_eq!((s.iou, s.leak, s.cut), (0.0, 0.0, 1.0));
        let all = vec![Some(1.0); 64];
        let s = score(&all, &truth);
        assert_eq!((s.leak, s.leak_mean, s.cut), (1.0, 1.0, 0.0));
        // The band: columns 3 and 4 (one pixel each side of the edge).
        assert_eq!(truth.band.iter().filter(|&&b| b).count(), 16);
    }
}
