//! `scripts/pictures.sh` (viba-pictures) makes the README's pictures through the real pipeline.

use viba_systest::testing::*;

#[test]
fn the_readme_pictures_are_made_with_each_background() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin("viba-pictures"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let load = |name: &str| viba_media::picture::load_rgb(&dir.path().join(name)).unwrap();
    let at = |rgb: &[u8], x: usize, y: usize| {
        let i = (y * 512 + x) * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    let (w, h, color) = load("color.png");
    assert_eq!((w, h), (512, 512));
    // The backdrop beside the head is the colour, the face is the face.
    let c = at(&color, 330, 30);
    assert!(
        c.iter()
            .zip([0x3a, 0x6e, 0xa5])
            .all(|(a, b)| a.abs_diff(b) < 8),
        "{c:?}"
    );
    let (_, _, image) = load("image.png");
    let (_, _, blur) = load("blur.png");
    assert_eq!(at(&image, 225, 125), at(&color, 225, 125));
    assert_eq!(at(&blur, 225, 125), at(&color, 225, 125));
    assert_ne!(at(&image, 330, 30), at(&blur, 330, 30));
    let (w, h, _) = load("edge.png");
    assert_eq!((w, h), (608, 300));
}
