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
        self.bilinear(u, v)
    }

    /// Like [`Person::sample`], but nothing left or right of the layer either: the second
    /// person of [`Motion::Enter`], whose sides do not go on.
    fn sample_within(&self, u: f32, v: f32) -> [f32; 4] {
        let v = v.min(self.height as f32 - 0.5);
        if v < -0.5 {
            return [0.0; 4];
        }
        self.bilinear(u, v)
    }

    fn bilinear(&self, u: f32, v: f32) -> [f32; 4] {
        let (w, h) = (self.width as f32, self.height as f32);
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
    /// Still, left of the centre (at 0.3 of the width), while a second person (the other
    /// person of the data folder, or the same one, at 0.6 of the size) comes in from the right
    /// between 0.5 and 1.5 s and then stands still at the frame's right side: someone joining
    /// a call. A narrow person gets a square (`segmentation.zoom`) that the second stays
    /// outside of.
    Enter,
}

/// The second person of [`Motion::Enter`]: their size against the first's, and when they come
/// in (seconds).
const ENTER_SCALE: f64 = 0.6;
const ENTER_FROM: f64 = 0.5;
const ENTER_TO: f64 = 1.5;

impl Motion {
    /// Every motion.
    pub const ALL: [Motion; 5] = [
        Motion::Static,
        Motion::Slow,
        Motion::Fast,
        Motion::Scale,
        Motion::Enter,
    ];

    /// Horizontal offset (share of the width) and scale at time `t`.
    fn at(self, t: f64) -> (f64, f64) {
        let wave = |period: f64| (2.0 * std::f64::consts::PI * t / period).sin();
        match self {
            Motion::Static => (0.0, 1.0),
            Motion::Slow => (0.12 * wave(4.0), 1.0),
            Motion::Fast => (0.18 * wave(1.2), 1.0),
            Motion::Scale => (0.0, 1.0 + 0.15 * wave(3.0)),
            Motion::Enter => (-0.2, 1.0),
        }
    }

    /// [`Motion::Enter`]'s second person at time `t`: how far in (0: just outside the frame's
    /// right edge, 1: their right edge at 0.98 of the width), eased in and out; `None` for
    /// other motions.
    fn second_at(self, t: f64) -> Option<f64> {
        (self == Motion::Enter).then(|| {
            let x = ((t - ENTER_FROM) / (ENTER_TO - ENTER_FROM)).clamp(0.0, 1.0);
            x * x * (3.0 - 2.0 * x)
        })
    }

    /// Its name in sequence names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Motion::Static => "static",
            Motion::Slow => "slow",
            Motion::Fast => "fast",
            Motion::Scale => "scale",
            Motion::Enter => "enter",
        }
    }

    /// The motion of that name, if any.
    pub fn parse(s: &str) -> Option<Motion> {
        Motion::ALL.into_iter().find(|m| m.name() == s)
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
/// Sensor noise, standard deviation in 8-bit RGB steps, unless [`Scene::with_noise`] says
/// otherwise (`viba-quality --noise`).
pub const NOISE: f32 = 2.0;

/// A sequence ready to render.
pub struct Scene {
    /// What it shows.
    pub spec: Spec,
    person: Person,
    /// [`Motion::Enter`]'s second person.
    second: Option<Person>,
    /// The room, scaled to cover the frame, RGB 0..1.
    room: Vec<[f32; 3]>,
    /// Sensor noise, standard deviation in 8-bit RGB steps.
    noise: f32,
}

impl Scene {
    /// Loads the person and the room of `spec` from the `data` folder, the room scaled to cover
    /// the frame.
    pub fn new(spec: Spec, data: &Path) -> Result<Scene, String> {
        let persons = data.join("persons");
        let person = Person::load(&persons.join(format!("{}.png", spec.person)))?;
        let second = match spec.motion {
            Motion::Enter => Some(Person::load(
                &persons.join(format!("{}.png", other_person(&persons, &spec.person))),
            )?),
            _ => None,
        };
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
        Ok(Scene {
            spec,
            person,
            second,
            room,
            noise: NOISE,
        })
    }

    /// The same sequence with sensor noise of `sigma` (standard deviation in 8-bit RGB steps)
    /// instead of [`NOISE`]: a dim room's camera.
    pub fn with_noise(mut self, sigma: f32) -> Scene {
        self.noise = sigma;
        self
    }

    /// The sensor noise, standard deviation in 8-bit RGB steps.
    pub fn noise(&self) -> f32 {
        self.noise
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

    /// Where [`Motion::Enter`]'s second person is in frame `index`, as
    /// [`Scene::placement`]: `None` for other motions.
    fn second_placement(&self, index: usize) -> Option<(&Person, f64, f64, f64)> {
        let t = index.saturating_sub(LEAD_IN) as f64 / FPS;
        let (person, shown) = (self.second.as_ref()?, self.spec.motion.second_at(t)?);
        let (w, h) = (self.spec.width as f64, self.spec.height as f64);
        let scale = ENTER_SCALE * self.spec.fill * h / person.height as f64;
        let width = scale * person.width as f64;
        let left = w + shown * (0.98 * w - width - w);
        Some((person, scale, left, h - scale * person.height as f64))
    }

    /// The colour (premultiplied) and alpha of the people at pixel `(x, y)` of a frame with
    /// these placements: the second person behind the first.
    fn people(
        &self,
        (x, y): (usize, usize),
        (scale, left, top): (f64, f64, f64),
        second: Option<(&Person, f64, f64, f64)>,
    ) -> [f32; 4] {
        let at = |scale: f64, left: f64, top: f64| {
            (
                ((x as f64 + 0.5 - left) / scale) as f32,
                ((y as f64 + 0.5 - top) / scale) as f32,
            )
        };
        let (u, v) = at(scale, left, top);
        let front = self.person.sample(u, v);
        let Some((person, scale, left, top)) = second else {
            return front;
        };
        let (u, v) = at(scale, left, top);
        let back = person.sample_within(u, v);
        std::array::from_fn(|k| front[k] + back[k] * (1.0 - front[3]))
    }

    /// The true alpha of frame `index`, 0..1 per pixel.
    pub fn alpha(&self, index: usize) -> Vec<f32> {
        let (w, h) = (self.spec.width, self.spec.height);
        let (place, second) = (self.placement(index), self.second_placement(index));
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = self.people((x, y), place, second)[3];
            }
        }
        out
    }

    /// Frame `index` as YUYV, with its own sensor noise.
    pub fn frame(&self, index: usize) -> Vec<u8> {
        let (w, h) = (self.spec.width, self.spec.height);
        let (place, second) = (self.placement(index), self.second_placement(index));
        let mut noise = Noise::new(index as u64 * 0x9e37_79b9 + 1);
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let p = self.people((x, y), place, second);
                let r = self.room[y * w + x];
                for c in 0..3 {
                    let value = p[c] + r[c] * (1.0 - p[3]);
                    let noisy = value * 255.0 + noise.gaussian() * self.noise;
                    rgb[(y * w + x) * 3 + c] = noisy.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        let mut yuyv = vec![0u8; w * h * 2];
        viba_common::yuv::rgb_to_yuyv(&rgb, w, h, &mut yuyv);
        yuyv
    }
}

/// The person of [`Motion::Enter`]'s second person: the first other than `first` (by name)
/// among `persons/*.png`, or `first` again where there is no other.
fn other_person(persons: &Path, first: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(persons)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some(name.strip_suffix(".png")?.to_owned())
        })
        .filter(|n| n != first)
        .collect();
    names.sort();
    names.into_iter().next().unwrap_or_else(|| first.to_owned())
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
        }
        for m in Motion::ALL {
            assert_eq!(Motion::parse(m.name()), Some(m));
        }
        // The first person of `enter` stands still left of the centre; the second comes in.
        for t in [0.0, 1.0, 3.9] {
            assert_eq!(Motion::Enter.at(t), (-0.2, 1.0));
        }
        assert_eq!(Motion::Enter.second_at(0.0), Some(0.0));
        assert_eq!(Motion::Enter.second_at(ENTER_FROM), Some(0.0));
        assert_eq!(Motion::Enter.second_at(1.0), Some(0.5));
        assert_eq!(Motion::Enter.second_at(ENTER_TO), Some(1.0));
        assert_eq!(Motion::Enter.second_at(3.9), Some(1.0));
        assert_eq!(Motion::Fast.second_at(1.0), None);
    }

    /// A layer of `w` x `h`: alpha 1 in columns `x0..x1` of every row (colour: grey 0.5).
    fn bar(w: usize, h: usize, (x0, x1): (usize, usize)) -> Person {
        let premul = (0..w * h)
            .map(|k| match (x0..x1).contains(&(k % w)) {
                true => [0.5, 0.5, 0.5, 1.0],
                false => [0.0; 4],
            })
            .collect();
        Person {
            width: w,
            height: h,
            premul,
        }
    }

    #[test]
    fn the_second_person_comes_in_from_the_right_and_stays_beside_the_first() {
        // The first 100 pixels tall and 40 wide (a bar of 20 in the middle), the second 60 x 24.
        let spec = Spec::parse("a-room-enter-320x100", 1.0).unwrap();
        let scene = Scene {
            spec,
            person: bar(40, 100, (10, 30)),
            second: Some(bar(40, 100, (0, 40))),
            room: vec![[0.0; 3]; 320 * 100],
            noise: NOISE,
        };
        let at = |t: f64| LEAD_IN + (t * FPS).round() as usize;
        let columns = |alpha: &[f32]| {
            (0..320)
                .filter(|&x| (0..100).any(|y| alpha[y * 320 + x] > 0.5))
                .collect::<Vec<_>>()
        };
        // Before: the first alone, its bar at 0.3 of the width (96) +-10.
        let before = columns(&scene.alpha(at(0.0)));
        assert_eq!((before[0], *before.last().unwrap()), (86, 105));
        assert_eq!(before.len(), 20);
        // After: the second, 0.6 of the size (24 pixels wide), its right edge at 0.98 of the
        // width (313.6), and the first where it was; halfway, part of the way in.
        let after = columns(&scene.alpha(at(2.0)));
        assert_eq!(after.len(), 20 + 24, "{after:?}");
        assert_eq!(*after.last().unwrap(), 313);
        // Halfway (smoothstep 0.5) their left edge is at 304.8: in, to the frame's edge.
        let half = columns(&scene.alpha(at(1.0)));
        assert_eq!(&half[20..], &(305..320).collect::<Vec<_>>()[..], "{half:?}");
        // The frame shows what the alpha says: grey where a person is, black elsewhere.
        let frame = scene.frame(at(2.0));
        let luma = |x: usize| frame[(60 * 320 + x) * 2] as f32;
        assert!(luma(300) > 100.0 && luma(200) < 40.0 && luma(96) > 100.0);
    }

    #[test]
    fn the_sensor_noise_is_what_with_noise_says() {
        // A grey room, nobody in it (the person is outside the frame's columns): the luma's
        // spread over the frame is the noise's (about 0.57 of the RGB's, by the luma weights).
        let spec = Spec::parse("a-room-static-320x100", 1.0).unwrap();
        let spread = |sigma: f32| {
            let scene = Scene {
                spec: spec.clone(),
                person: bar(40, 100, (0, 0)),
                second: None,
                room: vec![[0.5; 3]; 320 * 100],
                noise: NOISE,
            }
            .with_noise(sigma);
            let frame = scene.frame(LEAD_IN);
            let luma: Vec<f64> = frame.chunks_exact(2).map(|p| p[0] as f64).collect();
            let mean = luma.iter().sum::<f64>() / luma.len() as f64;
            (luma.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / luma.len() as f64).sqrt()
        };
        assert_eq!(spread(0.0), 0.0);
        let (two, six) = (spread(2.0), spread(6.0));
        assert!((1.0..1.4).contains(&two), "noise 2: luma spread {two}");
        assert!((3.1..3.8).contains(&six), "noise 6: luma spread {six}");
    }
}
