//! [`Segmenter`]: a camera frame in, the person's mask out. What the worker runs for each
//! frame, and what a program using viba as a library calls.

use crate::model::{Model, ModelError};
use crate::preprocess::Preprocessor;
use crate::{blobs, fit, hold, plate, temporal, zoom};
use std::ops::Range;
use viba_common::config::Config;

/// The segmentation of one stream of frames of `config.frame_size()` (YUYV): the model and
/// its input, the learnt background plate (`segmentation.plate`), the temporal smoothing
/// (`segmentation.smoothing`) and the dropping of small islands (`segmentation.islands`), as
/// the running pipeline does them.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let config = viba_common::config::load(std::path::Path::new("viba.json"))?;
/// let mut segmenter = viba_segmenter::Segmenter::new(&config)?;
/// let (w, h) = config.frame_size();
/// let frame = vec![128u8; w as usize * h as usize * 2]; // YUYV
/// let mask = segmenter.segment(&frame, 0)?; // P(person), 0..255, `mask_size()`
/// assert_eq!(mask.len(), segmenter.mask_size().0 * segmenter.mask_size().1);
/// # Ok(()) }
/// ```
pub struct Segmenter {
    model: Model,
    place: fit::Placement,
    pre: Preprocessor,
    frame_size: (usize, usize),
    /// The model's output, its whole size; after [`Segmenter::infer`] the published mask is
    /// copied back into the frame's part of it, for the plate to learn from (outside a zoom's
    /// square, the frame model's look, or 255: not learnt).
    output: Vec<u8>,
    /// The frame's part of it: the mask published.
    mask: Vec<u8>,
    /// Present when the model's input and output sizes match (every bundled model): the
    /// plate and the smoothing need the frame's colour cell for cell.
    per_cell: Option<PerCell>,
    /// `segmentation.islands` and the mask values from which a cell shows the person.
    islands: IslandRule,
    labels: blobs::Islands,
    /// Parts dropped as islands, held dropped while the model is unsure of them.
    hold: hold::Hold,
    /// A longer time between two frames forgets the holds (`compositor.max_mask_age_ms`).
    gap_ns: u64,
    /// `segmentation.zoom`: the square model run on a square around a narrow person.
    zoom: Option<zoom::Zoom>,
    /// The input's making and the per-cell steps run as their AVX2 twins (`_wide`), where
    /// the CPU has AVX2 and FMA ([`viba_common::simd`]); the same masks either way.
    wide: bool,
}

impl Segmenter {
    /// Loads ONNX Runtime and the model named by `config.segmentation`, for frames of
    /// `config.frame_size()`.
    pub fn new(config: &Config) -> anyhow::Result<Segmenter> {
        let (model, zoom) = crate::load_models(config)?;
        Ok(Segmenter::with_models(model, zoom, config))
    }

    /// Like [`Segmenter::new`], with the model loaded already, and no zoom.
    pub fn with_model(model: Model, config: &Config) -> Segmenter {
        Segmenter::with_models(model, None, config)
    }

    /// Like [`Segmenter::new`], with the frame model and the zoom's square model
    /// (`segmentation.zoom`; [`crate::load_models`]) loaded already. The zoom works where the
    /// frame model's input and output sizes match and the frame fills its input.
    pub fn with_models(model: Model, zoom: Option<Model>, config: &Config) -> Segmenter {
        let place = crate::placement(&model, config);
        let seg = &config.segmentation;
        let pre = Preprocessor::new(
            model.input_width,
            model.input_height,
            place.input,
            model.layout,
            seg.mean,
            seg.std,
        );
        let same_size =
            (model.input_width, model.input_height) == (model.mask_width, model.mask_height);
        let (mw, mh) = (model.mask_width, model.mask_height);
        let islands = islands_of(config);
        let per_cell = same_size.then(|| PerCell {
            plate: plate::Plate::new(mw, mh, seg.plate, islands.low),
            temporal: temporal::Temporal::new(mw, mh, seg.smoothing, max_age_ns(config)),
            colour: std::array::from_fn(|_| vec![0.0f32; mw * mh]),
            wide: viba_common::simd::wide(),
        });
        let (fw, fh) = config.frame_size();
        let whole = place.mask
            == (fit::Rect {
                x: 0,
                y: 0,
                width: mw,
                height: mh,
            });
        let zoom = zoom.filter(|_| per_cell.is_some() && whole).map(|z| {
            let grid = zoom::Grid {
                frame: (fw as usize, fh as usize),
                cells: (mw, mh),
            };
            zoom::Zoom::new(z, grid, seg.mean, seg.std, max_age_ns(config))
        });
        Segmenter {
            zoom,
            output: vec![0; model.mask_width * model.mask_height],
            mask: vec![0; place.mask.width * place.mask.height],
            frame_size: (fw as usize, fh as usize),
            islands,
            labels: blobs::Islands::default(),
            hold: hold::Hold::default(),
            gap_ns: max_age_ns(config),
            model,
            place,
            pre,
            per_cell,
            wide: viba_common::simd::wide(),
        }
    }

    /// The same segmenter running the baseline (SSE2) loops only: for the test that both give
    /// the same masks.
    pub fn narrow(mut self) -> Segmenter {
        self.wide = false;
        if let Some(p) = &mut self.per_cell {
            p.wide = false;
        }
        self
    }

    /// The model loaded.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The zoom (`segmentation.zoom`), when it works on these frames.
    pub fn zoom(&self) -> Option<&zoom::Zoom> {
        self.zoom.as_ref()
    }

    /// Where frames go in the model's input, and which part of its output is the mask.
    pub fn placement(&self) -> &fit::Placement {
        &self.place
    }

    /// The size of the masks made (width, height): the frame's part of the model's output.
    pub fn mask_size(&self) -> (usize, usize) {
        (self.place.mask.width, self.place.mask.height)
    }

    /// The size of the frames taken (width, height).
    pub fn frame_size(&self) -> (usize, usize) {
        self.frame_size
    }

    /// Takes the keys that change while running from a config read again: the plate, the
    /// smoothing, the islands, the mask age after which the smoothing starts afresh, the soft
    /// threshold's lower end (from which the plate and the islands count a cell as shown).
    pub fn reconfigure(&mut self, config: &Config) {
        self.islands = islands_of(config);
        self.gap_ns = max_age_ns(config);
        if let Some(p) = &mut self.per_cell {
            p.plate.set(config.segmentation.plate, self.islands.low);
            p.temporal
                .set(config.segmentation.smoothing, max_age_ns(config));
        }
    }

    /// Reads a frame (YUYV, [`Segmenter::frame_size`]) into the model's input: the only step
    /// that reads the frame, so that a reader of shared memory holds it no longer than this.
    /// A frame of another length is refused (false) and leaves the input as it was.
    pub fn prepare(&mut self, yuyv: &[u8]) -> bool {
        let (w, h) = self.frame_size;
        if yuyv.len() != w * h * 2 {
            return false;
        }
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            unsafe { self.prepare_wide(yuyv) };
            return true;
        }
        self.prepare_body(yuyv);
        true
    }

    /// The frame at the frame model's size (its input, and the colour of its cells), and, with
    /// a square decided, that square at the square model's.
    #[inline(always)]
    fn prepare_body(&mut self, yuyv: &[u8]) {
        let (w, h) = self.frame_size;
        self.pre.prepare(yuyv, w, h);
        if let Some(z) = &mut self.zoom {
            z.prepare(yuyv);
        }
    }

    /// [`Preprocessor::prepare`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// Only where the CPU has AVX2 and FMA (`viba_common::simd::wide`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn prepare_wide(&mut self, yuyv: &[u8]) {
        self.prepare_body(yuyv);
    }

    /// Runs the model on the frame last prepared, captured at `timestamp_ns`
    /// (CLOCK_MONOTONIC; the smoothing starts afresh after a gap): the frame model on the
    /// whole frame, or the square model on the square the zoom decided (its mask scaled into
    /// the frame's cells; about twice a second ([`zoom::LOOK_NS`]) the frame model also
    /// looks at the whole frame for someone beside the square). Then lowers it where the
    /// frame matches the learnt room, smooths it over time, crops it to the frame's part and
    /// drops small islands; the plate then learns from that mask, the room as the picture
    /// shows it (an island dropped is room), but outside a square only from the frame model's
    /// look. Returns the mask:
    /// P(person) 0..255, one byte per cell, [`Segmenter::mask_size`], rows top to bottom.
    pub fn infer(&mut self, timestamp_ns: u64) -> Result<&[u8], ModelError> {
        let zoomed = match &mut self.zoom {
            Some(z) => z.run(&mut self.output, timestamp_ns)?,
            None => false,
        };
        if !zoomed {
            self.model.run(&self.pre.tensor, &mut self.output)?;
        } else if let Some(z) = self.zoom.as_mut().filter(|z| z.looking()) {
            // The frame model looks at the whole frame for someone beside the square.
            self.model.run(&self.pre.tensor, z.look_output())?;
        }
        Ok(self.after_model(timestamp_ns))
    }

    /// The steps of [`Segmenter::infer`] after the model, on a model output of one's own
    /// (`output`: P(person) 0..255 per model cell) for the frame last prepared: for tests of
    /// those steps on masks the model would not make on demand. `output` has the model's
    /// whole output size (with `fit: pad` larger than [`Segmenter::mask_size`]); another
    /// length panics. The zoom, if any, decides its next square from the result as usual,
    /// although no square model ran, and outside the square decided for this frame the plate
    /// learns nothing (no look: the frame model did not run).
    #[doc(hidden)]
    pub fn infer_output(&mut self, output: &[u8], timestamp_ns: u64) -> &[u8] {
        self.output.copy_from_slice(output);
        self.after_model(timestamp_ns)
    }

    fn after_model(&mut self, timestamp_ns: u64) -> &[u8] {
        if let Some(p) = &mut self.per_cell {
            p.run(&self.pre, &mut self.output, timestamp_ns);
        }
        let looked = self.zoom.as_mut().filter(|z| z.looking());
        if let Some((p, z)) = self.per_cell.as_mut().zip(looked) {
            // The frame model's look at the whole frame, lowered where the frame matches the
            // learnt room as any mask is, for `decide`: the model's false person on learnt
            // room (a sofa it joins to the person past the square's side) is not someone
            // beside the square.
            z.lower_look(|look| p.lower(look));
        }
        self.place
            .crop(&self.output, self.model.mask_width, &mut self.mask);
        let IslandRule { share, low, core } = self.islands;
        if share > 0.0 {
            let size = self.mask_size();
            self.hold.before(&self.mask, (timestamp_ns, self.gap_ns));
            self.labels
                .drop_shown(&mut self.mask, size, (low, core), share);
            if self.hold.after(&mut self.labels, &mut self.mask, size, low) {
                // The parts the hold cut off from the person.
                self.labels
                    .drop_shown(&mut self.mask, size, (low, core), share);
            }
        } else {
            self.hold.clear();
        }
        if let Some(p) = self.per_cell.as_mut().filter(|p| p.plate.is_on()) {
            // The plate learns the room the picture shows: the mask as published (islands
            // dropped) in the frame's part, the smoothed output outside it (padding).
            self.place
                .uncrop(&self.mask, self.model.mask_width, &mut self.output);
            // Outside the square the square model did not look: the mask there is room for the
            // picture, but not known to be room (someone beside the square, not yet found), so
            // it is learnt only from the frame model's look, where there was one: as the model
            // made it (not lowered by the plate, so that what the plate lowers there is not
            // learnt again from itself), and without a vote on restarting the whole plate.
            let voting = match &self.zoom {
                Some(z) => z.for_plate(&mut self.output),
                None => 0..self.model.mask_width,
            };
            p.learn(&self.output, voting);
        }
        if let Some(z) = &mut self.zoom {
            // Where the person shows at half or more: the model's faint false person beside
            // them (often joined to them) does not make them too wide for a square.
            z.decide(&self.mask, core);
        }
        &self.mask
    }

    /// [`Segmenter::prepare`] then [`Segmenter::infer`]. A frame of the wrong length is an
    /// error naming both lengths.
    pub fn segment(&mut self, yuyv: &[u8], timestamp_ns: u64) -> anyhow::Result<&[u8]> {
        if !self.prepare(yuyv) {
            let (w, h) = self.frame_size;
            anyhow::bail!(
                "a {w}x{h} YUYV frame has {} bytes, not {}",
                w * h * 2,
                yuyv.len()
            );
        }
        Ok(self.infer(timestamp_ns)?)
    }
}

// A segmenter can be moved to another thread (a program using viba as a library).
const _: () = {
    const fn send<T: Send>() {}
    send::<Segmenter>()
};

/// What works on the model's cells with the frame's colour at each.
struct PerCell {
    plate: plate::Plate,
    temporal: temporal::Temporal,
    /// The frame's Y, U, V at each cell.
    colour: [Vec<f32>; 3],
    /// The steps run as their AVX2 twin (set only where the CPU has AVX2 and FMA).
    wide: bool,
}

impl PerCell {
    /// The model's mask `output` lowered where the frame matches the learnt room and smoothed
    /// over time: the frame's colour per cell from `pre` (kept for [`PerCell::learn`]).
    fn run(&mut self, pre: &Preprocessor, output: &mut [u8], timestamp_ns: u64) {
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            return unsafe { self.run_wide(pre, output, timestamp_ns) };
        }
        self.run_body(pre, output, timestamp_ns)
    }

    /// [`PerCell::run`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// Only where the CPU has AVX2 and FMA (`viba_common::simd::wide`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_wide(&mut self, pre: &Preprocessor, output: &mut [u8], timestamp_ns: u64) {
        self.run_body(pre, output, timestamp_ns)
    }

    #[inline(always)]
    fn run_body(&mut self, pre: &Preprocessor, output: &mut [u8], timestamp_ns: u64) {
        pre.colour(&mut self.colour);
        let yuv = [&self.colour[0][..], &self.colour[1], &self.colour[2]];
        self.plate.apply(yuv, output);
        self.temporal.apply(yuv, output, timestamp_ns);
    }

    /// Lowers `mask` (model cells) where the frame [`PerCell::run`] had matches the learnt
    /// room, as [`PerCell::run`] lowers the model's mask (the baseline loops: it runs on the
    /// zoom's looks alone).
    fn lower(&mut self, mask: &mut [u8]) {
        let yuv = [&self.colour[0][..], &self.colour[1], &self.colour[2]];
        self.plate.apply(yuv, mask);
    }

    /// The plate learns from `shown`, the mask as the picture shows it (model cells), with
    /// the colour of the frame [`PerCell::run`] had; only the columns `voting` may restart the
    /// whole plate ([`plate::Plate::learn_voting`]).
    fn learn(&mut self, shown: &[u8], voting: Range<usize>) {
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            return unsafe { self.learn_wide(shown, voting) };
        }
        self.learn_body(shown, voting)
    }

    /// [`PerCell::learn`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// Only where the CPU has AVX2 and FMA (`viba_common::simd::wide`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn learn_wide(&mut self, shown: &[u8], voting: Range<usize>) {
        self.learn_body(shown, voting)
    }

    #[inline(always)]
    fn learn_body(&mut self, shown: &[u8], voting: Range<usize>) {
        let yuv = [&self.colour[0][..], &self.colour[1], &self.colour[2]];
        self.plate.learn_voting(yuv, shown, voting);
    }
}

/// `compositor.max_mask_age_ms` in nanoseconds: a longer gap between frames restarts the
/// smoothing.
fn max_age_ns(config: &Config) -> u64 {
    config.compositor.max_mask_age_ms as u64 * 1_000_000
}

/// What counts as an island (`blobs::Islands::drop_shown`), from `segmentation.*`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct IslandRule {
    /// `segmentation.islands`: parts under this share of the largest go (0: none).
    share: f32,
    /// The mask value (0..255) from which a cell shows any of the person: the soft threshold's
    /// lower end (also where the plate learns the room).
    low: u8,
    /// The mask value from which a cell shows the person at half or more: the threshold.
    core: u8,
}

fn islands_of(config: &Config) -> IslandRule {
    let seg = &config.segmentation;
    let low = (((seg.threshold - seg.softness / 2.0).max(0.02) * 255.0) as u8).max(1);
    let core = ((seg.threshold * 255.0) as u8).max(low);
    IslandRule {
        share: seg.islands,
        low,
        core,
    }
}
