//! `segmentation.zoom`: a person narrower than the frame's height is segmented in a square
//! around them, with the bundled square model, and that mask is scaled back into the frame's
//! cells. At 16:9 the square model's 256x256 cells over the frame's height are about 1.8 times
//! the landscape model's 144 rows there, in both directions (at 4:3, 1.33 times across and 1.78
//! times down); the model then tells an arm from the vase beside it, and hair from the wall,
//! where on the whole frame it could not (docs/QUALITY.md). Everything after the model (the
//! plate, the smoothing, the islands, the compositor) works on the frame's cells as before.
//!
//! Where the square goes is decided from the mask last published: centred on the columns the
//! person shows in, when they fit with a margin; otherwise, or when the person touches the
//! square's side (they may go on beyond it), or when no person shows, the next frame is
//! segmented whole. A part of the frame outside the square is room for that frame: the
//! direction that never shows the room by accident.
//!
//! The square model sees only the square, so about twice a second ([`LOOK_NS`]) the frame
//! model also looks at the whole frame: where it finds someone beside the square (a part of
//! the person's size: a colleague leaning in), the next frames are segmented whole, and they
//! show. The look is never part of a published mask (outside the square the plate learns from
//! it); it costs one run of the frame model in fifteen at 30 masks a second.
//!
//! The hold and the looks are meant in time, and count masks at the rate they come
//! ([`Pace`]): 15 at 30 masks a second; at 60, 30 for the hold and 31 from look to look.

use crate::blobs::Islands;
use crate::fit::Rect;
use crate::model::{Model, ModelError};
use crate::pace::Pace;
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
    /// The columns of cells that lie wholly in pixels `x..x + side`: `c0..c1` (column c covers
    /// pixels `c * w / mw .. (c + 1) * w / mw`). The square's mask goes into these; a column
    /// only partly in the square stays room.
    pub fn columns(&self, x: usize, side: usize) -> (usize, usize) {
        let (w, mw) = (self.frame.0, self.cells.0);
        let c0 = (x * mw).div_ceil(w).min(mw);
        let c1 = ((x + side).min(w) * mw / w).max(c0);
        (c0, c1)
    }

    /// Where the columns of [`Grid::columns`] lie in the output of a square model of `ow` x
    /// `oh` cells run on the square at `x` (side `side`, the frame's whole height): `(c0, c1,
    /// left, width)`, `left` and `width` in the square model's cells, within `0..ow`; the rows
    /// are all of its `oh`. `None` when no column lies wholly in the square.
    pub fn crop(&self, x: usize, side: usize, ow: usize) -> Option<(usize, usize, f64, f64)> {
        let (c0, c1) = self.columns(x, side);
        if c1 == c0 {
            return None;
        }
        let px = self.frame.0 as f64 / self.cells.0 as f64;
        let to_square = ow as f64 / side as f64;
        let left = ((c0 as f64 * px - x as f64) * to_square).clamp(0.0, ow as f64);
        let right = ((c1 as f64 * px - x as f64) * to_square).clamp(left, ow as f64);
        Some((c0, c1, left, right - left))
    }
}

/// Where the next frame's square goes (its left edge in pixels, even), or `None` for the
/// whole frame: from `mask` (the frame's cells as published, `grid`), the cells at or above
/// `threshold` showing the person, a square of `side` pixels, and the square the mask came from
/// (`current`; only the columns inside it count then, as outside it the mask is what the
/// smoothing keeps of older masks).
pub fn next_square(
    mask: &[u8],
    grid: Grid,
    side: usize,
    threshold: u8,
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
    let shown = |c: usize| (0..mh).any(|r| mask[r * mw + c] >= threshold);
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

/// How long the frame is segmented whole after a square is left, before another is taken
/// (capture time, in masks at their rate: [`Follow::hold_masks`]): a person at the limit, or
/// a square model's outline wider than the frame model's, switches models at most about twice
/// a second, not every frame.
pub const HOLD_NS: u64 = 500_000_000;

/// While a square is used, the frame model also segments the whole frame about this often
/// (in masks at their rate: [`Follow::look_masks`]), to find a person who came in beside the
/// square.
pub const LOOK_NS: u64 = 500_000_000;

/// A part the frame model shows beside the square (at the threshold or above) is a person when
/// it has at least this share of the largest part (the person in the square, usually): the
/// rule of `segmentation.islands` at its default, so that the model's small false person on
/// the room (a vase, a cushion) does not end the square.
pub const PERSON_SHARE: f32 = 0.1;

/// Whether `whole`, the frame model's mask of the whole frame (the grid's `cells`), shows a
/// person outside the square's columns `c0..c1`: a cell at or above `threshold` there whose
/// part (4-connected, with `published`, the mask from the square, standing inside the
/// columns) has at least [`PERSON_SHARE`] of the largest part's cells. A part joined to the
/// person in the square counts too (the person then also touches the square's side, which
/// ends it anyway: [`next_square`]). `scratch` and `islands` are reused from call to call.
pub fn someone_beside(
    (whole, published): (&[u8], &[u8]),
    cells: (usize, usize),
    (c0, c1): (usize, usize),
    threshold: u8,
    (scratch, islands): (&mut Vec<u8>, &mut Islands),
) -> bool {
    let (mw, mh) = cells;
    if whole.len() != mw * mh || published.len() != mw * mh || c0 >= c1 || c1 > mw {
        return false;
    }
    scratch.clear();
    scratch.extend_from_slice(whole);
    for (row, own) in scratch.chunks_exact_mut(mw).zip(published.chunks_exact(mw)) {
        row[c0..c1].copy_from_slice(&own[c0..c1]);
    }
    islands.drop(scratch, mw, mh, threshold, PERSON_SHARE);
    scratch
        .chunks_exact(mw)
        .any(|row| row[..c0].iter().chain(&row[c1..]).any(|&m| m >= threshold))
}

/// Where the square is from frame to frame: [`Zoom`]'s decisions, without its model.
#[derive(Debug, Clone)]
pub struct Follow {
    grid: Grid,
    /// The square's side in pixels: the frame's height (even).
    side: usize,
    /// After a longer gap between frames the square decided before is not used.
    max_gap_ns: u64,
    /// The square of the frame at hand (`None`: the whole frame).
    square: Option<usize>,
    /// The square for the next frame.
    next: Option<usize>,
    /// Masks still to segment whole ([`HOLD_NS`]).
    hold: u32,
    /// The time between the frames segmented.
    pace: Pace,
    /// Masks made in a square since the frame model last looked at the whole frame.
    zoomed: u32,
    /// Whether the frame at hand is also segmented whole, by the frame model ([`LOOK_NS`]).
    look: bool,
}

impl Follow {
    /// For frames of `grid.frame`; a gap over `max_gap_ns` between frames drops the square.
    pub fn new(grid: Grid, max_gap_ns: u64) -> Follow {
        Follow {
            grid,
            side: grid.frame.1 / 2 * 2,
            max_gap_ns,
            square: None,
            next: None,
            hold: 0,
            pace: Pace::default(),
            zoomed: 0,
            look: false,
        }
    }

    /// The square's side in pixels.
    pub fn side(&self) -> usize {
        self.side
    }

    /// The frame and its cells.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    /// The square of the frame at hand (`None`: the whole frame).
    pub fn square(&self) -> Option<usize> {
        self.square
    }

    /// The masks in a square from one look at the whole frame to the next: [`LOOK_NS`] at the
    /// present rate, odd (the plate learns the even and the odd rows by turns, and beside the
    /// square only from the looks: successive looks teach it both). 15 at 30 masks a second.
    pub fn look_masks(&self) -> u32 {
        self.pace.masks(LOOK_NS, u8::MAX as u32) | 1
    }

    /// The masks segmented whole after a square is left: [`HOLD_NS`] at the present rate.
    pub fn hold_masks(&self) -> u32 {
        self.pace.masks(HOLD_NS, u8::MAX as u32)
    }

    /// A frame is prepared: it gets the square decided last.
    pub fn start(&mut self) -> Option<usize> {
        self.square = self.next;
        self.look = false;
        self.square
    }

    /// The frame prepared, captured at `timestamp_ns`, is segmented: in its square, unless the
    /// gap since the last frame is over the limit (the person may have moved anywhere; the
    /// whole frame is prepared anyway).
    pub fn run(&mut self, timestamp_ns: u64) -> Option<usize> {
        if self.pace.tick(timestamp_ns, self.max_gap_ns) {
            self.square = None;
        }
        // Every look_masks-th mask in a square, the frame model looks at the whole frame too.
        self.zoomed = if self.square.is_some() {
            self.zoomed + 1
        } else {
            0
        };
        self.look = self.zoomed >= self.look_masks();
        if self.look {
            self.zoomed = 0;
        }
        self.square
    }

    /// Whether the frame at hand, segmented in a square, is also to be segmented whole by the
    /// frame model, to look for someone beside the square ([`LOOK_NS`]).
    pub fn looking(&self) -> bool {
        self.look
    }

    /// Decides the next frame's square from the mask just published ([`next_square`]); after a
    /// square is left, the masks of [`HOLD_NS`] are segmented whole. `beside`: the frame model's
    /// look found someone beside the square ([`someone_beside`]), so it is left.
    pub fn decide(&mut self, mask: &[u8], threshold: u8, beside: bool) {
        let next =
            next_square(mask, self.grid, self.side, threshold, self.square).filter(|_| !beside);
        if self.square.is_some() && next.is_none() {
            self.hold = self.hold_masks();
        }
        self.next = if self.hold > 0 {
            self.hold -= 1;
            None
        } else {
            next
        };
    }
}

/// The square model, its input and output, and where the square is.
pub struct Zoom {
    model: Model,
    pre: Preprocessor,
    output: Vec<u8>,
    follow: Follow,
    resizer: Resizer,
    /// The square's mask in the frame's cells (the columns it covers, every row).
    cells: Vec<u8>,
    /// The frame model's mask of the whole frame when it looked ([`Zoom::look_output`]).
    look: Vec<u8>,
    /// That mask lowered by the plate ([`Zoom::lower_look`]), which [`Zoom::decide`] reads.
    lowered: Vec<u8>,
    /// Scratch of [`someone_beside`].
    beside: (Vec<u8>, Islands),
}

impl Zoom {
    /// For frames of `grid.frame` whose frame model makes `grid.cells`, with `model` a square
    /// model whose input and output sizes match. `mean` and `std` normalise its input; after a
    /// gap over `max_gap_ns` between frames the next is segmented whole.
    pub fn new(model: Model, grid: Grid, mean: [f32; 3], std: [f32; 3], max_gap_ns: u64) -> Zoom {
        let (iw, ih) = (model.input_width, model.input_height);
        let all = Rect {
            x: 0,
            y: 0,
            width: iw,
            height: ih,
        };
        let pre = Preprocessor::new(iw, ih, all, model.layout, mean, std);
        Zoom {
            output: vec![0; model.mask_width * model.mask_height],
            pre,
            model,
            follow: Follow::new(grid, max_gap_ns),
            resizer: Resizer::new(),
            cells: vec![0; grid.cells.0 * grid.cells.1],
            look: vec![0; grid.cells.0 * grid.cells.1],
            lowered: vec![0; grid.cells.0 * grid.cells.1],
            beside: (Vec::new(), Islands::default()),
        }
    }

    /// The square model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The square's left edge (pixels) for the frame at hand, or `None` (the whole frame, by
    /// the frame model).
    pub fn square(&self) -> Option<usize> {
        self.follow.square()
    }

    /// Takes the square decided for this frame and, when there is one, reads that part of the
    /// frame into the square model's input.
    #[inline(always)]
    pub fn prepare(&mut self, yuyv: &[u8]) {
        if let Some(x) = self.follow.start() {
            let (w, h) = self.follow.grid().frame;
            let side = self.follow.side();
            self.pre.set_source(Some(Rect {
                x,
                y: (h - side) / 2,
                width: side,
                height: side,
            }));
            self.pre.prepare(yuyv, w, h);
        }
    }

    /// Runs the square model on the square prepared for the frame captured at `timestamp_ns`
    /// and writes its mask into `out`, the frame's cells (0 outside the square). False, with
    /// `out` untouched, when the frame is to be segmented whole.
    pub fn run(&mut self, out: &mut [u8], timestamp_ns: u64) -> Result<bool, ModelError> {
        let Some(x) = self.follow.run(timestamp_ns) else {
            return Ok(false);
        };
        self.model.run(&self.pre.tensor, &mut self.output)?;
        self.paste(x, out);
        Ok(true)
    }

    /// The square model's `self.output` (over pixels `x..x + side`) scaled into the frame's
    /// cells `out`, a box filter over each cell; 0 outside the square.
    fn paste(&mut self, x: usize, out: &mut [u8]) {
        out.fill(0);
        let (ow, oh) = (self.model.mask_width, self.model.mask_height);
        let grid = self.follow.grid();
        let Some((c0, c1, left, width)) = grid.crop(x, self.follow.side(), ow) else {
            return;
        };
        let (mw, mh) = grid.cells;
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
        // The square is the frame's whole height (validation keeps heights even): every row.
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Box))
            .crop(left, 0.0, width, oh as f64);
        self.resizer
            .resize(&src, &mut dst, &options)
            .expect("the crop lies within the square model's output (Grid::crop)");
        for (row, cells) in out.chunks_exact_mut(mw).zip(self.cells.chunks_exact(n)) {
            row[c0..c1].copy_from_slice(cells);
        }
    }

    /// The frame's columns of cells that the square of the frame at hand covers
    /// ([`Grid::columns`]), or `None` (the whole frame).
    pub fn columns(&self) -> Option<(usize, usize)> {
        let grid = self.follow.grid();
        self.follow
            .square()
            .map(|x| grid.columns(x, self.follow.side()))
    }

    /// Whether the frame at hand, segmented in its square, is also to be segmented whole by
    /// the frame model into [`Zoom::look_output`] ([`LOOK_NS`]).
    pub fn looking(&self) -> bool {
        self.follow.looking()
    }

    /// Where the frame model's mask of the whole frame goes when [`Zoom::looking`] (the
    /// frame's cells).
    pub fn look_output(&mut self) -> &mut [u8] {
        &mut self.look
    }

    /// Makes `shown` (the mask the plate learns from, the frame's cells) say what is known
    /// beside the square of the frame at hand: the frame model's look as it made it where it
    /// looked, else 255 (not learnt). Returns the columns that may vote on restarting the whole
    /// plate ([`crate::plate::Plate::learn_voting`]): the square's, or every column.
    pub fn for_plate(&self, shown: &mut [u8]) -> std::ops::Range<usize> {
        let mw = self.follow.grid().cells.0;
        let Some((c0, c1)) = self.columns() else {
            return 0..mw;
        };
        let look = self.looking().then_some(&self.look[..]);
        for (r, row) in shown.chunks_exact_mut(mw).enumerate() {
            for side in [0..c0, c1..mw] {
                match look {
                    Some(seen) => row[side.clone()].copy_from_slice(&seen[r * mw..][side]),
                    None => row[side].fill(u8::MAX),
                }
            }
        }
        c0..c1
    }

    /// Copies the look for [`Zoom::decide`] and lowers the copy with `lower` (the plate's
    /// lowering): call it on every frame that [`Zoom::looking`], after the frame model ran.
    pub fn lower_look(&mut self, lower: impl FnOnce(&mut [u8])) {
        self.lowered.copy_from_slice(&self.look);
        lower(&mut self.lowered);
    }

    /// Decides the next frame's square from the mask just published ([`Follow::decide`]) and,
    /// when the frame model looked at the whole frame, from what it found beside the square
    /// (its look as [`Zoom::lower_look`] left it).
    pub fn decide(&mut self, mask: &[u8], threshold: u8) {
        let grid = self.follow.grid();
        let beside = match self.follow.square().filter(|_| self.follow.looking()) {
            Some(x) => someone_beside(
                (&self.lowered, mask),
                grid.cells,
                grid.columns(x, self.follow.side()),
                threshold,
                (&mut self.beside.0, &mut self.beside.1),
            ),
            None => false,
        };
        self.follow.decide(mask, threshold, beside);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The masks of the hold, and from look to look, at 30 masks a second (33 ms apart).
    const AT_30: u64 = 15;

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

    /// Frame sizes of cameras, each with the landscape model's cells: 16:9, 3:2, 5:3, 4:3, the
    /// narrowest frame `auto` gives the landscape model (1330x1000, aspect 1.33), and a tiny one
    /// with more cells than pixels.
    const SIZES: [(usize, usize); 19] = [
        (1280, 720),
        (1920, 1080),
        (640, 360),
        (1366, 768),
        (854, 480),
        (848, 480),
        (720, 480),
        (1280, 768),
        (800, 448),
        (640, 480),
        (800, 600),
        (960, 720),
        (1024, 768),
        (1280, 960),
        (1440, 1080),
        (720, 540),
        (320, 240),
        (1330, 1000),
        (8, 6),
    ];

    #[test]
    fn columns_are_those_wholly_in_the_square() {
        for (w, h) in SIZES {
            let grid = Grid {
                frame: (w, h),
                cells: (256, 144),
            };
            for x in (0..=w - h).step_by(2) {
                // Column c covers pixels c * w / 256 .. (c + 1) * w / 256.
                let inside = |c: usize| c * w >= x * 256 && (c + 1) * w <= (x + h) * 256;
                let want: Vec<usize> = (0..256).filter(|&c| inside(c)).collect();
                let (c0, c1) = grid.columns(x, h);
                assert_eq!((c0..c1).collect::<Vec<_>>(), want, "{w}x{h} x {x}");
            }
        }
    }

    #[test]
    fn the_crop_is_the_columns_pixels_in_the_square_models_cells() {
        for (w, h) in SIZES {
            let grid = Grid {
                frame: (w, h),
                cells: (256, 144),
            };
            let to_square = 256.0 / h as f64;
            let px = w as f64 / 256.0;
            for x in (0..=w - h).step_by(2) {
                let (c0, c1, left, width) = grid.crop(x, h, 256).unwrap();
                assert_eq!((c0, c1), grid.columns(x, h));
                // Inside the output, not empty, and where the columns are, to the cell.
                assert!(
                    left >= 0.0 && width > 0.0 && left + width <= 256.0,
                    "{w}x{h} x {x}"
                );
                let want_left = (c0 as f64 * px - x as f64) * to_square;
                let want_width = (c1 - c0) as f64 * px * to_square;
                assert!(
                    (left - want_left).abs() < 1e-9,
                    "{w}x{h} x {x}: {left} {want_left}"
                );
                assert!((width - want_width).abs() < 1e-9, "{w}x{h} x {x}");
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
    fn at_4_3_the_square_is_the_frames_height_and_the_margins_its_shares() {
        // 640x480: cells of 2.5 pixels, the square 480 wide and 160 from either side at most.
        let grid = Grid {
            frame: (640, 480),
            cells: (256, 144),
        };
        // Columns 100..140: pixels 250..350, centre 300.
        assert_eq!(
            next_square(&person(100, 140), grid, 480, 128, None),
            Some(60)
        );
        assert_eq!(next_square(&person(0, 30), grid, 480, 128, None), Some(0));
        assert_eq!(
            next_square(&person(230, 256), grid, 480, 128, None),
            Some(160)
        );
        // 153 columns (382.5 pixels, centre 316.25) and two margins of 48 fit in 480 (478.5);
        // 154 do not.
        assert_eq!(
            next_square(&person(50, 203), grid, 480, 128, None),
            Some(76)
        );
        assert_eq!(next_square(&person(50, 204), grid, 480, 128, None), None);
        // Kept with the smaller margin (24): 172 columns (430 pixels) in the square at 80
        // (columns 32..224), away from its sides.
        assert_eq!(
            next_square(&person(42, 214), grid, 480, 128, Some(80)),
            Some(80)
        );
        // Touching the square's side where the frame goes on: whole next.
        assert_eq!(
            next_square(&person(32, 100), grid, 480, 128, Some(80)),
            None
        );
    }

    #[test]
    fn a_wide_person_or_none_is_segmented_whole() {
        // 120 columns (600 px) + 2 x 72 px margin > 720.
        assert_eq!(next_square(&person(60, 180), GRID, 720, 128, None), None);
        assert_eq!(next_square(&vec![0; 256 * 144], GRID, 720, 128, None), None);
        // Faint cells under the threshold do not count.
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

    #[test]
    fn the_first_frame_is_whole_and_a_square_follows_from_the_next() {
        let mut f = Follow::new(GRID, 1_000_000_000);
        assert_eq!(f.start(), None);
        assert_eq!(f.run(0), None);
        f.decide(&person(100, 140), 128, false);
        assert_eq!(f.start(), Some(240));
        assert_eq!(f.run(33_000_000), Some(240));
    }

    #[test]
    fn a_square_left_is_not_taken_again_for_the_hold() {
        let mut f = Follow::new(GRID, 1_000_000_000);
        let t = |i: u64| i * 33_000_000;
        f.start();
        f.run(t(0));
        f.decide(&person(100, 140), 128, false);
        assert_eq!((f.start(), f.run(t(1))), (Some(240), Some(240)));
        // Too wide for the square: whole, and whole for the hold though the person fits again.
        f.decide(&person(50, 200), 128, false);
        for i in 0..AT_30 {
            assert_eq!(f.start(), None, "mask {i}");
            f.run(t(2 + i));
            f.decide(&person(100, 140), 128, false);
        }
        assert_eq!(f.start(), Some(240));
    }

    #[test]
    fn after_a_gap_the_frame_is_segmented_whole() {
        let mut f = Follow::new(GRID, 500_000_000);
        f.start();
        f.run(0);
        f.decide(&person(100, 140), 128, false);
        assert_eq!(f.start(), Some(240));
        // The frame prepared comes 0.6 s after the last: the square decided then is not used.
        assert_eq!(f.run(600_000_000), None);
        assert_eq!(f.square(), None);
        f.decide(&person(100, 140), 128, false);
        assert_eq!(f.start(), Some(240));
        assert_eq!(f.run(633_000_000), Some(240));
    }

    #[test]
    fn the_frame_model_looks_every_look_masks_in_a_square_and_someone_beside_ends_it() {
        let mut f = Follow::new(GRID, 1_000_000_000);
        let t = |i: u64| i * 33_000_000;
        f.start();
        f.run(t(0));
        assert!(!f.looking(), "whole: no look");
        f.decide(&person(100, 140), 128, false);
        // In the square: a look on every look_masks-th mask, the square kept when it finds
        // nobody.
        let mut looks = vec![];
        for i in 1..=3 * AT_30 {
            assert_eq!(f.start(), Some(240));
            f.run(t(i));
            if f.looking() {
                looks.push(i);
            }
            f.decide(&person(100, 140), 128, false);
        }
        let every = AT_30;
        assert_eq!(looks, [every, 2 * every, 3 * every]);
        // Someone beside: whole, for the hold, then a square again.
        let mut i = 3 * every + 1;
        assert_eq!(f.start(), Some(240));
        f.run(t(i));
        f.decide(&person(100, 140), 128, true);
        for k in 0..AT_30 as u32 {
            assert_eq!(f.start(), None, "mask {k} of the hold");
            i += 1;
            f.run(t(i));
            assert!(!f.looking());
            f.decide(&person(100, 140), 128, false);
        }
        assert_eq!(f.start(), Some(240));
        // The count starts again in the new square.
        for k in 1..every {
            i += 1;
            f.run(t(i));
            assert!(!f.looking(), "mask {k} in the new square");
            f.decide(&person(100, 140), 128, false);
            assert_eq!(f.start(), Some(240));
        }
        f.run(t(i + 1));
        assert!(f.looking());
    }

    #[test]
    fn the_hold_and_the_looks_are_half_a_second_at_any_rate() {
        for (interval_ns, hold, look) in [(16_666_667u64, 30, 31), (50_000_000, 10, 11)] {
            let mut f = Follow::new(GRID, 1_000_000_000);
            let t = |i: u64| i * interval_ns;
            // In a square from the second mask (the rate is learnt meanwhile), then too wide
            // for it: whole for the hold.
            for i in 0..10 {
                f.start();
                f.run(t(i));
                f.decide(&person(100, 140), 128, false);
            }
            assert_eq!((f.hold_masks(), f.look_masks()), (hold, look));
            assert_eq!(f.start(), Some(240));
            f.run(t(10));
            f.decide(&person(50, 200), 128, false);
            let mut i = 11;
            for _ in 0..hold {
                assert_eq!(f.start(), None, "{interval_ns}: the hold, mask {i}");
                f.run(t(i));
                f.decide(&person(100, 140), 128, false);
                i += 1;
            }
            assert_eq!(f.start(), Some(240), "{interval_ns}: after the hold");
            f.run(t(i));
            f.decide(&person(100, 140), 128, false);
            let mut looks = vec![];
            for k in 2..=2 * look {
                f.start();
                f.run(t(i + k as u64));
                if f.looking() {
                    looks.push(k);
                }
                f.decide(&person(100, 140), 128, false);
            }
            assert_eq!(looks, [look, 2 * look], "{interval_ns}");
        }
    }

    #[test]
    fn a_look_is_for_its_own_frame_and_a_gap_starts_the_count_again() {
        let mut f = Follow::new(GRID, 1_000_000_000);
        let t = |i: u64| i * 33_000_000;
        f.start();
        f.run(t(0));
        f.decide(&person(100, 140), 128, false);
        let mut i = 0;
        loop {
            i += 1;
            f.start();
            f.run(t(i));
            if f.looking() {
                break;
            }
            f.decide(&person(100, 140), 128, false);
        }
        assert_eq!(i, AT_30);
        // The next frame prepared is not looked at until it runs (and then not: the count
        // starts again).
        f.decide(&person(100, 140), 128, false);
        assert_eq!(f.start(), Some(240));
        assert!(!f.looking(), "a frame prepared, not yet run");
        f.run(t(i + 1));
        assert!(!f.looking());
        // Some masks into the count, a gap: the square goes, and in the next square the count
        // starts from 0.
        for k in 2..6 {
            f.decide(&person(100, 140), 128, false);
            f.start();
            f.run(t(i + k));
        }
        f.decide(&person(100, 140), 128, false);
        f.start();
        let later = t(i + 6) + 2_000_000_000;
        assert_eq!(f.run(later), None, "after a gap the whole frame");
        f.decide(&person(100, 140), 128, false);
        for k in 1..AT_30 {
            assert_eq!(f.start(), Some(240));
            f.run(later + t(k));
            assert!(!f.looking(), "mask {k} of the new square");
            f.decide(&person(100, 140), 128, false);
        }
        f.start();
        f.run(later + t(AT_30));
        assert!(f.looking());
    }

    #[test]
    fn someone_beside_is_a_part_outside_the_squares_columns_of_a_persons_size() {
        let (mw, mh) = GRID.cells;
        let mut scratch = (Vec::new(), Islands::default());
        // The square's columns 48..192: the person in 100..140 (40 x 124 cells).
        let (c0, c1) = (48, 192);
        let published = person(100, 140);
        let with = |cols: std::ops::Range<usize>, rows: std::ops::Range<usize>, v: u8| {
            let mut m = published.clone();
            for r in rows {
                m[r * mw + cols.start..r * mw + cols.end].fill(v);
            }
            m
        };
        let mut beside = |whole: &[u8]| {
            let s = (&mut scratch.0, &mut scratch.1);
            someone_beside((whole, &published), (mw, mh), (c0, c1), 128, s)
        };
        // The frame model sees the person alone, or a vase of 8 x 40 cells at the side (6 % of
        // them): nobody.
        assert!(!beside(&published));
        assert!(!beside(&with(200..208, 100..140, 255)));
        // Someone of 20 x 40 cells there (16 %): found; at 127, under the threshold, not.
        assert!(beside(&with(200..220, 100..140, 255)));
        assert!(!beside(&with(200..220, 100..140, 127)));
        // Inside the columns only the published mask counts: the frame model's wider person
        // there is not someone beside.
        assert!(!beside(&with(60..160, 20..144, 255)));
        // Left of the square too, and a part that reaches into the columns counts by its
        // cells outside them (the published mask is room where it reaches in).
        assert!(beside(&with(10..30, 100..140, 255)));
        assert!(beside(&with(30..60, 60..144, 255)));
        // The columns' edges, to the cell: a person 4 columns wide (496 cells), so that a part
        // of one column and 60 rows (60 cells) counts; outside the columns (c0 - 1, c1) it is
        // found, inside them (c0, c1 - 1) the published mask stands there.
        let narrow = person(118, 122);
        let column = |c: usize| {
            let mut m = narrow.clone();
            for r in 60..120 {
                m[r * mw + c] = 255;
            }
            m
        };
        let mut beside = |whole: &[u8]| {
            let s = (&mut scratch.0, &mut scratch.1);
            someone_beside((whole, &narrow), (mw, mh), (c0, c1), 128, s)
        };
        assert!(beside(&column(c0 - 1)));
        assert!(beside(&column(c1)));
        assert!(!beside(&column(c0)));
        assert!(!beside(&column(c1 - 1)));
        // A mask of another size: nothing found.
        let s = (&mut scratch.0, &mut scratch.1);
        assert!(!someone_beside(
            (&published[1..], &published),
            (mw, mh),
            (c0, c1),
            128,
            s
        ));
    }
}
