//! The applications people call with, reading the fake webcam in the QEMU guest
//! (`scripts/vm-test.sh`): headless Chromium and Firefox ESR open it from a call page
//! (`clients/page.html`) with getUserMedia, and GStreamer's `v4l2src` reads it in each output
//! format. Each checks the picture: the person where the person is, the background elsewhere,
//! and never the room. On the host (no V4L2 devices) every test returns at once.
//!
//! The page talks to this test over HTTP on 127.0.0.1 (a secure context for getUserMedia): it
//! reports what it saw, sends frames as RGBA for the test to check, and asks the test to wait
//! until viba idles before it opens the camera again. Waits are bounded by events, with hang
//! guards only.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use viba_common::names;
use viba_common::stats::Stats;
use viba_systest::testing::*;
use viba_systest::vm::*;

const PAGE: &str = include_str!("clients/page.html");
/// The background colour [`BG`] in RGB.
const BG_RGB: [u8; 3] = [0x20, 0xc0, 0x40];
/// Per-channel tolerance: browsers and GStreamer each convert YUYV to RGB their own way.
const TOL: u8 = 40;
/// Hang guard for a whole browser run (start-up under emulation takes 30-40 s).
const BROWSER_HANG: Duration = Duration::from_secs(600);

/// The feed's photo in RGB and the reference mask: what a right frame looks like.
struct Expected {
    photo: Vec<u8>,
    mask: Vec<u8>,
}

/// Shares of one frame's pixels: person region like the photo, backdrop region like the
/// background, backdrop region like the photo (the room).
#[derive(Debug, Clone, Copy)]
struct Scores {
    person: f64,
    backdrop: f64,
    room: f64,
}

impl Scores {
    fn cut_out(&self) -> bool {
        self.person >= 0.8 && self.backdrop >= 0.8
    }
}

fn near(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= TOL)
}

impl Expected {
    /// The photo the feed sends, converted to RGB by ffmpeg.
    fn new(photo_yuyv: &Path) -> Expected {
        let rgb = photo_yuyv.with_extension("rgb");
        let out = ffmpeg()
            .args([
                "-loglevel",
                "error",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuyv422",
            ])
            .args(["-s", "320x240", "-i"])
            .arg(photo_yuyv)
            .args(["-pix_fmt", "rgb24", "-f", "rawvideo"])
            .arg(&rgb)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        Expected {
            photo: std::fs::read(&rgb).unwrap(),
            mask: reference_mask(),
        }
    }

    /// Scores a 320x240 frame given as `channels` bytes per pixel (RGB or RGBA).
    fn score(&self, frame: &[u8], channels: usize) -> Scores {
        assert_eq!(frame.len(), W * H * channels, "frame size");
        let (mut person, mut persons, mut backdrop, mut room, mut backdrops) = (0, 0, 0, 0, 0);
        for p in 0..W * H {
            let got = &frame[p * channels..p * channels + 3];
            let photo = &self.photo[p * 3..p * 3 + 3];
            if self.mask[p] >= 250 {
                persons += 1;
                person += near(got, photo) as usize;
            } else if self.mask[p] <= 5 {
                backdrops += 1;
                let bg = near(got, &BG_RGB);
                backdrop += bg as usize;
                room += (!bg && near(got, photo)) as usize;
            }
        }
        let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        Scores {
            person: share(person, persons),
            backdrop: share(backdrop, backdrops),
            room: share(room, backdrops),
        }
    }
}

/// What the page did, in order.
#[derive(Debug)]
enum Seen {
    /// A `report` of the page.
    Event(Value),
    /// A frame it sent: why (`person` or `reopen`), the video's size, its scores, and for a
    /// reopen whether viba was awake (not idle) for it.
    Frame {
        what: String,
        size: String,
        scores: Scores,
        awake: bool,
    },
    /// The page asked to wait until viba idles: whether it did, and who held the fake webcam
    /// open when it did not.
    Idle(bool, String),
}

/// One HTTP request: (method, path with query, body).
fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn reply(stream: &mut TcpStream, status: &str, kind: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves the call page and takes what it sends, forever: a thread per connection, as
/// browsers open connections they send nothing on (Chromium preconnects).
fn serve(listener: TcpListener, expected: Arc<Expected>, stats: String, seen: mpsc::Sender<Seen>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (expected, stats, seen) = (expected.clone(), stats.clone(), seen.clone());
        std::thread::spawn(move || answer(stream, &expected, &stats, &seen));
    }
}

/// Answers one request of the page.
fn answer(mut stream: TcpStream, expected: &Expected, stats: &str, seen: &mpsc::Sender<Seen>) {
    let idle = |want: bool| {
        wait_until(SLOW, || {
            Stats::open(stats).is_ok_and(|s| s.pipeline().idle() == want)
        })
    };
    let Some((method, path, body)) = read_request(&mut stream) else {
        return;
    };
    let (route, query) = path.split_once('?').unwrap_or((&path, ""));
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or("")
            .to_owned()
    };
    match (method.as_str(), route) {
        ("GET", "/") => reply(&mut stream, "200 OK", "text/html", PAGE),
        ("POST", "/event") => {
            let event = serde_json::from_slice(&body).unwrap_or(json!({"unparsed": true}));
            let _ = seen.send(Seen::Event(event));
            reply(&mut stream, "200 OK", "text/plain", "ok");
        }
        ("POST", "/idle") => {
            let idled = idle(true);
            let holders = if idled { String::new() } else { holders(OUT) };
            let _ = seen.send(Seen::Idle(idled, holders));
            reply(&mut stream, "200 OK", "text/plain", "ok");
        }
        ("POST", "/frame") => {
            let what = param("what");
            let scores = expected.score(&body, 4);
            let awake = what != "reopen" || idle(false);
            let done = what != "person" || scores.cut_out();
            let size = format!("{}x{}", param("w"), param("h"));
            let _ = seen.send(Seen::Frame {
                what,
                size,
                scores,
                awake,
            });
            reply(
                &mut stream,
                "200 OK",
                "text/plain",
                if done { "done" } else { "more" },
            );
        }
        _ => reply(&mut stream, "404 Not Found", "text/plain", ""),
    }
}

/// The processes holding `dev` open, with their command names.
fn holders(dev: &str) -> String {
    let target = viba_media::openers::Target::new(Path::new(dev));
    viba_media::openers::pids(&target, 0)
        .iter()
        .map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{pid} {}", comm.trim())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fake webcam in `format` with the feed camera behind it, idling while unused (the
/// default).
fn clients_instance(tag: &str, format: &str) -> (Instance, Proc, Expected) {
    reload_loopback();
    let mut inst = camera_instance(tag, FEED);
    inst.edit_config(|c| {
        c["output"]["format"] = json!(format);
        // Each stage says what it does (the compositor: every count of the fake webcam's
        // readers), for the failure message.
        c["debug"] = json!(true);
    });
    let photo = photo_yuyv(inst.dir.path());
    let expected = Expected::new(&photo);
    let feed = start_feed(&photo);
    start_idling_when_unused(&mut inst);
    wait_capture(OUT, Some(&inst));
    (inst, feed, expected)
}

fn version(program: &str) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default()
}

/// Runs `browser` (its command given the page's URL and a home folder) on the call page
/// against a fresh instance, and checks what the page saw.
fn browser_reads_the_fake_webcam(client: &str, browser: impl FnOnce(&str, &Path) -> Command) {
    let (inst, _feed, expected) = clients_instance(client, "YUYV");
    eprintln!("{client}: {}", version(client));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/?label=viba_cam",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    let stats = names::segment(&inst.name, names::Segment::Stats);
    let expected = Arc::new(expected);
    std::thread::spawn(move || serve(listener, expected, stats, tx));
    let home = inst.dir.path().join(format!("{client}-home"));
    std::fs::create_dir_all(&home).unwrap();
    let log_path = inst.dir.path().join(format!("{client}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = browser(&url, &home)
        .env("HOME", &home)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{client} did not start: {e}"));
    let browser_proc = Proc(child);
    let mut seen = Vec::new();
    let ended = loop {
        match rx.recv_timeout(BROWSER_HANG) {
            Ok(s) => {
                eprintln!("{client}: {s:?}");
                let end = matches!(&s, Seen::Event(e) if e["event"] == "finished" || e["event"] == "error");
                seen.push(s);
                if end {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    drop(browser_proc);
    let tail = |path: &PathBuf| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    let context = || {
        format!(
            "{client} saw: {seen:#?}\n{client}'s output (last lines):\n{}\n{}",
            tail(&log_path),
            diagnostics(&inst)
        )
    };
    assert!(
        ended,
        "{client} never finished the call page; {}",
        context()
    );
    let events: Vec<&Value> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    let event = |name: &str| events.iter().find(|e| e["event"] == name).copied();
    assert!(event("error").is_none(), "{client} failed; {}", context());
    // Listed under the card label.
    let devices = event("devices").unwrap_or_else(|| panic!("no device list; {}", context()));
    assert!(
        devices["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap_or("").starts_with("viba_cam")),
        "{client} does not list viba_cam; {}",
        context()
    );
    // Frames at the fake webcam's size, and they keep coming (two windows of 15).
    let opened = |round: &str| {
        events
            .iter()
            .find(|e| e["event"] == "opened" && e["round"] == round)
            .copied()
            .unwrap_or_else(|| panic!("{client} never opened the camera ({round}); {}", context()))
    };
    let default = opened("default");
    assert_eq!(
        (default["width"].as_u64(), default["height"].as_u64()),
        (Some(W as u64), Some(H as u64)),
        "{client}: size; {}",
        context()
    );
    let rates: Vec<f64> = events
        .iter()
        .filter(|e| e["event"] == "rate")
        .map(|e| e["frames"].as_f64().unwrap() / e["seconds"].as_f64().unwrap().max(1e-3))
        .collect();
    assert_eq!(rates.len(), 2, "{client}: frame windows; {}", context());
    eprintln!("{client}: {rates:.1?} fps in two windows of 15 frames");
    // The person cut out over the background.
    let frames = |what: &str| -> Vec<(String, Scores, bool)> {
        seen.iter()
            .filter_map(|s| match s {
                Seen::Frame {
                    what: w,
                    size,
                    scores,
                    awake,
                } if w == what => Some((size.clone(), *scores, *awake)),
                _ => None,
            })
            .collect()
    };
    let person = frames("person");
    assert!(
        person.iter().any(|(_, s, _)| s.cut_out()),
        "{client}: no frame with the person over the background; {}",
        context()
    );
    // Another size asked for: still frames.
    let hd = opened("hd");
    assert!(
        hd["seconds"].as_f64().is_some(),
        "{client}: hd; {}",
        context()
    );
    eprintln!(
        "{client}: asked for 1280x720 (ideal), got {}x{}",
        hd["width"], hd["height"]
    );
    // Closed and opened again three times, viba idle before each: woken each time, and no
    // frame of all shows the room.
    let reopened = frames("reopen");
    assert_eq!(reopened.len(), 3, "{client}: reopens; {}", context());
    let not_idle: Vec<&str> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Idle(false, holders) => Some(holders.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        not_idle.is_empty(),
        "{client}: viba did not idle after the camera was closed (held by: {not_idle:?}); {}",
        context()
    );
    assert!(
        reopened.iter().all(|(_, _, awake)| *awake),
        "{client}: an open did not wake viba; {}",
        context()
    );
    for (size, scores, _) in person.iter().chain(&reopened) {
        assert!(
            scores.room < 0.2,
            "{client}: a {size} frame shows the room ({scores:?}); {}",
            context()
        );
    }
}

fn have(program: &str, test: &str) -> bool {
    if !in_vm(test) {
        return false;
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // vm-test.sh installs the clients (scripts/setup.sh, VIBA_SETUP_CLIENTS=1): missing is a
    // failure in the guest, not a skip.
    assert!(
        found,
        "{program} is not installed (scripts/setup.sh with VIBA_SETUP_CLIENTS=1)"
    );
    true
}

#[test]
fn chromium_lists_opens_and_reads_the_fake_webcam() {
    if !have("chromium", "chromium_lists_opens_and_reads_the_fake_webcam") {
        return;
    }
    browser_reads_the_fake_webcam("chromium", |url, home| {
        let mut c = Command::new("chromium");
        // No sandbox: only here, inside the throw-away guest, where the tests run as root.
        c.args(["--headless=new", "--no-sandbox", "--disable-gpu"])
            .args([
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ])
            .arg(format!(
                "--user-data-dir={}",
                home.join("profile").display()
            ))
            .arg(url);
        c
    });
}

#[test]
fn firefox_lists_opens_and_reads_the_fake_webcam() {
    if !have(
        "firefox-esr",
        "firefox_lists_opens_and_reads_the_fake_webcam",
    ) {
        return;
    }
    browser_reads_the_fake_webcam("firefox-esr", |url, home| {
        let profile = home.join("profile");
        std::fs::create_dir_all(&profile).unwrap();
        // Camera permission granted, as a user would; no first-run pages.
        std::fs::write(
            profile.join("user.js"),
            [
                r#"user_pref("media.navigator.permission.disabled", true);"#,
                r#"user_pref("media.autoplay.default", 0);"#,
                r#"user_pref("browser.shell.checkDefaultBrowser", false);"#,
                r#"user_pref("datareporting.policy.dataSubmissionEnabled", false);"#,
                r#"user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);"#,
                r#"user_pref("browser.aboutwelcome.enabled", false);"#,
                r#"user_pref("app.update.enabled", false);"#,
            ]
            .join("\n"),
        )
        .unwrap();
        let mut c = Command::new("firefox-esr");
        c.args(["--headless", "--no-remote", "--profile"])
            .arg(&profile)
            .arg(url);
        c
    });
}

#[test]
fn gstreamer_reads_each_output_format() {
    if !have("gst-launch-1.0", "gstreamer_reads_each_output_format") {
        return;
    }
    eprintln!("gstreamer: {}", version("gst-launch-1.0"));
    // (output.format, GStreamer's name for it)
    for (format, caps) in [("YUYV", "YUY2"), ("YU12", "I420"), ("RGB3", "RGB")] {
        let (mut inst, _feed, expected) = clients_instance("gstreamer", format);
        let file = inst.dir.path().join("gst.rgb");
        let mut seen = Vec::new();
        let mut ok = false;
        // Each run opens the fake webcam from idle: the first frames are the background alone
        // until the camera's frames and their masks arrive (slowly, in the guest).
        for _ in 0..8 {
            let out = Command::new("timeout")
                .arg("120")
                .arg("gst-launch-1.0")
                .args([
                    "-q",
                    "v4l2src",
                    &format!("device={OUT}"),
                    "num-buffers=10",
                    "!",
                ])
                .arg(format!("video/x-raw,format={caps},width={W},height={H}"))
                .args([
                    "!",
                    "videoconvert",
                    "!",
                    "video/x-raw,format=RGB",
                    "!",
                    "filesink",
                ])
                .arg(format!("location={}", file.display()))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "GStreamer could not read {format}: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                diagnostics(&inst)
            );
            let data = std::fs::read(&file).unwrap();
            assert_eq!(
                data.len(),
                10 * W * H * 3,
                "GStreamer {format}: 10 RGB frames"
            );
            for frame in data.chunks_exact(W * H * 3) {
                let scores = expected.score(frame, 3);
                assert!(
                    scores.room < 0.2,
                    "GStreamer {format} saw the room: {scores:?}"
                );
                ok |= scores.cut_out();
                seen.push(scores);
            }
            eprintln!("gstreamer {format}: {:?}", seen.last().unwrap());
            if ok {
                break;
            }
        }
        assert!(
            ok,
            "GStreamer {format}: no frame with the person over the background: {seen:?}; {}",
            diagnostics(&inst)
        );
        assert_eq!(inst.terminate(), Some(0));
    }
}
