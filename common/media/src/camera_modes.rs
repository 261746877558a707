//! The modes a V4L2 camera offers, asked of the device: the input of
//! [`viba_common::camera_mode::choose`], which picks one of them.

use viba_common::camera_mode::{Interval, Mode, PixelFormat, Request};

/// Every YUYV and MJPEG mode a V4L2 capture device lists. Stepwise sizes contribute the asked
/// size fitted into their range and their largest size; stepwise intervals the asked rate
/// fitted into their range and their highest rate.
pub fn enumerate(dev: &v4l::Device, request: &Request) -> std::io::Result<Vec<Mode>> {
    use v4l::frameinterval::FrameIntervalEnum;
    use v4l::framesize::FrameSizeEnum;
    use v4l::video::Capture;
    let mut modes = Vec::new();
    for desc in Capture::enum_formats(dev)? {
        let Some(format) = PixelFormat::from_fourcc(desc.fourcc.repr) else {
            continue;
        };
        let mut sizes = Vec::new();
        for s in Capture::enum_framesizes(dev, desc.fourcc).unwrap_or_default() {
            match s.size {
                FrameSizeEnum::Discrete(d) => sizes.push((d.width, d.height)),
                // A driver that lists a range the wrong way round is skipped, not trusted.
                FrameSizeEnum::Stepwise(s)
                    if s.min_width > s.max_width || s.min_height > s.max_height => {}
                FrameSizeEnum::Stepwise(s) => {
                    let fit = |v: u32, min: u32, max: u32, step: u32| {
                        let step = step.max(1);
                        min + (v.clamp(min, max) - min).div_ceil(step) * step
                    };
                    sizes.push((
                        fit(request.width, s.min_width, s.max_width, s.step_width).min(s.max_width),
                        fit(request.height, s.min_height, s.max_height, s.step_height)
                            .min(s.max_height),
                    ));
                    sizes.push((s.max_width, s.max_height));
                }
            }
        }
        sizes.dedup();
        for (width, height) in sizes {
            let mut intervals = Vec::new();
            for i in
                Capture::enum_frameintervals(dev, desc.fourcc, width, height).unwrap_or_default()
            {
                match i.interval {
                    FrameIntervalEnum::Discrete(f) => intervals.push(Interval {
                        numerator: f.numerator,
                        denominator: f.denominator,
                    }),
                    FrameIntervalEnum::Stepwise(s) => {
                        let fastest = Interval {
                            numerator: s.min.numerator,
                            denominator: s.min.denominator,
                        };
                        let slowest = Interval {
                            numerator: s.max.numerator,
                            denominator: s.max.denominator,
                        };
                        // A zero numerator or a range the wrong way round: skipped.
                        let (lo, hi) = (slowest.fps(), fastest.fps());
                        if slowest.numerator == 0 || fastest.numerator == 0 || lo > hi {
                            continue;
                        }
                        let fps = (request.fps as f64).clamp(lo, hi);
                        if fps >= 1.0 {
                            intervals.push(Interval::of_fps(fps.round() as u32));
                        }
                        intervals.push(fastest);
                    }
                }
            }
            if intervals.is_empty() {
                // Some drivers list no intervals: the rate is then whatever it gives.
                intervals.push(Interval::of_fps(request.fps));
            }
            for interval in intervals {
                let mode = Mode {
                    format,
                    width,
                    height,
                    interval,
                };
                if interval.numerator > 0 && !modes.contains(&mode) {
                    modes.push(mode);
                }
            }
        }
    }
    Ok(modes)
}
