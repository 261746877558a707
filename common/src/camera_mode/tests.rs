//! The mode choice against the mode tables of real cameras (`tables.rs`, each with its source).

use super::*;
use crate::config::{CameraFormat, ModePreference};

mod tables;

/// Parses a table in the compact form of `tables.rs`: one line per format and size,
/// `YUYV 640x480: 30, 25, 15, 7.5`.
fn parse(table: &str) -> Vec<Mode> {
    let mut modes = Vec::new();
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, rates) = line.split_once(':').expect("FORMAT WxH: rates");
        let (format, size) = head.split_once(' ').expect("FORMAT WxH");
        let format = match format {
            "YUYV" => PixelFormat::Yuyv,
            "MJPG" => PixelFormat::Mjpeg,
            other => panic!("format {other}"),
        };
        let (w, h) = size.split_once('x').expect("WxH");
        for rate in rates.split(',').map(str::trim) {
            // Intervals as drivers list them: 1/30, 2/25 (12.5), 2/15 (7.5), 1001/30000.
            let interval = match rate {
                "12.5" => Interval {
                    numerator: 2,
                    denominator: 25,
                },
                "7.5" => Interval {
                    numerator: 2,
                    denominator: 15,
                },
                "29.97" => Interval {
                    numerator: 1001,
                    denominator: 30000,
                },
                r => Interval::of_fps(r.parse().unwrap_or_else(|_| panic!("rate {r}"))),
            };
            modes.push(Mode {
                format,
                width: w.parse().unwrap(),
                height: h.parse().unwrap(),
                interval,
            });
        }
    }
    modes
}

fn ask(width: u32, height: u32, fps: u32) -> Request {
    Request {
        format: CameraFormat::Auto,
        width,
        height,
        fps,
        prefer: ModePreference::Rate,
    }
}

fn size(mut r: Request) -> Request {
    r.prefer = ModePreference::Size;
    r
}

fn format(mut r: Request, format: CameraFormat) -> Request {
    r.format = format;
    r
}

/// The chosen mode as `YUYV 640x360 at 30 fps`.
fn chosen(table: &str, request: Request) -> String {
    choose(&parse(table), &request)
        .map(|c| c.mode.to_string())
        .unwrap_or_else(|| "none".into())
}

#[test]
fn the_tables_parse() {
    for table in [
        tables::C920,
        tables::C310,
        tables::C270,
        tables::MICRODIA_1080P,
        tables::GENIUS_F100,
        tables::BRIO,
        tables::DELL_7280,
        tables::ELP_4K,
        tables::VIVID,
    ] {
        assert!(parse(table).len() >= 8);
    }
}

/// The default request (1280x720 at 30, auto, prefer rate): every USB 2 webcam here gives
/// 720p at 30 only as MJPEG, where the size-first rule took YUYV at 5-10 fps.
#[test]
fn default_request_gets_the_rate_from_usb2_webcams() {
    let r = ask(1280, 720, 30);
    for (name, table) in [
        ("C920", tables::C920),
        ("C310", tables::C310),
        ("C270", tables::C270),
        ("Microdia", tables::MICRODIA_1080P),
        ("Genius F100", tables::GENIUS_F100),
        ("Dell 7280", tables::DELL_7280),
        ("ELP 4K", tables::ELP_4K),
    ] {
        assert_eq!(chosen(table, r), "MJPEG 1280x720 at 30 fps", "{name}");
        // Asking for the size first changes nothing where both can be had.
        assert_eq!(chosen(table, size(r)), "MJPEG 1280x720 at 30 fps", "{name}");
    }
    // On USB 3 the BRIO gives 720p at 30 in YUYV: no decoding.
    assert_eq!(chosen(tables::BRIO, r), "YUYV 1280x720 at 30 fps");
}

#[test]
fn yuyv_before_mjpeg_and_the_smallest_size_that_covers() {
    // 640x480 at 30 in both formats: YUYV, and the exact size rather than any larger one.
    for table in [tables::C920, tables::C310, tables::BRIO, tables::DELL_7280] {
        assert_eq!(chosen(table, ask(640, 480, 30)), "YUYV 640x480 at 30 fps");
    }
    // 16:9 at 640x360 on a camera with only 4:3 YUYV at that width: the smallest that covers.
    assert_eq!(
        chosen(tables::MICRODIA_1080P, ask(640, 360, 30)),
        "YUYV 640x480 at 30 fps"
    );
    // 1080p at 30: YUYV on USB 3, MJPEG on USB 2.
    assert_eq!(
        chosen(tables::BRIO, ask(1920, 1080, 30)),
        "YUYV 1920x1080 at 30 fps"
    );
    assert_eq!(
        chosen(tables::C920, ask(1920, 1080, 30)),
        "MJPEG 1920x1080 at 30 fps"
    );
    assert_eq!(
        chosen(tables::ELP_4K, ask(1920, 1080, 30)),
        "MJPEG 1920x1080 at 30 fps"
    );
    // The lowest rate that reaches the asked one: 30, not the BRIO's 60, 90 or 120.
    assert_eq!(
        chosen(tables::BRIO, ask(1920, 1080, 30)),
        "YUYV 1920x1080 at 30 fps"
    );
    assert_eq!(
        chosen(tables::BRIO, ask(640, 480, 60)),
        "MJPEG 640x480 at 60 fps"
    );
}

#[test]
fn when_neither_format_gives_both_prefer_decides() {
    // The Dell laptop camera tops out at 1280x720: 1080p at 30 is a smaller size at the
    // rate (prefer rate) - and also with prefer size, since nothing covers 1080p.
    assert_eq!(
        chosen(tables::DELL_7280, ask(1920, 1080, 30)),
        "MJPEG 1280x720 at 30 fps"
    );
    assert_eq!(
        chosen(tables::DELL_7280, size(ask(1920, 1080, 30))),
        "MJPEG 1280x720 at 30 fps"
    );
    // YUYV only (input.format "yuyv") on a C920, 720p at 30: prefer rate scales up the
    // largest YUYV at 30, 800x448 (1.6x); prefer size keeps at least half the rate: 1024x576
    // at 15, not 720p at 10.
    let yuyv = format(ask(1280, 720, 30), CameraFormat::Yuyv);
    assert_eq!(chosen(tables::C920, yuyv), "YUYV 800x448 at 30 fps");
    assert_eq!(chosen(tables::C920, size(yuyv)), "YUYV 1024x576 at 15 fps");
    // A 4K camera asked for 4K at 30 in YUYV (which it gives at 1 fps): prefer size takes
    // the largest YUYV at 15 fps or more, at its best rate.
    let uhd = format(ask(3840, 2160, 30), CameraFormat::Yuyv);
    assert_eq!(chosen(tables::ELP_4K, size(uhd)), "YUYV 800x600 at 20 fps");
}

#[test]
fn prefer_rate_never_scales_up_more_than_twice_while_another_mode_avoids_it() {
    // YUYV only, 1920x1080 at 30 on a C920: the biggest YUYV at 30 is 640x360 (3x up), so
    // among the modes within 2x the best rate wins: 1024x576 at 15 (1.875x up), not 1080p at 5.
    let r = format(ask(1920, 1080, 30), CameraFormat::Yuyv);
    assert_eq!(chosen(tables::C920, r), "YUYV 1024x576 at 15 fps");
}

#[test]
fn forced_formats_and_unusable_cameras() {
    let mjpeg = format(ask(640, 480, 30), CameraFormat::Mjpeg);
    assert_eq!(chosen(tables::C920, mjpeg), "MJPEG 640x480 at 30 fps");
    // vivid has no MJPEG: nothing to choose (the camera source reports it, exit 2).
    assert_eq!(chosen(tables::VIVID, mjpeg), "none");
    assert_eq!(chosen("", ask(1280, 720, 30)), "none");
}

#[test]
fn vivid_gives_the_rate_at_a_smaller_size() {
    // The VM's camera: YUYV 1280x720 only up to 12.5 fps; 640x360 reaches 30.
    let c = choose(&parse(tables::VIVID), &ask(1280, 720, 30)).unwrap();
    assert_eq!(c.mode.to_string(), "YUYV 640x360 at 30 fps");
    assert!(c.reaches_rate && !c.covers_size);
    assert_eq!(
        c.describe(&ask(1280, 720, 30)),
        "YUYV 640x360 at 30 fps (asked 1280x720 at 30, prefer rate; also offered: YUYV 1280x720 at 12.5 fps)"
    );
    // prefer size: 1280x720 at 12.5 is below half the rate; of the rest, 640x360 and 640x480
    // need the same 2x (the width), and 640x360 has the rate.
    assert_eq!(
        chosen(tables::VIVID, size(ask(1280, 720, 30))),
        "YUYV 640x360 at 30 fps"
    );
}

#[test]
fn rates_and_modes_read_as_people_write_them() {
    assert_eq!(format_fps(30.0), "30");
    assert_eq!(format_fps(12.5), "12.5");
    assert_eq!(format_fps(30000.0 / 1001.0), "29.97");
    // 29.97 counts as 30.
    let m = parse("MJPG 1280x720: 29.97");
    let c = choose(&m, &ask(1280, 720, 30)).unwrap();
    assert!(c.reaches_rate && c.covers_size);
    assert_eq!(c.mode.to_string(), "MJPEG 1280x720 at 29.97 fps");
}
