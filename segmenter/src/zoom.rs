//! `segmentation.zoom`: a person narrower than the frame's height is segmented in a square
//! around them, with the bundled square model, and that mask is scaled back into the frame's
//! cells. At 16:9 the square model's 256x256 cells over the frame's height are about 1.8 times
//! the landscape model's 144 rows there, in both directions; the model then tells an arm from
//! the vase beside it, and hair from the wall, where on the whole frame it could not
//! (docs/QUALITY.md). Everything after the model (the plate, the smoothing, the islands, the
//! compositor) works on the frame's cells as before.
//!
//! Where the square goes is decided from the mask last published: centred on the columns the
//! person shows in, when they fit with a margin; otherwise, or when the person touches the
//! square's side (they may go on beyond it), or when no person shows, the next frame is
//! segmented whole. A part of the frame outside the square is room for that frame: the
//! direction that never shows the room by accident.

use crate::fit::Rect;
use crate::model::{Model, ModelError};
use crate::preprocess::Preprocessor;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// The margin beside the person, as a share of the square's side, for going from the whole
/// frame to a square; a square is kept while the person fits with the smaller one
/// ([`KEEP_MARGIN`]), so that a person at the limit does not switch every frame.
pub const ENTER_MARGIN: f64 = 0.10;
/// See [`ENTER_MARGIN`].
pub const KEEP_MARGIN: f64 = 0.05;

/// The frame's cells: the frame model's mask (`width` x `height` cells over the frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Frame size in pixels.
    pub frame: (usize, usize),
    /// Cells.
    pub cells: (usize, usize),
}

impl Grid {
    /// The columns of cells whose centres lie in pixels `x..x + side`: `c0..c1`.
    pub fn columns(&self, x: usize, side: usize) -> (usize, usize) {
        let (w, mw) = (self.frame.0, self.cells.0);
        // The first column whose centre, (2c + 1) * w / (2 * mw), is at or after pixel p.
        let from = |p: usize| (2 * p * mw).saturating_sub(w).div_ceil(2 * w).min(mw);
        (from(x), from(x + side))
    }
}

/// Where the next frame's square goes (its left edge in pixels, even), or `None` for the
/// whole frame: from `mask` (the frame's cells as published, `grid`), the cells at or above
/// `low` showing the person, a square of `side` pixels, and the square the mask came from
/// (`current`; only the columns inside it count then, as outside it the mask is what the
/// smoothing keeps of older masks).
pub fn next_square(
    mask: &[u8],
    grid: Grid,
    side: usize,
    low: u8,
    current: Option<usize>,
) -> Option<usize> {
    let (w, _) = grid.frame;
    let (mw, mh) = grid.cells;
    if side >= w || mask.len() != mw * mh {
        return None;
    }
    let (c0, c1) = match current {
        Some(x) => grid.columns(x, side),
        None => (0, mw),
    };
    let shown = |c: usize| (0..mh).any(|r| mask[r * mw + c] >= low);
    let first = (c0..c1).find(|&c| shown(c))?;
    let last = (c0..c1).rev().find(|&c| shown(c))?;
    if let Some(x) = current {
        // The person reaches the square's side where the frame goes on: they may go on too.
        if (first == c0 && x > 0) || (last + 1 == c1 && x + side < w) {
            return None;
        }
    }
    let cell = w as f64 / mw as f64;
    let (left, right) = (first as f64 * cell, (last + 1) as f64 * cell);
    let margin = side as f64
        * if current.is_some() {
            KEEP_MARGIN
        } else {
            ENTER_MARGIN
        };
    if right - left + 2.0 * margin > side as f64 {
        return None;
    }
    let x = ((left + right) / 2.0 - side as f64 / 2.0).clamp(0.0, (w - side) as f64);
    Some((x.round() as usize / 2 * 2).min((w - side) / 2 * 2))
}

/// The square model, its input and output, and where the square is.
pub struct Zoom {
    model: Model,
    pre: Preprocessor,
    output: Vec<u8>,
    grid: Grid,
    /// The square's side in pixels: the frame's height (even).
    side: usize,
    /// The square of the frame last prepared (`None`: the whole frame).
    square: Option<usize>,
    /// The square for the next frame.
    next: Option<usize>,
    resizer: Resizer,
    /// The square's mask in the frame's cells (the columns it covers, every row).
    cells: Vec<u8>,
}

impl Zoom {
    /// For frames of `grid.frame` whose frame model makes `grid.cells`, with `model` a square
    /// model whose input and output sizes match. `mean` and `std` normalise its input.
    pub fn new(model: Model, grid: Grid, mean: [f32; 3], std: [f32; 3]) -> Zoom {
        let (iw, ih) = (model.input_width, model.input_height);
        let all = Rect {
            x: 0,
            y: 0,
            width: iw,
            height: ih,
        };
        let pre = Preprocessor::new(iw, ih, all, model.layout, mean, std);
        let side = grid.frame.1 / 2 * 2;
        Zoom {
            output: vec![0; model.mask_width * model.mask_height],
            pre,
            model,
            grid,
            side,
            square: None,
            next: None,
            resizer: Resizer::new(),
            cells: vec![0; grid.cells.0 * grid.cells.1],
        }
    }

    /// The square model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The square's left edge (pixels) for the frame last prepared, or `None` (the whole
    /// frame, by the frame model).
    pub fn square(&self) -> Option<usize> {
        self.square
    }

    /// Takes the square decided for this frame and, when there is one, reads that part of the
    /// frame into the square model's input.
    #[inline(always)]
    pub fn prepare(&mut self, yuyv: &[u8]) {
        self.square = self.next;
        if let Some(x) = self.square {
            let (w, h) = self.grid.frame;
            self.pre.set_source(Some(Rect {
                x,
                y: (h - self.side) / 2,
                width: self.side,
                height: self.side,
            }));
            self.pre.prepare(yuyv, w, h);
        }
    }

    /// Runs the square model on the square prepared and writes its mask into `out`, the
    /// frame's cells (0 outside the square). False, with `out` untouched, when the frame is
    /// to be segmented whole.
    pub fn run(&mut self, out: &mut [u8]) -> Result<bool, ModelError> {
        let Some(x) = self.square else {
            return Ok(false);
        };
        self.model.run(&self.pre.tensor, &mut self.output)?;
        self.paste(x, out);
        Ok(true)
    }

    /// The square model's `self.output` (over pixels `x..x + side`) scaled into the frame's
    /// cells `out`, a box filter over each cell; 0 outside the square.
    fn paste(&mut self, x: usize, out: &mut [u8]) {
        let (mw, mh) = self.grid.cells;
        let (c0, c1) = self.grid.columns(x, self.side);
        out.fill(0);
        if c1 == c0 {
            return;
        }
        let (ow, oh) = (self.model.mask_width, self.model.mask_height);
        let src =
            ImageRef::new(ow as u32, oh as u32, &self.output, PixelType::U8).expect("sized in new");
        let n = c1 - c0;
        let mut dst = Image::from_slice_u8(
            n as u32,
            mh as u32,
            &mut self.cells[..n * mh],
            PixelType::U8,
        )
        .expect("sized in new");
        // The columns' pixels, in the square model's cells.
        let (w, h) = self.grid.frame;
        let px = w as f64 / mw as f64;
        let to_square = ow as f64 / self.side as f64;
        let left = (c0 as f64 * px - x as f64) * to_square;
        let width = (n as f64 * px * to_square).min(ow as f64 - left);
        let top = ((self.side as f64 - h as f64) / 2.0).max(0.0);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Box))
            .crop(left.max(0.0), top, width, oh as f64 - 2.0 * top);
        self.resizer
            .resize(&src, &mut dst, &options)
            .expect("same pixel type");
        for (row, cells) in out.chunks_exact_mut(mw).zip(self.cells.chunks_exact(n)) {
            row[c0..c1].copy_from_slice(cells);
        }
    }

    /// Decides the next frame's square from the mask just published.
    pub fn decide(&mut self, mask: &[u8], low: u8) {
        self.next = next_square(mask, self.grid, self.side, low, self.square);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: Grid = Grid {
        frame: (1280, 720),
        cells: (256, 144),
    };

    /// A mask of `GRID` showing the person (255) in columns `c0..c1`, rows 20.. .
    fn person(c0: usize, c1: usize) -> Vec<u8> {
        let (mw, mh) = GRID.cells;
        let mut m = vec![0u8; mw * mh];
        for r in 20..mh {
            m[r * mw + c0..r * mw + c1].fill(255);
        }
        m
    }

    #[test]
    fn columns_are_those_whose_centres_lie_in_the_square() {
        for grid in [
            GRID,
            Grid {
                frame: (640, 480),
                cells: (256, 144),
            },
            Grid {
                frame: (642, 360),
                cells: (256, 144),
            },
        ] {
            let (w, mw) = (grid.frame.0 as f64, grid.cells.0);
            for side in [grid.frame.1, grid.frame.1 / 2 * 2] {
                for x in (0..=grid.frame.0 - side).step_by(2) {
                    let inside = |c: usize| {
                        let centre = (c as f64 + 0.5) * w / mw as f64;
                        centre >= x as f64 && centre < (x + side) as f64
                    };
                    let want: Vec<usize> = (0..mw).filter(|&c| inside(c)).collect();
                    let (c0, c1) = grid.columns(x, side);
                    assert_eq!((c0..c1).collect::<Vec<_>>(), want, "{grid:?} x {x}");
                }
            }
        }
    }

    #[test]
    fn a_narrow_person_gets_a_square_centred_on_them() {
        // Columns 100..140 of 256: pixels 500..700, centre 600; the square 720 wide.
        let x = next_square(&person(100, 140), GRID, 720, 128, None).unwrap();
        assert_eq!(x, 240);
        // At the frame's side the square stays inside the frame.
        assert_eq!(next_square(&person(0, 30), GRID, 720, 128, None), Some(0));
        assert_eq!(
            next_square(&person(230, 256), GRID, 720, 128, None),
            Some(560)
        );
    }

    #[test]
    fn a_wide_person_or_none_is_segmented_whole() {
        // 120 columns (600 px) + 2 x 72 px margin > 720.
        assert_eq!(next_square(&person(60, 180), GRID, 720, 128, None), None);
        assert_eq!(next_square(&vec![0; 256 * 144], GRID, 720, 128, None), None);
        // Faint cells under `low` do not count.
        let faint = vec![100u8; 256 * 144];
        assert_eq!(next_square(&faint, GRID, 720, 128, None), None);
        // A square as wide as the frame is no zoom.
        let square = Grid {
            frame: (720, 720),
            cells: (256, 256),
        };
        assert_eq!(
            next_square(&vec![0; 256 * 256], square, 720, 128, None),
            None
        );
    }

    #[test]
    fn a_square_is_kept_with_the_smaller_margin() {
        // 120 columns (600 px): with 2 x 72 px more than 720, with 2 x 36 px less.
        let m = person(60, 180);
        assert_eq!(next_square(&m, GRID, 720, 128, None), None);
        let (c0, c1) = GRID.columns(250, 720);
        assert!(c0 < 60 && 180 < c1);
        assert_eq!(next_square(&m, GRID, 720, 128, Some(250)), Some(240));
    }

    #[test]
    fn a_person_touching_the_squares_side_is_segmented_whole_next() {
        let (c0, c1) = GRID.columns(240, 720);
        // Inside with room to spare: kept (and recentred).
        assert!(next_square(&person(c0 + 10, c0 + 60), GRID, 720, 128, Some(240)).is_some());
        // Reaching the left side, or the right one, where the frame goes on.
        assert_eq!(
            next_square(&person(c0, c0 + 50), GRID, 720, 128, Some(240)),
            None
        );
        assert_eq!(
            next_square(&person(c1 - 50, c1), GRID, 720, 128, Some(240)),
            None
        );
        // At the frame's own side the person cannot go on beyond it.
        let (_, c1) = GRID.columns(0, 720);
        assert_eq!(
            next_square(&person(0, 40), GRID, 720, 128, Some(0)),
            Some(0)
        );
        assert!(c1 > 40);
    }

    #[test]
    fn only_the_squares_columns_count_while_zoomed() {
        // What the smoothing keeps outside the square does not widen the person.
        let mut m = person(100, 140);
        let (mw, _) = GRID.cells;
        for r in 40..60 {
            m[r * mw + 2] = 255;
        }
        assert_eq!(next_square(&m, GRID, 720, 128, None), None);
        assert_eq!(next_square(&m, GRID, 720, 128, Some(240)), Some(240));
    }
}
