//! A learnt background plate: what the room looks like, cell by cell, learnt over many frames
//! from the cells the mask calls room and that lie away from the person. Where the model then
//! calls a cell person although the frame there matches the plate (the room that was seen
//! there before, within its own noise), in its 3x3 neighbourhood too or in one half of it
//! (the 2x3 or 3x2 block on one side: a cell of learnt room right beside the person, whose
//! other side differs), the cell is room and the mask is lowered there. This removes the
//! model's false person next to the outline (dark hair against a dark wall, a sofa beside the
//! shoulders) once the person has moved off it.
//!
//! Only near the model's outline (within `OUTLINE`, 8, cells of what the picture shows as room),
//! and only where the cell itself does not differ from the plate: a shirt of the wall's colour,
//! or a fingertip on learnt room, is not cut out.
//!
//! "Room" is what the picture shows as room: a mask value under the soft threshold's lower end
//! (`segmentation.threshold - softness / 2`, 0.45 by default). The model often gives a false
//! person next to the outline 0.3-0.45 while the person is away and 1.0 once they come close (a
//! blanket on the sofa by their shoulder): learning only below 0.1 never learnt such a place.
//! It learns from the mask as published, after the islands: a part of the mask dropped as an
//! island (the blanket while the person is small, apart from them) is shown as room, and learnt.
//! Beside a square of `segmentation.zoom` no model looked, and the segmenter passes it only the
//! frame model's look there, about twice a second ([`crate::zoom::LOOK_NS`]).
//!
//! It only ever lowers the mask, and only where the room was seen: where the frame differs from
//! the plate (the person, a new shadow, changed light, a moved camera) the model's mask stays as
//! it was. A cell's plate follows slow change (an exponential average of its colour) and starts
//! again when its colour jumps; when most of the learnt room jumps at once (the camera moved,
//! the light was switched) the whole plate starts again.

/// Times a cell must have been learnt as room before its plate is used (it is learnt on
/// every other mask: [`Plate::learn`]).
const MATURE: f32 = 4.0;
/// Where the count of learns stops (it only needs to pass [`MATURE`]).
const SEEN_MAX: f32 = 1000.0;
/// The running average's slowest rate (it weighs the first `1 / RATE` learns equally).
const RATE: f32 = 1.0 / 32.0;
/// Cells within this many cells of any part of the person shown (a mask value at or above
/// `Plate::shown`) are not learnt: the person's edge, and the model's own blur around it,
/// never enter the plate.
const NEAR: usize = 2;
/// The mask is lowered only within this many cells of a cell shown as room (below
/// `Plate::shown`): about 40 pixels of a 720p frame.
const OUTLINE: usize = 8;
/// A cell matches its plate when its colour distance (|dY| + |dU| + |dV|, 0..255 steps) is at
/// most `max(FLOOR, SPREAD * dev)` (`dev`: the cell's own mean distance while learnt) ...
const FLOOR: f32 = 6.0;
const SPREAD: f32 = 3.0;
/// ... and its colour restarts when the distance of a learnt cell exceeds `RESTART` times that.
const RESTART: f32 = 4.0;
/// Share of the mature cells learnt in one frame that, restarting at once, restart the whole
/// plate.
const MOVED: f32 = 0.5;
/// Distance (relative to the match tolerance, 3x3 mean) up to which a cell is room for sure;
/// from there to 1 the mask is lowered less and less; unlearnt cells count as [`FAR`].
const SURE: f32 = 0.5;
const FAR: f32 = 4.0;

use crate::window::Mean3x3;
use std::ops::Range;

/// The plate and its scratch, for masks of `width` x `height` cells (the model's output; the
/// frame's colour at the same cells). Every per-cell loop runs over whole rows without
/// branches, so that it vectorises, and each mask learns every other row: about 0.23 ms per
/// mask of 256x144 cells (`examples/seg_timing.rs`, docs/BENCHMARKS.md).
pub struct Plate {
    on: bool,
    /// Mask value (0..255) from which a cell shows any of the person: the soft threshold's
    /// lower end.
    shown: u8,
    width: usize,
    height: usize,
    mean: [Vec<f32>; 3],
    /// Mean distance of the cell's colour from its plate while learnt.
    dev: Vec<f32>,
    /// Frames learnt since the cell (re)started; 0: nothing learnt.
    seen: Vec<f32>,
    /// Per cell: 1 / the match tolerance.
    inv_tol: Vec<f32>,
    /// Per cell: 0 where the plate is mature, [`FAR`] where it is not (added to the relative
    /// distance).
    gate: Vec<f32>,
    /// Scratch: relative distance to the plate, and its 3x3 mean.
    dist: Vec<f32>,
    window: Mean3x3,
    near: Vec<u8>,
    /// Scratch: 1 within [`OUTLINE`] cells of what the model calls room.
    outline: Vec<u8>,
    wide: Vec<u8>,
    marks: Vec<u8>,
    /// Which rows (even 0, odd 1) were learnt last.
    parity: usize,
}

impl Plate {
    /// For masks of `width` x `height`; `on`: `segmentation.plate`; `shown`: the mask value
    /// (0..255) from which a cell shows any of the person.
    pub fn new(width: usize, height: usize, on: bool, shown: u8) -> Plate {
        let n = width * height;
        Plate {
            on,
            shown,
            width,
            height,
            mean: std::array::from_fn(|_| vec![0.0; n]),
            dev: vec![0.0; n],
            seen: vec![0.0; n],
            inv_tol: vec![0.0; n],
            gate: vec![FAR; n],
            dist: vec![0.0; n],
            window: Mean3x3::new(width, height),
            near: vec![0; n],
            outline: vec![0; n],
            wide: vec![0; n],
            marks: vec![0; width],
            parity: 1,
        }
    }

    /// Turns the plate on or off (`segmentation.plate` changed while running) and takes the
    /// mask value from which a cell shows the person (the threshold or softness changed). Off,
    /// or a lower `shown`, forgets it: what was learnt as room under a higher threshold may be
    /// person under a lower one (under a higher one it is still room).
    pub fn set(&mut self, on: bool, shown: u8) {
        if !on || shown < self.shown {
            self.forget();
        }
        self.on = on;
        self.shown = shown;
    }

    /// Whether it is on (`segmentation.plate`): off, it neither lowers nor learns.
    pub fn is_on(&self) -> bool {
        self.on
    }

    fn forget(&mut self) {
        self.seen.fill(0.0);
        self.gate.fill(FAR);
    }

    /// Lowers `mask` (0..255, in place) where the frame's colour (Y, U, V planes, 0..255, the
    /// same cells) matches the learnt room in the cell and around it.
    #[inline(always)]
    pub fn apply(&mut self, yuv: [&[f32]; 3], mask: &mut [u8]) {
        if !self.on || self.width == 0 || self.height == 0 {
            return;
        }
        let (w, h) = (self.width, self.height);
        let n = w * h;
        let (dist, inv, gate) = (&mut self.dist[..n], &self.inv_tol[..n], &self.gate[..n]);
        let (my, mu, mv) = (&self.mean[0][..n], &self.mean[1][..n], &self.mean[2][..n]);
        let (y, u, v) = (&yuv[0][..n], &yuv[1][..n], &yuv[2][..n]);
        for i in 0..n {
            let far = (y[i] - my[i]).abs() + (u[i] - mu[i]).abs() + (v[i] - mv[i]).abs();
            dist[i] = (far * inv[i] + gate[i]).min(FAR);
        }
        // Only near the model's outline: where the model calls a wide area person, the person's
        // clothes may happen to match the room seen there before (a white shirt before a white
        // wall); the false person this is for lies next to the outline.
        let scratch = (&mut self.wide[..], &mut self.marks[..]);
        let shown = self.shown;
        widen(
            mask,
            (w, h),
            OUTLINE,
            |m| m < shown,
            scratch,
            &mut self.outline,
        );
        // The least of the 3x3 mean of the distance and the means of the cell's four half
        // neighbourhoods, clipped at the borders: a cell at the edge of the learnt room that
        // matches, beside the person (who differs), is room as much as one in the open.
        let (dist, outline) = (&self.dist, &self.outline);
        self.window.sum_rows(dist);
        for y in 0..h {
            let means = self.window.least_means(dist, y);
            for (((m, &mean), &outline), &own) in mask[y * w..][..w]
                .iter_mut()
                .zip(means)
                .zip(&outline[y * w..][..w])
                .zip(&dist[y * w..][..w])
            {
                // The neighbourhood (or a half of it) must match, and the cell itself not
                // differ: a fingertip on learnt room differs from it even where its
                // neighbours do not.
                let own = (2.0 - own).clamp(0.0, 1.0);
                let room = ((1.0 - mean) * (1.0 / (1.0 - SURE))).clamp(0.0, 1.0) * own;
                let keep = 1.0 - room * outline as f32;
                *m = viba_common::simd::to_u8(*m as f32 * keep + 0.5);
            }
        }
    }

    /// Learns the room from the frame's colour where `mask` (the mask as published: smoothed,
    /// islands dropped; the model's cells) shows nothing of the person within `NEAR` (2)
    /// cells: on every other row, the even rows and the odd ones by turns.
    #[inline(always)]
    pub fn learn(&mut self, yuv: [&[f32]; 3], mask: &[u8]) {
        self.learn_voting(yuv, mask, 0..self.width);
    }

    /// [`Plate::learn`], where only the cells of the columns `voting` count towards starting the
    /// whole plate again (`MOVED`): the others are learnt more rarely (beside a square of
    /// `segmentation.zoom`, only from the frame model's look about twice a second), so a slow
    /// change of light that the often learnt cells follow jumps for them, and their restarts
    /// would forget the whole plate.
    #[inline(always)]
    pub fn learn_voting(&mut self, yuv: [&[f32]; 3], mask: &[u8], voting: Range<usize>) {
        if !self.on || self.width == 0 || self.height == 0 {
            return;
        }
        self.mark_near(mask);
        let w = self.width;
        let (c0, c1) = (
            voting.start.min(w),
            voting.end.clamp(voting.start.min(w), w),
        );
        let (mut learnt, mut restarted) = (0u32, 0u32);
        // Every other row, alternately: the room changes slowly, and this halves the cost.
        self.parity ^= 1;
        for y in (self.parity..self.height).step_by(2) {
            for (columns, votes) in [(0..c0, false), (c0..c1, true), (c1..w, false)] {
                if columns.is_empty() {
                    continue;
                }
                let cells = y * w + columns.start..y * w + columns.end;
                let [my, mu, mv] = &mut self.mean;
                let (l, r) = learn_row(
                    [
                        &yuv[0][cells.clone()],
                        &yuv[1][cells.clone()],
                        &yuv[2][cells.clone()],
                    ],
                    &self.near[cells.clone()],
                    Row {
                        mean: [
                            &mut my[cells.clone()],
                            &mut mu[cells.clone()],
                            &mut mv[cells.clone()],
                        ],
                        dev: &mut self.dev[cells.clone()],
                        seen: &mut self.seen[cells.clone()],
                        inv: &mut self.inv_tol[cells.clone()],
                        gate: &mut self.gate[cells],
                    },
                );
                if votes {
                    learnt += l;
                    restarted += r;
                }
            }
        }
        // Only when enough of the room was learnt on these rows to tell: a person who fills
        // most of the frame leaves a few cells, one of which may flicker.
        let enough = (self.width * self.height / 32).max(32) as u32;
        if learnt >= enough && restarted as f32 > MOVED * learnt as f32 {
            self.forget();
        }
    }

    /// `near`: 1 where a cell of `mask` at or above `shown` lies within [`NEAR`] cells (a
    /// square window).
    #[inline(always)]
    fn mark_near(&mut self, mask: &[u8]) {
        let (size, shown) = ((self.width, self.height), self.shown);
        let scratch = (&mut self.wide[..], &mut self.marks[..]);
        widen(mask, size, NEAR, |m| m >= shown, scratch, &mut self.near);
    }
}

/// `out`: 1 where a cell of `mask` for which `pick` holds lies within `radius` cells (a square
/// window), else 0: the marks widened along rows (ORs of the row shifted by up to `radius`), then
/// down columns. `wide` is scratch of the mask's size, `marks` of a row's.
#[inline(always)]
fn widen(
    mask: &[u8],
    (w, h): (usize, usize),
    radius: usize,
    pick: impl Fn(u8) -> bool,
    (wide, marks): (&mut [u8], &mut [u8]),
    out: &mut [u8],
) {
    let marks = &mut marks[..w];
    for (row_out, row) in wide.chunks_exact_mut(w).zip(mask.chunks_exact(w)) {
        for (o, &m) in row_out.iter_mut().zip(row) {
            *o = pick(m) as u8;
        }
        marks.copy_from_slice(row_out);
        for d in 1..=radius.min(w - 1) {
            for (o, &m) in row_out[d..].iter_mut().zip(&marks[..w - d]) {
                *o |= m;
            }
            for (o, &m) in row_out[..w - d].iter_mut().zip(&marks[d..]) {
                *o |= m;
            }
        }
    }
    for y in 0..h {
        let (top, bottom) = (y.saturating_sub(radius), (y + radius + 1).min(h));
        let row_out = &mut out[y * w..][..w];
        row_out.copy_from_slice(&wide[top * w..][..w]);
        for yy in top + 1..bottom {
            for (o, &m) in row_out.iter_mut().zip(&wide[yy * w..][..w]) {
                *o |= m;
            }
        }
    }
}

/// One row of the plate's state.
struct Row<'a> {
    mean: [&'a mut [f32]; 3],
    dev: &'a mut [f32],
    seen: &'a mut [f32],
    inv: &'a mut [f32],
    gate: &'a mut [f32],
}

/// Learns one row of cells from the frame's colour there, except where `near` marks the
/// person. Returns the cells that were mature, and how many of them restarted.
#[inline(always)]
fn learn_row(yuv: [&[f32]; 3], near: &[u8], row: Row) -> (u32, u32) {
    let n = near.len();
    let Row {
        mean: [my, mu, mv],
        dev,
        seen,
        inv,
        gate,
    } = row;
    let (my, mu, mv) = (&mut my[..n], &mut mu[..n], &mut mv[..n]);
    let (dev, seen, inv, gate) = (&mut dev[..n], &mut seen[..n], &mut inv[..n], &mut gate[..n]);
    let (y, u, v) = (&yuv[0][..n], &yuv[1][..n], &yuv[2][..n]);
    let (mut learnt, mut restarted) = (0u32, 0u32);
    // Branch-free arithmetic (1.0 / 0.0 for yes / no) and integer counts, so that it
    // vectorises.
    for i in 0..n {
        let d = (y[i] - my[i]).abs() + (u[i] - mu[i]).abs() + (v[i] - mv[i]).abs();
        let here = (near[i] == 0) as u32;
        let restart = ((seen[i] == 0.0) | (d * inv[i] > RESTART)) as u32;
        let mature = (seen[i] >= MATURE) as u32;
        learnt += here & mature;
        restarted += here & mature & restart;
        let (here, restart) = (here as f32, restart as f32);
        // A restart takes the colour as it is; near the person nothing changes.
        let average = (1.0 / (seen[i] + 1.0)).max(RATE);
        let rate = here * (restart + (1.0 - restart) * average);
        my[i] += rate * (y[i] - my[i]);
        mu[i] += rate * (u[i] - mu[i]);
        mv[i] += rate * (v[i] - mv[i]);
        let new_dev = (1.0 - restart) * (dev[i] + rate * (d - dev[i]));
        let new_seen = restart + (1.0 - restart) * (seen[i] + 1.0).min(SEEN_MAX);
        dev[i] += here * (new_dev - dev[i]);
        seen[i] += here * (new_seen - seen[i]);
        inv[i] = 1.0 / (SPREAD * dev[i]).max(FLOOR);
        gate[i] = FAR * (seen[i] < MATURE) as u32 as f32;
    }
    (learnt, restarted)
}

#[cfg(test)]
mod tests;
