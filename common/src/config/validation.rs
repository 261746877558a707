//! The checks of a parsed config: every key's value in range, paths resolved against the
//! config's folder and present, `auto` resolved to a bundled model; each failure names its key.

use super::*;

pub(super) type Invalid = (String, String);

pub(super) fn invalid(key: &str, message: impl Into<String>) -> Invalid {
    (key.to_owned(), message.into())
}

pub(super) fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

pub(super) fn existing_file(
    key: &str,
    base: &Path,
    p: &mut PathBuf,
    what: &str,
) -> Result<(), Invalid> {
    *p = resolve(base, p);
    if !p.is_file() {
        return Err(invalid(
            key,
            format!("{} does not exist or is not a file ({what})", p.display()),
        ));
    }
    Ok(())
}

pub(super) fn validate(c: &mut Config) -> Result<(), Invalid> {
    let base = c.base_dir.clone();
    if !names::valid_instance(&c.instance) {
        return Err(invalid(
            "instance",
            format!(
                "\"{}\" is not a valid name (1 to 32 letters, digits, '-' or '_')",
                c.instance
            ),
        ));
    }

    let i = &mut c.input;
    for (key, v) in [("input.width", i.width), ("input.height", i.height)] {
        if v == 0 || v % 2 != 0 || v > 4096 {
            return Err(invalid(
                key,
                format!("{v} must be an even number of pixels from 2 to 4096"),
            ));
        }
    }
    if !(1..=120).contains(&i.fps) {
        return Err(invalid("input.fps", format!("{} is outside 1..120", i.fps)));
    }
    match i.source {
        SourceKind::Video | SourceKind::Image => match i.path.as_mut() {
            Some(p) => existing_file("input.path", &base, p, "the file to read frames from")?,
            None => {
                return Err(invalid(
                    "input.path",
                    "is required when input.source is \"video\" or \"image\"",
                ))
            }
        },
        SourceKind::Camera => {
            if i.device.is_empty() {
                return Err(invalid(
                    "input.device",
                    "is empty (name the camera, e.g. /dev/video0; list them with viba-supervisor --list-devices)",
                ));
            }
        }
        SourceKind::Synthetic => {}
    }

    let o = &mut c.output;
    match (o.width, o.height) {
        (None, None) => {}
        (Some(w), Some(h)) => {
            for (key, v) in [("output.width", w), ("output.height", h)] {
                if v == 0 || v % 2 != 0 || v > 4096 {
                    return Err(invalid(
                        key,
                        format!("{v} must be an even number of pixels from 2 to 4096"),
                    ));
                }
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(invalid(
                if o.width.is_some() {
                    "output.height"
                } else {
                    "output.width"
                },
                "is missing: give output.width and output.height together, or neither (the fake webcam then has the input's size)",
            ))
        }
    }
    match o.sink {
        SinkKind::File => match o.path.as_mut() {
            Some(p) => *p = resolve(&base, p),
            None => {
                return Err(invalid(
                    "output.path",
                    "is required when output.sink is \"file\" (a .y4m file to write)",
                ))
            }
        },
        SinkKind::V4l2loopback => {
            if o.device.is_empty() {
                return Err(invalid(
                    "output.device",
                    "is empty (name the v4l2loopback device, e.g. /dev/video20)",
                ));
            }
        }
        SinkKind::Null => {}
    }
    if let Some(p) = o.snapshot.as_mut() {
        *p = resolve(&base, p);
    }
    if let Some(p) = o.pause_image.as_mut() {
        existing_file(
            "output.pause_image",
            &base,
            p,
            "a JPEG or PNG shown while paused",
        )?;
    }
    if o.max_frames == Some(0) {
        return Err(invalid(
            "output.max_frames",
            "0 must be at least 1 (or leave it out)",
        ));
    }

    let b = &mut c.background;
    let kinds = [
        b.image.is_some(),
        b.color.is_some(),
        b.blur.is_some(),
        b.video.is_some(),
    ];
    match kinds.iter().filter(|&&k| k).count() {
        0 => {
            return Err(invalid(
                "background",
                "needs an image (\"image\": \"path.jpg\"), a color (\"color\": \"#336699\"), a blur (\"blur\": 12) or a video (\"video\": \"path.y4m\")",
            ))
        }
        1 => {}
        _ => {
            return Err(invalid(
                "background",
                "has more than one of image, color, blur and video (keep one)",
            ))
        }
    }
    if let Some(p) = b.image.as_mut() {
        existing_file("background.image", &base, p, "a JPEG or PNG")?;
    }
    if let Some(p) = b.video.as_mut() {
        existing_file(
            "background.video",
            &base,
            p,
            "a video file: Y4M, or anything ffmpeg reads",
        )?;
    }
    let color = match &b.color {
        Some(color) => Some(parse_color(color).ok_or_else(|| {
            invalid(
                "background.color",
                format!("\"{color}\" is not a colour (use #rrggbb, e.g. #336699)"),
            )
        })?),
        None => None,
    };
    if let Some(blur) = b.blur {
        if !(1.0..=50.0).contains(&blur) {
            return Err(invalid(
                "background.blur",
                format!("{blur} is outside 1..50"),
            ));
        }
    }
    let fallback = match (&mut b.fallback, b.blur.is_some()) {
        (Some(_), false) => {
            return Err(invalid(
                "background.fallback",
                "is only used with blur (remove it, or use \"blur\")",
            ))
        }
        (Some(f), true) if f.starts_with('#') => Still::Color(parse_color(f).ok_or_else(|| {
            invalid(
                "background.fallback",
                format!("\"{f}\" is not a colour (use #rrggbb, or a JPEG/PNG path)"),
            )
        })?),
        (Some(f), true) => {
            let mut path = PathBuf::from(&*f);
            existing_file(
                "background.fallback",
                &base,
                &mut path,
                "a JPEG or PNG, or a colour #rrggbb",
            )?;
            *f = path.to_string_lossy().into_owned();
            Still::Picture(path)
        }
        (None, _) => Still::Color(DEFAULT_FALLBACK_COLOR),
    };
    // Exactly one of them is there (counted above).
    b.kind = match (&b.image, color, b.blur, &b.video) {
        (Some(image), ..) => Some(BackgroundKind::Image(image.clone())),
        (None, Some(rgb), ..) => Some(BackgroundKind::Color(rgb)),
        (None, None, Some(strength), _) => Some(BackgroundKind::Blur { strength, fallback }),
        (None, None, None, Some(video)) => Some(BackgroundKind::Video(video.clone())),
        (None, None, None, None) => None,
    };

    let (w, h) = c.frame_size();
    let s = &mut c.segmentation;
    if s.model == Path::new(AUTO_MODEL) {
        let wanted = models::choose(w, h, s.fit);
        let dirs = models::search_dirs(&base);
        let looked = |dirs: &[PathBuf]| {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            looked.join(", ")
        };
        s.model = models::find(&wanted, &dirs).ok_or_else(|| {
            invalid(
                "segmentation.model",
                format!(
                    "\"auto\" wants the bundled {} and found it in none of {} (copy viba's models/ there, or name a model file)",
                    wanted.file,
                    looked(&dirs)
                ),
            )
        })?;
        // The zoom's square model, with the landscape model (`auto`, `stretch`) on frames of
        // 4:3 or wider: on a square of the frame's height it has the frame's aspect times the
        // landscape model's cells across the person (1.33 at 4:3, 1.78 at 16:9) and 1.78 times
        // down (docs/QUALITY.md: on 4:3 since 2026-12-07). At 5:4 (1.25 times) it did better on
        // three greenman sequences of four and missed two more targets on the fourth
        // (docs/QUALITY.md 2026-12-07 04:50), so it is not used there; on a square frame its
        // square would be the whole frame in the square model, which scored worse than the
        // landscape model there, and on a portrait frame it would not fit.
        let square = models::SQUARE;
        if s.zoom && s.fit == Fit::Stretch && 3 * w >= 4 * h {
            s.zoom_model = Some(models::find(&square, &dirs).ok_or_else(|| {
                invalid(
                    "segmentation.zoom",
                    format!(
                        "wants the bundled {} and found it in none of {} (copy viba's models/ there, or set \"zoom\": false)",
                        square.file,
                        looked(&dirs)
                    ),
                )
            })?);
        }
    } else {
        existing_file(
            "segmentation.model",
            &base,
            &mut s.model,
            "an ONNX model, or \"auto\"; the bundled ones are in models/",
        )?;
    }
    if !(s.threshold > 0.0 && s.threshold < 1.0) {
        return Err(invalid(
            "segmentation.threshold",
            format!("{} is outside 0..1", s.threshold),
        ));
    }
    if !(0.0..=1.0).contains(&s.softness) {
        return Err(invalid(
            "segmentation.softness",
            format!("{} is outside 0..1", s.softness),
        ));
    }
    if !(0.0..=0.95).contains(&s.smoothing) {
        return Err(invalid(
            "segmentation.smoothing",
            format!("{} is outside 0..0.95", s.smoothing),
        ));
    }
    if !(0.0..=1.0).contains(&s.islands) {
        return Err(invalid(
            "segmentation.islands",
            format!("{} is outside 0..1", s.islands),
        ));
    }
    if !(1..=64).contains(&s.threads) {
        return Err(invalid(
            "segmentation.threads",
            format!("{} is outside 1..64", s.threads),
        ));
    }
    if let Some(k) = s.std.iter().position(|v| !v.is_finite() || *v == 0.0) {
        return Err(invalid(
            &format!("segmentation.std[{k}]"),
            format!("{} must be a non-zero number", s.std[k]),
        ));
    }
    if let Some(k) = s.mean.iter().position(|v| !v.is_finite()) {
        return Err(invalid(
            &format!("segmentation.mean[{k}]"),
            "must be a finite number",
        ));
    }
    if let Some(p) = s.onnxruntime.as_mut() {
        existing_file(
            "segmentation.onnxruntime",
            &base,
            p,
            "libonnxruntime.so; scripts/setup.sh installs one into .ort/",
        )?;
    }

    let comp = &c.compositor;
    if !(1..=10_000).contains(&comp.max_mask_age_ms) {
        return Err(invalid(
            "compositor.max_mask_age_ms",
            format!("{} is outside 1..10000", comp.max_mask_age_ms),
        ));
    }
    if comp.mask_wait_ms > 1000 {
        return Err(invalid(
            "compositor.mask_wait_ms",
            format!("{} is outside 0..1000", comp.mask_wait_ms),
        ));
    }
    if let RefineRadius::Cells(r) = comp.refine_radius {
        if !(1..=8).contains(&r) {
            return Err(invalid(
                "compositor.refine_radius",
                format!("{r} is outside 1..8 (or \"auto\")"),
            ));
        }
    }
    if !(1..=4).contains(&comp.refine_passes) {
        return Err(invalid(
            "compositor.refine_passes",
            format!("{} is outside 1..4", comp.refine_passes),
        ));
    }
    if !(0.000001..=1.0).contains(&comp.refine_eps) {
        return Err(invalid(
            "compositor.refine_eps",
            format!("{} is outside 0.000001..1", comp.refine_eps),
        ));
    }

    for stage in Stage::ALL {
        let sc = c.stages.get_mut(stage);
        sc.cpu_set = sc
            .cpus
            .as_deref()
            .map(cpus::parse)
            .transpose()
            .map_err(|m| invalid(&format!("stages.{}.cpus", stage.name()), m.to_string()))?;
        if !(-20..=19).contains(&sc.nice) {
            return Err(invalid(
                &format!("stages.{}.nice", stage.name()),
                format!("{} is outside -20..19", sc.nice),
            ));
        }
    }

    let r = &c.restart;
    if r.backoff_ms == 0 || r.backoff_ms > 60_000 {
        return Err(invalid(
            "restart.backoff_ms",
            format!("{} is outside 1..60000", r.backoff_ms),
        ));
    }
    if r.max_backoff_ms < r.backoff_ms || r.max_backoff_ms > 600_000 {
        return Err(invalid(
            "restart.max_backoff_ms",
            format!(
                "{} must be between restart.backoff_ms ({}) and 600000",
                r.max_backoff_ms, r.backoff_ms
            ),
        ));
    }
    if !(1000..=600_000).contains(&r.stable_ms) {
        return Err(invalid(
            "restart.stable_ms",
            format!("{} is outside 1000..600000", r.stable_ms),
        ));
    }
    if r.crash_loop_after == 0 {
        return Err(invalid("restart.crash_loop_after", "0 must be at least 1"));
    }
    super::outputs::check(c)
}
