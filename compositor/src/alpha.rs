//! From a low-resolution person probability mask to a full-resolution alpha row.
//!
//! The threshold with a soft edge is applied to the small mask through a 256-entry table,
//! then the result is upsampled bilinearly: the soft edge spans at least one mask pixel,
//! which also feathers the cut-out.

/// Maps mask probabilities (0..255) to alpha (0..255): 0 below `threshold - softness/2`, 255
/// above `threshold + softness/2`, a smoothstep in between. The soft edge is cut to 0..1, so
/// whatever the config, probability 0 is always alpha 0 (the room never shows through where
/// the model sees no person) and probability 1 always alpha 255 (the person is never see-through).
pub fn lut(threshold: f32, softness: f32) -> [u8; 256] {
    let mut table = [0u8; 256];
    let lo = (threshold - softness / 2.0).max(0.0);
    let hi = (threshold + softness / 2.0).min(1.0);
    for (i, a) in table.iter_mut().enumerate() {
        let p = i as f32 / 255.0;
        let t = if hi - lo <= 0.0 {
            if p >= threshold {
                1.0
            } else {
                0.0
            }
        } else {
            ((p - lo) / (hi - lo)).clamp(0.0, 1.0)
        };
        *a = (t * t * (3.0 - 2.0 * t) * 255.0).round() as u8;
    }
    table
}

/// How much lower the threshold is in the outermost mask columns (`segmentation.sides`): 0.1,
/// but never under [`SIDE_FLOOR`] (0.6 becomes 0.5, 0.55 becomes 0.5, 0.5 and less stay).
pub const SIDE_DROP: f32 = 0.1;
/// The lowest threshold the sides lower to: the model's even odds. Under it the room shows
/// there too: with the raw model's threshold of 0.5 lowered to 0.42 at the sides, the leak on
/// `greenman-living-static-480x480` rose from 1.42 to 1.67 % (docs/QUALITY.md, 2026-12-07
/// 20:30).
pub const SIDE_FLOOR: f32 = 0.5;
/// The band of mask columns at either side where the threshold is lowered is the mask's width
/// over this, a tenth (25 of the landscape model's 256 columns); the threshold is lowered less
/// and less towards the band's inner end.
pub const SIDE_BAND: usize = 10;

/// The soft threshold at the frame's left and right edges (`segmentation.sides`).
///
/// A body cut by the frame's side (shoulders wider than the frame, someone leaning in) is
/// where the model is least sure of the person: it sees the body end at the picture's edge,
/// without the rest of it. On the benchmark's still portrait it gives the shoulder running out
/// of the frame 0.5-0.7, and the default threshold of 0.6 (raised from the model's even odds
/// against the room it half calls person: cushions, arms' gaps) cut a wedge out of it
/// (docs/QUALITY.md, 2026-12-07 20:30). Lowered everywhere, the threshold lets that room show;
/// lowered only at the sides, it changed little else on 25 sequences.
///
/// Column `d` from the nearer side (`d` below the band) goes through the table of the threshold
/// `t(d) = threshold - (threshold - edge) * (band - d) / band`, where `edge` is the threshold
/// [`SIDE_DROP`] lower and at least `min(threshold, SIDE_FLOOR)`. It shows nothing of a cell
/// that `lut(threshold, softness)` shows nothing of: under the soft threshold's lower end a
/// cell is room everywhere (the segmenter's islands and plate count it so: an island dropped
/// leaves no faint rim at the sides, and the plate learns no cell that is shown). The other
/// columns are left as they are.
#[derive(Debug, Clone)]
pub struct SideTables {
    /// `tables[d]`: the table of the columns `d` and `width - 1 - d`.
    tables: Vec<[u8; 256]>,
}

impl SideTables {
    /// For masks `width` columns wide.
    pub fn new(threshold: f32, softness: f32, width: usize) -> SideTables {
        let band = (width / SIDE_BAND).max(1).min(width / 2);
        let edge = (threshold - SIDE_DROP).max(SIDE_FLOOR.min(threshold));
        let room = lut(threshold, softness).map(|a| a == 0);
        let tables = (0..band)
            .map(|d| {
                let share = (band - d) as f32 / band as f32;
                let mut table = lut(threshold - (threshold - edge) * share, softness);
                for (a, &room) in table.iter_mut().zip(&room) {
                    if room {
                        *a = 0;
                    }
                }
                table
            })
            .collect();
        SideTables { tables }
    }

    /// The mask columns at either side that get a table of their own.
    pub fn band(&self) -> usize {
        self.tables.len()
    }

    /// Thresholds the side columns of `mask` (probabilities 0..255, `width` columns a row)
    /// into `out` (alpha 0..255, the same size), whose other columns are left as they are.
    pub fn apply(&self, mask: &[u8], out: &mut [u8], width: usize) {
        for (p, a) in mask.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            for (d, table) in self.tables.iter().enumerate() {
                a[d] = table[p[d] as usize];
                a[width - 1 - d] = table[p[width - 1 - d] as usize];
            }
        }
    }
}

/// Precomputed bilinear sampling positions from a `src` line of `n_src` samples to `n_dst`
/// samples (pixel centres aligned): for each output position, the two source indices and the
/// weight of the second (0..=256).
#[derive(Debug, Clone)]
pub struct Taps {
    /// The first source index of each output position.
    pub i0: Vec<u32>,
    /// The second source index (the first again at the line's ends).
    pub i1: Vec<u32>,
    /// The second's weight, 0..=256.
    pub w1: Vec<u16>,
}

impl Taps {
    /// The taps from `n_src` samples to `n_dst`.
    pub fn new(n_src: usize, n_dst: usize) -> Taps {
        let (mut i0, mut i1, mut w1) = (Vec::new(), Vec::new(), Vec::new());
        let ratio = n_src as f64 / n_dst as f64;
        for d in 0..n_dst {
            let s = ((d as f64 + 0.5) * ratio - 0.5).clamp(0.0, (n_src - 1) as f64);
            let a = s.floor() as usize;
            let b = (a + 1).min(n_src - 1);
            i0.push(a as u32);
            i1.push(b as u32);
            w1.push(((s - a as f64) * 256.0).round() as u16);
        }
        Taps { i0, i1, w1 }
    }
}

/// Upsamples a small alpha image to the frame size, one output row at a time.
pub struct Upsampler {
    mask_width: usize,
    mask_height: usize,
    width: usize,
    cols: Taps,
    rows: Taps,
    /// Each mask row, upsampled horizontally to `width` and laid out per YUYV byte:
    /// `a0 ac a1 ac` for each pixel pair, `ac` being the mean of the pair's alphas (for the
    /// shared chroma bytes).
    wide: Vec<u8>,
}

impl Upsampler {
    /// For masks of `mask_size` and frames of `frame_size` (width, height).
    pub fn new(mask_size: (usize, usize), frame_size: (usize, usize)) -> Upsampler {
        let (mw, mh) = mask_size;
        let (w, h) = frame_size;
        Upsampler {
            mask_width: mw,
            mask_height: mh,
            width: w,
            cols: Taps::new(mw, w),
            rows: Taps::new(mh, h),
            wide: vec![0; mh * w * 2],
        }
    }

    /// Takes a new small alpha image (`mask_width * mask_height`) and widens its rows.
    pub fn set_mask(&mut self, alpha: &[u8]) {
        let stride = self.width * 2;
        let sample = |src: &[u8], x: usize| {
            let a = src[self.cols.i0[x] as usize] as u16;
            let b = src[self.cols.i1[x] as usize] as u16;
            let wb = self.cols.w1[x];
            (a * (256 - wb) + b * wb + 128) >> 8
        };
        for (r, src) in alpha
            .chunks_exact(self.mask_width)
            .take(self.mask_height)
            .enumerate()
        {
            let dst = &mut self.wide[r * stride..(r + 1) * stride];
            for (pair, q) in dst.chunks_exact_mut(4).enumerate() {
                let a0 = sample(src, 2 * pair);
                let a1 = sample(src, 2 * pair + 1);
                let ac = (a0 + a1 + 1) >> 1;
                q.copy_from_slice(&[a0 as u8, ac as u8, a1 as u8, ac as u8]);
            }
        }
    }

    /// Alpha of output row `y` for each byte of a YUYV row (`2 * width` long): `a0 ac a1 ac`
    /// per pixel pair, where `ac` (for the shared chroma) is the mean of the pair's alphas.
    #[inline(always)]
    pub fn row(&self, y: usize, out: &mut [u8]) {
        let w = self.width * 2;
        let r0 = self.rows.i0[y] as usize;
        let r1 = self.rows.i1[y] as usize;
        let wb = self.rows.w1[y];
        let wa = 256 - wb;
        let a = &self.wide[r0 * w..(r0 + 1) * w];
        let b = &self.wide[r1 * w..(r1 + 1) * w];
        for ((o, &x0), &x1) in out[..w].iter_mut().zip(a).zip(b) {
            *o = ((x0 as u16 * wa + x1 as u16 * wb + 128) >> 8) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lut_is_a_step_around_the_threshold() {
        let t = lut(0.5, 0.2);
        assert_eq!(t[0], 0);
        assert_eq!(t[101], 0); // p = 0.396 < 0.4
        assert_eq!(t[255], 255);
        assert_eq!(t[154], 255); // p = 0.604 > 0.6
        assert!(t[128] > 100 && t[128] < 155);
        let hard = lut(0.5, 0.0);
        assert_eq!((hard[127], hard[128]), (0, 255));
    }

    #[test]
    fn no_config_shows_the_room_where_the_model_sees_nobody() {
        for threshold in [0.01f32, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99] {
            for softness in [0.0f32, 0.1, 0.3, 0.6, 1.0] {
                let t = lut(threshold, softness);
                assert_eq!(t[0], 0, "threshold {threshold} softness {softness}");
                assert_eq!(t[255], 255, "threshold {threshold} softness {softness}");
                assert!(t.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }

    #[test]
    fn the_sides_have_a_lower_threshold_that_rises_to_the_threshold_inwards() {
        let (threshold, softness) = (0.6, 0.3);
        let main = lut(threshold, softness);
        let sides = SideTables::new(threshold, softness, 256);
        assert_eq!(sides.band(), 25);
        // Every probability through every column of a 256-wide mask, one row each.
        let mask: Vec<u8> = (0..=255u8).flat_map(|p| [p; 256]).collect();
        let mut out: Vec<u8> = mask.iter().map(|&p| main[p as usize]).collect();
        sides.apply(&mask, &mut out, 256);
        // The threshold lowered, but a cell under the soft threshold's lower end (0.45) shown
        // nowhere.
        let at = |threshold: f32, p: usize| {
            if main[p] == 0 {
                0
            } else {
                lut(threshold, softness)[p]
            }
        };
        for (p, row) in out.chunks_exact(256).enumerate() {
            // The outermost columns: the threshold 0.1 lower, 0.5.
            assert_eq!(row[0], at(0.5, p), "p {p}");
            // Column 12 of the band's 25: 13/25 of the drop, 0.548.
            assert!(row[12].abs_diff(at(0.548, p)) <= 1, "p {p}: {}", row[12]);
            // Inwards it rises to the threshold, column by column, the same at both sides.
            for d in 0..128 {
                assert_eq!(row[d], row[255 - d], "p {p} column {d}");
                assert!(row[d] >= row[d + 1], "p {p}: column {d} {row:?}");
            }
            assert!(row[24] >= main[p] && row[25..231].iter().all(|&a| a == main[p]));
        }
        // The lower end is where the main table's is (0.45, where its first byte above 0 comes
        // a little later): up to it nothing shows, from it the side shows much more.
        let first = (0..256).find(|&p| main[p] > 0).unwrap();
        assert!((115..=118).contains(&first), "{first}");
        assert!(out[(first - 1) * 256..first * 256].iter().all(|&a| a == 0));
        assert!(out[first * 256] > 40, "{}", out[first * 256]);
        // An unsure cell (0.55) shows more of the person at the side than inside.
        let unsure = &out[140 * 256..141 * 256];
        assert!(unsure[0] > 150 && unsure[128] < 110, "{unsure:?}");
        assert_eq!(unsure[25], main[140]);
        // 0.1 lower, but never under the model's even odds: 0.55 to 0.5, 0.5 and less as they are.
        for (threshold, edge) in [(0.8f32, 0.7f32), (0.55, 0.5), (0.5, 0.5), (0.3, 0.3)] {
            let sides = SideTables::new(threshold, softness, 256);
            let mut out = [0u8; 256 * 256];
            sides.apply(&mask, &mut out, 256);
            let main = lut(threshold, softness);
            for p in 0..256 {
                let want = if main[p] == 0 {
                    0
                } else {
                    lut(edge, softness)[p]
                };
                assert_eq!(out[p * 256], want, "{threshold}: p {p}");
            }
        }
        // Narrow masks: a column a side at least, never more than half the width.
        assert_eq!(SideTables::new(0.6, 0.3, 12).band(), 1);
        assert_eq!(SideTables::new(0.6, 0.3, 1).band(), 0);
    }

    #[test]
    fn constant_masks_upsample_to_constants() {
        for v in [0u8, 77, 255] {
            let mut up = Upsampler::new((4, 3), (10, 7));
            up.set_mask(&[v; 12]);
            let mut row = [0u8; 20];
            for y in 0..7 {
                up.row(y, &mut row);
                assert_eq!(row, [v; 20]);
            }
        }
    }

    #[test]
    fn upsampling_interpolates_between_columns() {
        let mut up = Upsampler::new((2, 1), (8, 1));
        up.set_mask(&[0, 255]);
        let mut row = [0u8; 16];
        up.row(0, &mut row);
        // Luma alphas (bytes 0 and 2 of each pair) rise from 0 to 255.
        let luma: Vec<u8> = row.chunks_exact(4).flat_map(|q| [q[0], q[2]]).collect();
        assert_eq!(luma[0], 0);
        assert_eq!(luma[7], 255);
        assert!(luma.windows(2).all(|w| w[0] <= w[1]), "{luma:?}");
        // Chroma alphas are the mean of the pair.
        for q in row.chunks_exact(4) {
            assert_eq!(q[1], (q[0] as u16 + q[2] as u16).div_ceil(2) as u8);
            assert_eq!(q[1], q[3]);
        }
    }
}
