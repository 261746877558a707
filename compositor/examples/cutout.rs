//! viba as a library: cuts the person out of a photo and puts them over another background,
//! with the segmenter and compositor the running pipeline uses (no processes, no shared
//! memory, no camera).
//!
//! ```sh
//! cargo run --release -p viba-compositor --example cutout -- PHOTO OUT.png [BACKGROUND]
//! ```
//!
//! BACKGROUND is a colour (`#rrggbb`), a JPEG or PNG, or `blur:STRENGTH` (default `blur:12`).
//! Any other setting of `viba.json` goes in the same way: the config below is the file's
//! format, checked as the supervisor checks it.

use std::path::Path;
use std::process::ExitCode;
use viba_common::{config, yuv};
use viba_compositor::Scene;
use viba_media::picture;
use viba_segmenter::Segmenter;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(2..=3).contains(&args.len()) {
        eprintln!("usage: cutout PHOTO OUT.png [#rrggbb | BACKGROUND.jpg | blur:STRENGTH]");
        return ExitCode::from(2);
    }
    let background = args.get(2).map_or("blur:12", String::as_str);
    match cut_out(Path::new(&args[0]), Path::new(&args[1]), background) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cutout: {e}");
            ExitCode::from(2)
        }
    }
}

fn cut_out(photo: &Path, out: &Path, background: &str) -> anyhow::Result<()> {
    // The photo at its own size (even, as YUYV needs).
    let (pw, ph, _) = picture::load_rgb(photo)?;
    let (w, h) = (pw & !1, ph & !1);
    let background = match background.strip_prefix("blur:") {
        Some(strength) => serde_json::json!({ "blur": strength.parse::<f64>()? }),
        None if background.starts_with('#') => serde_json::json!({ "color": background }),
        None => serde_json::json!({ "image": background }),
    };
    // What a viba.json would say; "auto" takes the landscape model, the photo stretched into it.
    let text = serde_json::json!({
        "input": { "source": "image", "path": photo, "width": w, "height": h },
        "output": { "sink": "file", "path": out },
        "background": background,
        "segmentation": { "model": "auto" },
    })
    .to_string();
    let config = config::parse(&text, Path::new("(cutout)"), Path::new("."))?;

    let frame = picture::load_cover_yuyv(photo, w, h)?;
    let mut segmenter = Segmenter::new(&config)?;
    let mut scene = Scene::new(&config, segmenter.mask_size())?;
    let mask = segmenter.segment(&frame, 0)?;
    scene.set_mask(mask);
    let mut composite = vec![0u8; frame.len()];
    scene.composite(&frame, &mut composite);

    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    yuv::yuyv_to_rgb(&composite, w as usize, h as usize, &mut rgb);
    picture::save_png(out, w, h, &rgb).map_err(anyhow::Error::msg)?;
    let (mw, mh) = segmenter.mask_size();
    println!(
        "{}: {w}x{h}, mask {mw}x{mh} from {}",
        out.display(),
        config.segmentation.model.display()
    );
    Ok(())
}
