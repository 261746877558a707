//! The matte: per-byte alpha rows for the blend, from the newest mask and the frame being
//! shown. The mask goes through the soft threshold (`alpha::lut`), then either straight to a
//! bilinear upsampling (`alpha::Upsampler`) or, with `compositor.refine`, through the colour
//! guided filter (`refine`) with the frame's colour as guide, the feather (`feather`) and,
//! with `compositor.soft_edges`, the soft edges (`soft_edge`); for frames wider than 960
//! pixels, on a half-size copy of the frame (`half`).

use crate::alpha::{lut, Upsampler};
use crate::feather::{self, Feather};
use crate::half::{self, Doubler};
use crate::refine::{self, Applier, ColourGuided};
use crate::soft_edge::SoftEdge;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use viba_common::config::{Config, RefineRadius};

/// The frame's colour at mask size: what the refinement and the blurred background start
/// from.
pub struct Cells {
    resizer: Resizer,
    options: ResizeOptions,
    /// The frame's `Y0 U Y1 V` pairs scaled to mask size: each cell's mean colour.
    small: Vec<u8>,
    /// Y, U, V per cell, 0..1.
    pub yuv: [Vec<f32>; 3],
}

impl Cells {
    fn new(n: usize) -> Cells {
        Cells {
            resizer: Resizer::new(),
            options: ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Box))
                .use_alpha(false),
            small: vec![0; n * 4],
            yuv: std::array::from_fn(|_| vec![0.0; n]),
        }
    }

    /// Scales `frame` (YUYV, `frame` size) to `cells` size.
    #[inline(always)]
    fn make(&mut self, frame: &[u8], (w, h): (usize, usize), (mw, mh): (usize, usize)) {
        // The frame as w/2 pixels of `Y0 U Y1 V`, scaled to mw cells per row: each cell gets
        // the mean of its area's two lumas, U and V.
        let src = ImageRef::new(
            (w / 2) as u32,
            h as u32,
            &frame[..w * h * 2],
            PixelType::U8x4,
        )
        .expect("frame holds width*height*2 bytes");
        let mut dst = Image::from_slice_u8(mw as u32, mh as u32, &mut self.small, PixelType::U8x4)
            .expect("sized in new");
        self.resizer
            .resize(&src, &mut dst, &self.options)
            .expect("same pixel type");
        const S: f32 = 1.0 / 255.0;
        let [y, u, v] = &mut self.yuv;
        for (((q, y), u), v) in self.small.chunks_exact(4).zip(y).zip(u).zip(v) {
            *y = (q[0] as f32 + q[2] as f32) * (0.5 * S);
            *u = q[1] as f32 * S;
            *v = q[3] as f32 * S;
        }
    }
}

/// Refinement state: the thresholded mask (0..1), the filter, its application (to the frame,
/// or to its half-size copy), the feather, and the doubling of a half-size alpha.
struct Refined {
    m: Vec<f32>,
    filter: ColourGuided,
    applier: Applier,
    feather: Feather,
    /// `compositor.soft_edges`: the feathered edge softened where the frame's is softer.
    soft: Option<SoftEdge>,
    doubler: Option<Doubler>,
}

/// A half-size copy of the frame (`half::halve`), for wide frames.
struct Halved {
    size: (usize, usize),
    frame: Vec<u8>,
}

/// Proof that [`Matte::prepare_cells`] has made cells: [`Matte::prepare_edge`] takes it (once:
/// it is neither `Copy` nor `Clone`, and only `prepare_cells` makes one).
pub struct CellsMade(());

/// What shapes the matte (from `segmentation` and `compositor` in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatteSettings {
    /// `segmentation.threshold`.
    pub threshold: f32,
    /// `segmentation.softness`.
    pub softness: f32,
    /// `segmentation.smoothing`: with refinement, also applied to the refined edge's pixels.
    pub smoothing: f32,
    /// `compositor.refine`: the colour guided filter's window radius, eps and fits per frame,
    /// or `None`.
    pub refine: Option<(RefineRadius, f32, u32)>,
    /// `compositor.soft_edges` (with `refine`).
    pub soft_edges: bool,
}

impl MatteSettings {
    /// The settings of a config.
    pub fn of(config: &Config) -> MatteSettings {
        let c = &config.compositor;
        MatteSettings {
            threshold: config.segmentation.threshold,
            softness: config.segmentation.softness,
            smoothing: config.segmentation.smoothing,
            refine: c
                .refine
                .then_some((c.refine_radius, c.refine_eps, c.refine_passes)),
            soft_edges: c.soft_edges,
        }
    }
}

/// The parts of [`Matte::prepare`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// The frame at mask size (and half size, for wide frames).
    Cells,
    /// The refined edge, from the cells made before.
    Edge,
    Both,
}

/// Alpha rows for frames of one size from masks of one size.
pub struct Matte {
    lut: [u8; 256],
    mask_size: (usize, usize),
    frame_size: (usize, usize),
    /// The thresholded mask (0..255).
    mask: Vec<u8>,
    plain: Upsampler,
    /// The frame at mask size, when the refinement or a blurred background needs it.
    cells: Option<Cells>,
    /// The frame at half size, when `cells` are kept and the frame is wide (`half::wanted`):
    /// the cells are made from it, and the refinement works on it. (Once the refinement is
    /// done, the applier keeps that copy as its last frame and this holds the buffer of the
    /// one before, to be halved into next: [`Applier::keep_frame`].)
    halved: Option<Halved>,
    refined: Option<Refined>,
    /// Use the AVX2 build of the hot path ([`crate::simd`]).
    wide: bool,
}

impl Matte {
    /// For masks of `mask_size` and frames of `frame_size`; `need_cells`: keep the frame at
    /// mask size ([`Matte::cells`]) even without refinement (for a blurred background).
    pub fn new(
        settings: MatteSettings,
        mask_size: (usize, usize),
        frame_size: (usize, usize),
        need_cells: bool,
    ) -> Matte {
        let n = mask_size.0 * mask_size.1;
        let need_cells = need_cells || settings.refine.is_some();
        let halved = (need_cells && half::wanted(frame_size)).then(|| Halved {
            size: (frame_size.0 / 2, frame_size.1 / 2),
            frame: vec![0; frame_size.0 / 2 * frame_size.1 / 2 * 2],
        });
        let work_size = halved.as_ref().map_or(frame_size, |h| h.size);
        let refined = settings.refine.map(|(radius, eps, passes)| Refined {
            m: vec![0.0; n],
            filter: ColourGuided::new(
                mask_size,
                match radius {
                    RefineRadius::Auto => refine::auto_radius(mask_size, work_size),
                    RefineRadius::Cells(r) => (r as usize, r as usize),
                },
                eps,
                passes as usize,
            ),
            applier: match &halved {
                // The half-size copy is the matte's own: it becomes the applier's last frame.
                Some(_) => Applier::new(mask_size, work_size, settings.smoothing).trading(),
                None => Applier::new(mask_size, work_size, settings.smoothing),
            },
            feather: Feather::new(work_size),
            soft: settings.soft_edges.then(|| SoftEdge::new(work_size)),
            doubler: halved.as_ref().map(|_| Doubler::new(frame_size)),
        });
        Matte {
            lut: lut(settings.threshold, settings.softness),
            mask_size,
            frame_size,
            mask: vec![0; n],
            plain: Upsampler::new(mask_size, frame_size),
            cells: need_cells.then(|| Cells::new(n)),
            halved,
            refined,
            wide: crate::simd::wide(),
        }
    }

    /// The same matte on the baseline build of the hot path ([`crate::simd`]).
    pub fn narrow(mut self) -> Matte {
        self.wide = false;
        self
    }

    /// The frame last prepared, at mask size (with refinement or `need_cells`).
    pub fn cells(&self) -> Option<&Cells> {
        self.cells.as_ref()
    }

    /// The thresholded mask (0..255), mask size.
    pub fn mask(&self) -> &[u8] {
        &self.mask
    }

    /// Takes a new mask (P(person) 0..255, mask size).
    pub fn set_mask(&mut self, mask: &[u8]) {
        for (m, &p) in self.mask.iter_mut().zip(mask) {
            *m = self.lut[p as usize];
        }
        match &mut self.refined {
            Some(r) => {
                for (f, &m) in r.m.iter_mut().zip(&self.mask) {
                    *f = m as f32 * (1.0 / 255.0);
                }
            }
            None => self.plain.set_mask(&self.mask),
        }
    }

    /// Prepares the rows for `frame` (YUYV, frame size): with refinement, fits the mask to
    /// this frame's edges.
    pub fn prepare(&mut self, frame: &[u8]) {
        self.prepare_part(frame, Part::Both)
    }

    /// The first part of [`Matte::prepare`]: the frame at mask size ([`Matte::cells`]), for
    /// what else needs it while it is fresh in the cache (the blurred room); then
    /// [`Matte::prepare_edge`] with the same frame, which takes the returned [`CellsMade`]
    /// (so the edge is never made without cells made before it; that they were made from the
    /// same frame is the caller's part).
    #[must_use = "the edge is made by prepare_edge with this"]
    pub fn prepare_cells(&mut self, frame: &[u8]) -> CellsMade {
        self.prepare_part(frame, Part::Cells);
        CellsMade(())
    }

    /// The rest of [`Matte::prepare`], after [`Matte::prepare_cells`] with the same frame.
    pub fn prepare_edge(&mut self, frame: &[u8], made: CellsMade) {
        let CellsMade(()) = made;
        self.prepare_part(frame, Part::Edge)
    }

    fn prepare_part(&mut self, frame: &[u8], part: Part) {
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only where the CPU has AVX2 and FMA (`simd::wide`).
            return unsafe { self.prepare_wide(frame, part) };
        }
        self.prepare_body(frame, part)
    }

    /// [`Matte::prepare`] compiled for AVX2 and FMA ([`crate::simd`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn prepare_wide(&mut self, frame: &[u8], part: Part) {
        self.prepare_body(frame, part)
    }

    #[inline(always)]
    fn prepare_body(&mut self, frame: &[u8], part: Part) {
        let Some(cells) = &mut self.cells else {
            return;
        };
        if part != Part::Edge {
            let (work, work_size) = match &mut self.halved {
                Some(h) => {
                    half::halve(frame, self.frame_size, &mut h.frame);
                    (&h.frame[..], h.size)
                }
                None => (frame, self.frame_size),
            };
            cells.make(work, work_size, self.mask_size);
        }
        if part == Part::Cells {
            return;
        }
        let (work, work_size) = match &self.halved {
            Some(h) => (&h.frame[..], h.size),
            None => (frame, self.frame_size),
        };
        if let Some(r) = &mut self.refined {
            let yuv = &cells.yuv;
            r.filter.run([&yuv[0], &yuv[1], &yuv[2]], &r.m);
            r.applier.take(&mut r.filter);
            // The whole alpha now, feathered; the rows take it (doubled from half size).
            let stride = work_size.0 * 2;
            for (y, row) in work.chunks_exact(stride).take(work_size.1).enumerate() {
                r.applier.compute(y, row);
            }
            r.feather.make(r.applier.alpha());
            if let Some(s) = &mut r.soft {
                // The feathered plane itself is softened (no copy of it).
                s.make_from(work, r.feather.plane());
            }
            // Nothing reads the half-size copy any more: the applier keeps it as the last
            // frame, and the next frame is halved into the old one's buffer.
            if let Some(h) = &mut self.halved {
                r.applier.keep_frame(&mut h.frame);
            }
        }
    }

    /// Keeps what `old` (this one's predecessor, for the same camera) measured of the camera:
    /// its noise, for the refined edge's smoothing ([`Applier::keep_noise_of`]).
    pub fn keep_camera_of(&mut self, old: &Matte) {
        if let (Some(new), Some(old)) = (&mut self.refined, &old.refined) {
            new.applier.keep_noise_of(&old.applier);
        }
    }

    /// With refinement: the scale of the refined edge smoothing's still threshold.
    #[cfg(test)]
    pub(crate) fn noise_scale(&self) -> Option<f32> {
        self.refined.as_ref().map(|r| r.applier.noise_scale())
    }

    /// With refinement: the share of mask cells whose pixels were computed for the last frame
    /// (near the outline; the rest are plainly person or room).
    pub fn refined_share(&self) -> Option<f32> {
        self.refined.as_ref().map(|r| r.applier.mixed_share())
    }

    /// Forgets what the temporal smoothing keeps (after a frame shown without the person, or a
    /// pause).
    pub fn forget(&mut self) {
        if let Some(r) = &mut self.refined {
            r.applier.forget();
            if let Some(s) = &mut r.soft {
                s.forget();
            }
        }
    }

    /// Alpha of row `y` per YUYV byte (`2 * width` bytes) of the frame last prepared.
    #[inline(always)]
    pub fn row(&mut self, y: usize, out: &mut [u8]) {
        match &mut self.refined {
            Some(r) => {
                // The alpha at the working size: feathered, and softened where the frame is.
                let alpha = match &r.soft {
                    Some(s) => s.alpha(),
                    None => r.feather.alpha(),
                };
                match &mut r.doubler {
                    Some(d) => d.row(y, alpha, out),
                    None => {
                        let w = self.frame_size.0;
                        feather::per_byte(&alpha[y * w..(y + 1) * w], out)
                    }
                }
            }
            None => self.plain.row(y, out),
        }
    }
}
