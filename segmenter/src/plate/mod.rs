//! A learnt background plate: what the room looks like, cell by cell, learnt over many frames
//! from the cells the mask calls room and that lie away from the person. Where the model then
//! calls a cell person although the frame there matches the plate (the room that was seen
//! there before, within its own noise), in its 3x3 neighbourhood too, the cell is room and the
//! mask is lowered there. This removes the model's false person next to the outline (dark
//! hair against a dark wall, a sofa beside the shoulders) once the person has moved off it.
//!
//! It only ever lowers the mask, and only where the room was seen: where the frame differs from
//! the plate (the person, a new shadow, changed light, a moved camera) the model's mask stays as
//! it was. A cell's plate follows slow change (an exponential average of its colour) and starts
//! again when its colour jumps; when most of the learnt room jumps at once (the camera moved,
//! the light was switched) the whole plate starts again.

/// Frames a cell must have been seen as room before its plate is used.
const MATURE: u16 = 6;
/// The running average's slowest rate (it averages the first `1 / RATE` frames equally).
const RATE: f32 = 1.0 / 32.0;
/// Cells within this many cells of any part of the mask (at or above [`NEAR_LOW`]) are not
/// learnt: the person's edge, and the model's own blur around it, never enter the plate.
const NEAR: usize = 2;
/// Mask value (0..255) from which a cell counts as part of the person for [`NEAR`].
const NEAR_LOW: u8 = 26;
/// A cell matches its plate when its colour distance (|dY| + |dU| + |dV|, 0..255 steps) is at
/// most `max(FLOOR, SPREAD * dev)` (`dev`: the cell's own mean distance while learnt) ...
const FLOOR: f32 = 6.0;
const SPREAD: f32 = 3.0;
/// ... and its colour restarts when the distance of a learnt cell exceeds `RESTART` times that.
const RESTART: f32 = 4.0;
/// Share of the learnt room cells restarting in one frame from which the whole plate restarts.
const MOVED: f32 = 0.5;
/// Distance (relative to the match tolerance, 3x3 mean) up to which a cell is room for sure;
/// from there to 1 the mask is lowered less and less; unlearnt cells count as [`FAR`].
const SURE: f32 = 0.5;
const FAR: f32 = 4.0;

/// The plate and its scratch, for masks of `width` x `height` cells (the model's output; the
/// frame's colour at the same cells).
pub struct Plate {
    on: bool,
    width: usize,
    height: usize,
    mean: [Vec<f32>; 3],
    dev: Vec<f32>,
    seen: Vec<u16>,
    /// Scratch: distance to the plate relative to the tolerance, and its 3x3 mean.
    dist: Vec<f32>,
    near: Vec<u8>,
    rows: Vec<f32>,
}

impl Plate {
    /// For masks of `width` x `height`; `on`: `segmentation.plate`.
    pub fn new(width: usize, height: usize, on: bool) -> Plate {
        let n = width * height;
        Plate {
            on,
            width,
            height,
            mean: std::array::from_fn(|_| vec![0.0; n]),
            dev: vec![0.0; n],
            seen: vec![0; n],
            dist: vec![0.0; n],
            near: vec![0; n],
            rows: vec![0.0; n],
        }
    }

    /// Turns the plate on or off (`segmentation.plate` changed while running); off forgets it.
    pub fn set(&mut self, on: bool) {
        if !on {
            self.seen.fill(0);
        }
        self.on = on;
    }

    /// Lowers `mask` (0..255, in place) where the frame's colour (Y, U, V planes, 0..255, the
    /// same cells) matches the learnt room in the cell and around it.
    pub fn apply(&mut self, yuv: [&[f32]; 3], mask: &mut [u8]) {
        if !self.on {
            return;
        }
        let (w, h) = (self.width, self.height);
        for (i, dist) in self.dist.iter_mut().enumerate() {
            *dist = if self.seen[i] >= MATURE {
                let d: f32 = (0..3).map(|k| (yuv[k][i] - self.mean[k][i]).abs()).sum();
                (d / tolerance(self.dev[i])).min(FAR)
            } else {
                FAR
            };
        }
        // 3x3 mean, clipped at the borders: along rows into `rows`, then down columns.
        for y in 0..h {
            let (src, dst) = (&self.dist[y * w..][..w], &mut self.rows[y * w..][..w]);
            for (x, d) in dst.iter_mut().enumerate() {
                let (a, b) = (x.saturating_sub(1), (x + 2).min(w));
                *d = src[a..b].iter().sum::<f32>() / (b - a) as f32;
            }
        }
        for y in 0..h {
            let (a, b) = (y.saturating_sub(1), (y + 2).min(h));
            for x in 0..w {
                let i = y * w + x;
                if mask[i] == 0 {
                    continue;
                }
                let m = (a..b).map(|yy| self.rows[yy * w + x]).sum::<f32>() / (b - a) as f32;
                let room = ((1.0 - m) / (1.0 - SURE)).clamp(0.0, 1.0);
                mask[i] = (mask[i] as f32 * (1.0 - room) + 0.5) as u8;
            }
        }
    }

    /// Learns the room from the frame's colour where `mask` (the mask published, model cells)
    /// shows nothing of the person within [`NEAR`] cells.
    pub fn learn(&mut self, yuv: [&[f32]; 3], mask: &[u8]) {
        if !self.on {
            return;
        }
        self.mark_near(mask);
        let (mut learnt, mut restarted) = (0usize, 0usize);
        for i in 0..self.width * self.height {
            if self.near[i] != 0 {
                continue;
            }
            let c = [yuv[0][i], yuv[1][i], yuv[2][i]];
            let seen = self.seen[i];
            if seen == 0 {
                for (m, v) in self.mean.iter_mut().zip(c) {
                    m[i] = v;
                }
                self.dev[i] = 0.0;
                self.seen[i] = 1;
                continue;
            }
            let d: f32 = (0..3).map(|k| (c[k] - self.mean[k][i]).abs()).sum();
            if seen >= MATURE {
                learnt += 1;
            }
            if d > RESTART * tolerance(self.dev[i]) {
                if seen >= MATURE {
                    restarted += 1;
                }
                for (m, v) in self.mean.iter_mut().zip(c) {
                    m[i] = v;
                }
                self.dev[i] = 0.0;
                self.seen[i] = 1;
                continue;
            }
            let rate = (1.0 / (seen as f32 + 1.0)).max(RATE);
            for (m, v) in self.mean.iter_mut().zip(c) {
                m[i] += rate * (v - m[i]);
            }
            self.dev[i] += rate * (d - self.dev[i]);
            self.seen[i] = seen.saturating_add(1);
        }
        if learnt > 0 && restarted as f32 > MOVED * learnt as f32 {
            self.seen.fill(0);
        }
    }

    /// `near`: 1 where a cell of `mask` at or above [`NEAR_LOW`] lies within [`NEAR`] cells
    /// (a square window), separably.
    fn mark_near(&mut self, mask: &[u8]) {
        let (w, h) = (self.width, self.height);
        // Along rows into `rows` (as 0.0 / 1.0), then down columns into `near`.
        for y in 0..h {
            let src = &mask[y * w..][..w];
            let dst = &mut self.rows[y * w..][..w];
            let mut last: Option<usize> = None;
            for x in 0..w + NEAR {
                if src.get(x).is_some_and(|&v| v >= NEAR_LOW) {
                    last = Some(x);
                }
                if x >= NEAR {
                    let c = x - NEAR;
                    dst[c] = match last {
                        Some(l) if l + 2 * NEAR >= x => 1.0,
                        _ => 0.0,
                    };
                }
            }
        }
        for x in 0..w {
            let mut last: Option<usize> = None;
            for y in 0..h + NEAR {
                if y < h && self.rows[y * w + x] != 0.0 {
                    last = Some(y);
                }
                if y >= NEAR {
                    let c = y - NEAR;
                    self.near[c * w + x] = matches!(last, Some(l) if l + 2 * NEAR >= y) as u8;
                }
            }
        }
    }
}

/// The colour distance within which a cell matches its plate, from its mean distance while
/// learnt.
fn tolerance(dev: f32) -> f32 {
    (SPREAD * dev).max(FLOOR)
}

#[cfg(test)]
mod tests;
