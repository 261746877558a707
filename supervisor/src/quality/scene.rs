//! Test sequences with an exact ground truth: a person layer (colours and alpha matte) over a
//! room photo, moving, with sensor noise. Every frame and its true alpha are computed from
//! the frame index alone, so the scorer can make them again instead of storing them.

use std::path::Path;
use viba_media::picture::{self, PixelType};

/// A person layer: colours and alpha matte (loaded straight from the PNG, kept premultiplied).
pub struct Person {
    /// Width of the layer in pixels.
    pub width: usize,
    /// Height of the layer in pixels.
    pub height: usize,
    /// Premultiplied RGB and alpha per pixel: `[r*a, g*a, b*a, a]`.
    premul: Vec<[f32; 4]>,
}

impl Person {
    /// Loads an RGBA PNG (colour + matte), as `bench/quality/make_data.py` writes them.
    pub fn load(path: &Path) -> Result<Person, String> {
        let img = image::open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .to_rgba8();
        let (width, height) = (img.width() as usize, img.height() as usize);
        let premul = img
            .pixels()
            .map(|p| {
                let a = p[3] as f32 / 255.0;
                [
                    p[0] as f32 / 255.0 * a,
                    p[1] as f32 / 255.0 * a,
                    p[2] as f32 / 255.0 * a,
                    a,
                ]
            })
            .collect();
        Ok(Person {
            width,
            height,
            premul,
        })
    }

    /// Bilinear sample at layer coordinates (pixel centres at +0.5). Above the layer there is
    /// nothing; below it the last row continues, left and right the border columns (where the
    /// body reaches the photo's edge, the shoulders go on to the frame's edge; where the
    /// backdrop does, it stays transparent).
    fn sample(&self, u: f32, v: f32) -> [f32; 4] {
        let (w, h) = (self.width as f32, self.height as f32);
        let v = v.min(h - 0.5);
        let u = u.clamp(0.5, w - 0.5);
        if v < -0.5 {
            return [0.0; 4];
        }
        let (x, y) = (u - 0.5, v - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xi: f32, yi: f32| -> [f32; 4] {
            if xi < 0.0 || yi < 0.0 || xi >= w || yi >= h {
                return [0.0; 4];
            }
            self.premul[yi as usize * self.width + xi as usize]
        };
        let (a, b, c, d) = (
            at(x0, y0),
            at(x0 + 1.0, y0),
            at(x0, y0 + 1.0),
            at(x0 + 1.0, y0 + 1.0),
        );
        let mut out = [0.0; 4];
        for k in 0..4 {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            out[k] = top + (bottom - top) * fy;
        }
        out
    }
}

/// How the person moves. `t` is seconds since the first scored frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Still; only sensor noise changes.
    Static,
    /// Side to side, 12 % of the width each way, every 4 s (about 7 px per frame at 720p).
    Slow,
    /// Side to side, 18 % of the width each way, every 1.2 s (up to 40 px per frame at 720p).
    Fast,
    /// Towards and away from the camera: 0.85x to 1.15x every 3 s.
    Scale,
}

impl Motion {
    /// Horizontal offset (share of the width) and scale at time `t`.
    fn at(self, t: f64) -> (f64, f64) {
        let wave = |period: f64| (2.0 * std::f64::consts::PI * t / period).sin();
        match self {
            Motion::Static => (0.0, 1.0),
            Motion::Slow => (0.12 * wave(4.0), 1.0),
            Motion::Fast => (0.18 * wave(1.2), 1.0),
            Motion::Scale => (0.0, 1.0 + 0.15 * wave(3.0)),
        }
    }

    /// Its name in sequence names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Motion::Static => "static",
            Motion::Slow => "slow",
            Motion::Fast => "fast",
            Motion::Scale => "scale",
        }
    }

    /// The motion of that name, if any.
    pub fn parse(s: &str) -> Option<Motion> {
        [Motion::Static, Motion::Slow, Motion::Fast, Motion::Scale]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// One sequence: who, where, how, how big.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The person's name: `persons/<name>.png` in the data folder.
    pub person: String,
    /// The room's name: `rooms/<name>.png` in the data folder.
    pub room: String,
    /// How the person moves.
    pub motion: Motion,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// The person's height (layer height times scale) as a share of the frame height.
    pub fill: f64,
}

impl Spec {
    /// The sequence's name: person, room, motion and size, e.g.
    /// `franck-office-slow-640x360`.
    pub fn name(&self) -> String {
        format!(
            "{}-{}-{}-{}x{}",
            self.person,
            self.room,
            self.motion.name(),
            self.width,
            self.height
        )
    }

    /// The sequence `name` stands for (`person-room-motion-WxH`, as [`Spec::name`] writes it),
    /// the person filling `fill` of the frame's height; `None` for a name of another form, an
    /// unknown motion, or a size that is not even (YUYV) and within 64x64..4096x4096 (the
    /// pipeline's limit).
    pub fn parse(name: &str, fill: f64) -> Option<Spec> {
        let mut parts = name.rsplitn(4, '-');
        let (size, motion, room, person) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let (w, h) = size.split_once('x')?;
        // Digits only (`parse` would take `+640`), so that the name reads back the same.
        let number = |v: &str| {
            v.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| v.parse().ok())?
        };
        let (width, height): (usize, usize) = (number(w)?, number(h)?);
        let fits = |v: usize| (64..=4096).contains(&v) && v.is_multiple_of(2);
        let named = |s: &str| !s.is_empty() && !s.contains(['/', '.']);
        (fits(width) && fits(height) && named(person) && named(room)).then_some(())?;
        Some(Spec {
            person: person.into(),
            room: room.into(),
            motion: Motion::parse(motion)?,
            width,
            height,
            fill,
        })
    }
}

/// Frames before the first scored one: the pipeline starts up (model loading) on them.
pub const LEAD_IN: usize = 45;
/// Scored frames (4 s at 30 fps).
pub const SCORED: usize = 120;
/// Frame rate of the sequences.
pub const FPS: f64 = 30.0;
/// Sensor noise, standard deviation in 8-bit RGB steps.
const NOISE: f32 = 2.0;

/// A sequence ready to render.
pub struct Scene {
    /// What it shows.
    pub spec: Spec,
    person: Person,
    /// The room, scaled to cover the frame, RGB 0..1.
    room: Vec<[f32; 3]>,
}

impl Scene {
    /// Loads the person and the room of `spec` from the `data` folder, the room scaled to cover
    /// the frame.
    pub fn new(spec: Spec, data: &Path) -> Result<Scene, String> {
        let person = Person::load(&data.join("persons").join(format!("{}.png", spec.person)))?;
        let path = data.join("rooms").join(format!("{}.png", spec.room));
        let (rw, rh, rgb) =
            picture::load_rgb(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (w, h) = (spec.width, spec.height);
        let scaled = picture::resize_cover(&rgb, (rw, rh), (w as u32, h as u32), PixelType::U8x3);
        let room = scaled
            .chunks_exact(3)
            .map(|p| {
                [
                    p[0] as f32 / 255.0,
                    p[1] as f32 / 255.0,
                    p[2] as f32 / 255.0,
                ]
            })
            .collect();
        Ok(Scene { spec, person, room })
    }

    /// Frames in the sequence (lead-in and scored).
    pub fn frames(&self) -> usize {
        LEAD_IN + SCORED
    }

    /// Where the person layer is in frame `index`: (scale in frame pixels per layer pixel,
    /// left and top of the layer in the frame).
    fn placement(&self, index: usize) -> (f64, f64, f64) {
        let t = index.saturating_sub(LEAD_IN) as f64 / FPS;
        let (dx, s) = self.spec.motion.at(t);
        let (w, h) = (self.spec.width as f64, self.spec.height as f64);
        let scale = self.spec.fill * h / self.person.height as f64 * s;
        let left = w / 2.0 + dx * w - scale * self.person.width as f64 / 2.0;
        // Bottom-anchored: the layer's last row sits on the frame's last row.
        let top = h - scale * self.person.height as f64;
        (scale, left, top)
    }

    /// The true alpha of frame `index`, 0..1 per pixel.
    pub fn alpha(&self, index: usize) -> Vec<f32> {
        let (w, h) = (self.spec.width, self.spec.height);
        let (scale, left, top) = self.placement(index);
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            let v = ((y as f64 + 0.5 - top) / scale) as f32;
            for x in 0..w {
                let u = ((x as f64 + 0.5 - left) / scale) as f32;
                out[y * w + x] = self.person.sample(u, v)[3];
            }
        }
        out
    }

    /// Frame `index` as YUYV, with its own sensor noise.
    pub fn frame(&self, index: usize) -> Vec<u8> {
        let (w, h) = (self.spec.width, self.spec.height);
        let (scale, left, top) = self.placement(index);
        let mut noise = Noise::new(index as u64 * 0x9e37_79b9 + 1);
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            let v = ((y as f64 + 0.5 - top) / scale) as f32;
            for x in 0..w {
                let u = ((x as f64 + 0.5 - left) / scale) as f32;
                let p = self.person.sample(u, v);
                let r = self.room[y * w + x];
                for c in 0..3 {
                    let value = p[c] + r[c] * (1.0 - p[3]);
                    let noisy = value * 255.0 + noise.gaussian() * NOISE;
                    rgb[(y * w + x) * 3 + c] = noisy.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        let mut yuyv = vec![0u8; w * h * 2];
        viba_common::yuv::rgb_to_yuyv(&rgb, w, h, &mut yuyv);
        yuyv
    }
}

/// A small deterministic noise source (xorshift; a sum of uniforms for a near-Gaussian).
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Noise {
        Noise(seed.max(1))
    }

    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Mean 0, standard deviation 1 (Irwin-Hall with 4 terms, scaled).
    fn gaussian(&mut self) -> f32 {
        let s: f32 = (0..4).map(|_| self.uniform()).sum();
        (s - 2.0) * (3.0f32).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_unit_spread() {
        let mut n = Noise::new(7);
        let xs: Vec<f32> = (0..20000).map(|_| n.gaussian()).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn a_sequence_name_is_read_back() {
        let spec = Spec::parse("greenman-office-scale-1280x720", 0.9).unwrap();
        assert_eq!(spec.name(), "greenman-office-scale-1280x720");
        assert_eq!((spec.width, spec.height, spec.fill), (1280, 720, 0.9));
        assert_eq!(spec.motion, Motion::Scale);
        for bad in [
            "greenman-office-scale",
            "greenman-office-jump-640x360",
            "greenman-office-slow-641x360",
            "greenman-office-slow-32x32",
            "greenman-office-slow-8192x360",
            "greenman-office-slow-+640x360",
            "greenman-office-slow-640by360",
            "-office-slow-640x360",
            "../x-office-slow-640x360",
        ] {
            assert!(Spec::parse(bad, 1.0).is_none(), "{bad}");
        }
    }

    #[test]
    fn motions_start_at_rest() {
        for m in [Motion::Static, Motion::Slow, Motion::Fast, Motion::Scale] {
            assert_eq!(m.at(0.0), (0.0, 1.0));
            assert_eq!(Motion::parse(m.name()), Some(m));
        }
    }
}
