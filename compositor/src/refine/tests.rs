//! The fit and its application against their definitions, on synthetic input.

use super::*;

/// Solves the 3x3 system `mat` (its fourth column the right-hand side) by elimination, in
/// f64: the reference the filter's f32 solve is checked against.
fn solve(mut mat: [[f64; 4]; 3]) -> [f64; 3] {
    for c in 0..3 {
        for rr in c + 1..3 {
            let f = mat[rr][c] / mat[c][c];
            let pivot = mat[c];
            for (x, &t) in mat[rr].iter_mut().zip(&pivot).skip(c) {
                *x -= f * t;
            }
        }
    }
    let mut a = [0.0f64; 3];
    for c in (0..3).rev() {
        let rest: f64 = (c + 1..3).map(|cc| mat[c][cc] * a[cc]).sum();
        a[c] = (mat[c][3] - rest) / mat[c][c];
    }
    a
}

/// The box mean by its definition, for comparison.
fn naive_box(src: &[f32], (w, h): (usize, usize), (rx, ry): (usize, usize)) -> Vec<f32> {
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut s, mut n) = (0.0, 0);
            for yy in y.saturating_sub(ry)..=(y + ry).min(h - 1) {
                for xx in x.saturating_sub(rx)..=(x + rx).min(w - 1) {
                    s += src[yy * w + xx];
                    n += 1;
                }
            }
            out[y * w + x] = s / n as f32;
        }
    }
    out
}

#[test]
fn row_sums_are_the_left_to_right_sums_bit_for_bit() {
    // Every radius (the ones with a fixed window and the generic one), rows narrower than,
    // as wide as and wider than the window, whole and in spans: each sum against the
    // window's values added left to right, compared bit for bit.
    let src: Vec<f32> = (0..40)
        .map(|i| ((i * 7919 % 1000) as f32) / 997.0)
        .collect();
    for r in 0..=5 {
        for w in [1, 2, r + 1, 2 * r, 2 * r + 1, 2 * r + 2, 17, 40] {
            let row = &src[..w.clamp(1, 40)];
            let w = row.len();
            let want = |x: usize| {
                let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
                let mut want = row[a];
                for &v in &row[a + 1..b] {
                    want += v;
                }
                want
            };
            let mut out = vec![f32::NAN; w];
            row_sums(row, r, &mut out);
            for (x, &got) in out.iter().enumerate() {
                assert_eq!(got.to_bits(), want(x).to_bits(), "r {r} w {w} x {x}");
            }
            // A span of the row only: the same sums there, nothing written elsewhere.
            for (a, b) in [
                (0, 1),
                (1, w),
                (w / 3, w - w / 4),
                (w - 1, w),
                (2, 2),
                (r + 1, w.saturating_sub(1)),
            ] {
                if a > b || b > w {
                    continue;
                }
                // What the span's sums may read is its cells and r either side: NaN beyond.
                let reads = a.saturating_sub(r)..(b + r).min(w);
                let row: Vec<f32> = (0..w)
                    .map(|x| if reads.contains(&x) { row[x] } else { f32::NAN })
                    .collect();
                let mut out = vec![f32::NAN; w];
                row_sums_span(&row, r, (a, b), &mut out);
                for (x, &got) in out.iter().enumerate() {
                    match (a..b).contains(&x) {
                        true => assert_eq!(
                            got.to_bits(),
                            want(x).to_bits(),
                            "r {r} w {w} {a}..{b} x {x}"
                        ),
                        false => assert!(got.is_nan(), "r {r} w {w} {a}..{b}: {x} written"),
                    }
                }
            }
        }
    }
}

#[test]
fn box_mean_matches_its_definition() {
    // Square windows, and windows wider than tall and taller than wide (the blur's on
    // cells that are not square).
    for (w, h, r) in [
        (9, 7, (2, 2)),
        (5, 3, (4, 4)),
        (16, 9, (0, 0)),
        (1, 1, (3, 3)),
        (12, 2, (1, 1)),
        (13, 8, (2, 1)),
        (13, 8, (1, 3)),
        (6, 11, (4, 0)),
    ] {
        let src: Vec<f32> = (0..w * h).map(|i| ((i * 37 % 11) as f32) / 7.0).collect();
        let mut dst = vec![0.0; w * h];
        let mut tmp = vec![0.0; w * h];
        box_mean(&src, (w, h), r, &mut dst, &mut tmp);
        let want = naive_box(&src, (w, h), r);
        for (g, e) in dst.iter().zip(&want) {
            assert!((g - e).abs() < 1e-5, "{w}x{h} r{r:?}: {g} vs {e}");
        }
    }
}

#[test]
fn the_filter_matches_its_definition() {
    // Noisy colours and a soft mask, several sizes and radii (the window clipped at the
    // borders; a window taller or wider than the grid; windows wider than tall and taller
    // than wide): the coefficients against means and a 3x3 solve computed plainly, in f64.
    for (w, h, r, eps) in [
        (23, 17, (2, 2), 1e-2),
        (12, 9, (1, 1), 1e-3),
        (7, 5, (3, 3), 1e-2),
        (30, 4, (2, 2), 1e-2),
        (23, 17, (3, 2), 1e-2),
        (19, 13, (1, 3), 1e-3),
        // Narrower than the window one way only.
        (5, 17, (3, 1), 1e-2),
        (23, 3, (1, 3), 1e-2),
        (4, 19, (4, 2), 1e-2),
    ] {
        let n = w * h;
        let noise = |seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32) / 1000.0)
                .collect()
        };
        let (y, u, v) = (noise(1), noise(2), noise(3));
        // A soft mask everywhere, and one of plain room and person with a soft edge between.
        let soft: Vec<f32> = (0..n)
            .map(|k| ((k % w) as f32 / w as f32 + 0.3 * y[k]).clamp(0.0, 1.0))
            .collect();
        let plain: Vec<f32> = (0..n)
            .map(|k| {
                let x = ((k % w) as f32 + 0.5 - w as f32 / 2.0).abs() / w as f32;
                ((x * 4.0 - 1.0) * 3.0 + y[k] - 0.5).clamp(0.0, 1.0)
            })
            .collect();
        assert!(
            plain.iter().filter(|&&m| m == 0.0).count() > n / 10,
            "{w}x{h}"
        );
        // And one whose windows are mostly plain, so most of it is skipped (`busy`), and
        // differently in each row: a blob, a band across the whole width, a soft cell.
        let blobs = super::busy::tests::blobs((w, h), true);
        for p in [soft, plain, blobs] {
            check_fit(&y, &u, &v, &p, (w, h), r, eps);
        }
    }
}

fn check_fit(
    y: &[f32],
    u: &[f32],
    v: &[f32],
    p: &[f32],
    (w, h): (usize, usize),
    r: (usize, usize),
    eps: f32,
) {
    let n = w * h;
    let (rx, ry) = r;
    {
        let mut g = ColourGuided::new((w, h), r, eps, 1);
        g.run([y, u, v], p);
        let f64s = |a: &[f32]| a.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let (y, u, v, p) = (f64s(y), f64s(u), f64s(v), f64s(p));
        for k in 0..n {
            let (cx, cy) = (k % w, k / w);
            let mut sum = [0.0f64; 13];
            let mut count = 0.0;
            for yy in cy.saturating_sub(ry)..=(cy + ry).min(h - 1) {
                for xx in cx.saturating_sub(rx)..=(cx + rx).min(w - 1) {
                    let j = yy * w + xx;
                    let c = [y[j], u[j], v[j]];
                    sum[0] += c[0];
                    sum[1] += c[1];
                    sum[2] += c[2];
                    sum[3] += p[j];
                    let mut i = 4;
                    for a in 0..3 {
                        for b in a..3 {
                            sum[i] += c[a] * c[b];
                            i += 1;
                        }
                    }
                    for a in 0..3 {
                        sum[10 + a] += c[a] * p[j];
                    }
                    count += 1.0;
                }
            }
            let m = sum.map(|s| s / count);
            let mu = [m[0], m[1], m[2]];
            // Covariance (+ eps on the diagonal) and with the mask; solve by elimination.
            let cov = |a: usize, b: usize| {
                let (a, b) = (a.min(b), a.max(b));
                let i = 4 + [0, 3, 5][a] + (b - a);
                m[i] - mu[a] * mu[b] + if a == b { eps as f64 } else { 0.0 }
            };
            let mat: [[f64; 4]; 3] = std::array::from_fn(|a| {
                [cov(a, 0), cov(a, 1), cov(a, 2), m[10 + a] - mu[a] * m[3]]
            });
            let a = solve(mat);
            let b = m[3] - a[0] * mu[0] - a[1] * mu[1] - a[2] * mu[2];
            for (i, want) in [a[0], a[1], a[2], b].into_iter().enumerate() {
                let got = g.coef[i][k] as f64;
                assert!(
                    (got - want).abs() <= 2e-3 * (1.0 + want.abs()),
                    "{w}x{h} r{r:?} cell {k} coefficient {i}: {got} vs {want}"
                );
            }
        }
    }
}

/// `w` x `h` cells of two colours: room left of `edge` (a fractional column), person
/// right of it, mixed in the cell the edge crosses. Returns the Y, U, V planes and the
/// true alpha per cell.
fn two_colours(w: usize, h: usize, edge: f32) -> ([Vec<f32>; 3], Vec<f32>) {
    let room = [0.8, 0.5, 0.5];
    let person = [0.3, 0.45, 0.6];
    let mut planes: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; w * h]);
    let mut alpha = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let a = (x as f32 + 1.0 - edge).clamp(0.0, 1.0);
            alpha[y * w + x] = a;
            for c in 0..3 {
                planes[c][y * w + x] = a * person[c] + (1.0 - a) * room[c];
            }
        }
    }
    (planes, alpha)
}

fn apply(g: &ColourGuided, planes: &[Vec<f32>; 3], k: usize) -> f32 {
    g.coef[0][k] * planes[0][k]
        + g.coef[1][k] * planes[1][k]
        + g.coef[2][k] * planes[2][k]
        + g.coef[3][k]
}

#[test]
fn a_mask_off_the_colour_edge_snaps_to_it() {
    // The mask's step (at 11) is most of a cell off the true edge (at 10.3): the mixed
    // cell moves towards its true alpha, the cells either side stay right.
    let (w, h) = (24, 6);
    let (planes, truth) = two_colours(w, h, 10.3);
    let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 11) as u8 as f32).collect();
    let mut g = ColourGuided::new((w, h), (2, 2), 1e-4, 1);
    g.run([&planes[0], &planes[1], &planes[2]], &m);
    let q = |x: usize| apply(&g, &planes, 3 * w + x);
    for x in 0..10 {
        assert!(q(x) < 0.1, "x {x}: {}", q(x));
    }
    assert!(q(10) > 0.3, "the mixed cell (true alpha 0.7): {}", q(10));
    for x in 11..w {
        assert!(q(x) > 0.85, "x {x}: {}", q(x));
    }
    // Without the colours (a flat frame, next test) the mixed cell would stay near 0.
    assert!((truth[3 * w + 10] - 0.7).abs() < 1e-4);
}

#[test]
fn later_fits_match_their_definition() {
    // Noisy colours, a soft mask: the second fit's coefficients at the cells the first
    // found mixed against a plain f64 fit of the first fit's alpha (0 or 1 at plain cells);
    // every other cell keeps the first fit's.
    // Every radius: the later fits' window sums are made along rows, by radius. And each
    // later fit, the third and fourth too (whose cells include some an earlier refit made
    // plain, which keep their coefficients).
    // A mask that changes across (every row has mixed cells) and one that changes down (only
    // some rows have: the rows a later fit reads are the ones its windows reach, by ry).
    for r in [(1, 1), (2, 2), (3, 3), (4, 4), (3, 2), (2, 3), (1, 4)] {
        for passes in 2..=4 {
            for down in [false, true] {
                later_fits_match_their_definition_at(r, passes, down);
            }
        }
    }
}

#[test]
fn later_fits_on_tiny_masks_stay_finite() {
    // Masks smaller than the window, one row, one column: every fit runs and gives numbers.
    for (w, h) in [(1, 1), (2, 3), (3, 1), (1, 4), (5, 2)] {
        let n = w * h;
        let y: Vec<f32> = (0..n).map(|k| (k * 37 % 11) as f32 / 11.0).collect();
        let p: Vec<f32> = (0..n).map(|k| (k % 2) as f32).collect();
        for r in [(1, 1), (2, 2), (3, 3), (4, 4), (1, 3), (4, 2)] {
            for passes in 1..=4 {
                let mut g = ColourGuided::new((w, h), r, 1e-2, passes);
                g.run([&y, &y, &p], &p);
                for c in &g.coef {
                    assert!(
                        c.iter().all(|v| v.is_finite()),
                        "{w}x{h} r {r:?} passes {passes}"
                    );
                }
            }
        }
    }
}

fn later_fits_match_their_definition_at(r: (usize, usize), passes: usize, down: bool) {
    let (rx, ry) = r;
    let (w, h, eps) = (23usize, 17usize, 1e-2f32);
    let n = w * h;
    let noise = |seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104729) % 1000) as f32) / 1000.0)
            .collect()
    };
    let (y, u, v) = (noise(1), noise(2), noise(3));
    let p: Vec<f32> = (0..n)
        .map(|k| {
            let at = match down {
                false => (k % w) as f32 / w as f32,
                true => (k / w) as f32 / h as f32,
            };
            (at * 2.0 - 0.5 + 0.3 * y[k]).clamp(0.0, 1.0)
        })
        .collect();
    // `one`: the fits before the last; `two`: all of them. The cells fitted again are those
    // the first fit found mixed and the fit before left mixed.
    let fitted = |passes: usize| {
        let mut g = ColourGuided::new((w, h), r, eps, passes);
        g.run([&y, &u, &v], &p);
        g
    };
    let (first, one) = (fitted(1), fitted(passes - 1));
    // The filter has fitted another mask before (mirrored): nothing of it may remain.
    let mut two = ColourGuided::new((w, h), r, eps, passes);
    let mirrored: Vec<f32> = (0..n).map(|k| p[k - k % w + (w - 1 - k % w)]).collect();
    two.run([&y, &u, &v], &mirrored);
    two.run([&y, &u, &v], &p);
    let mixed: Vec<usize> = (0..n).filter(|&k| first.class[k] == MIXED).collect();
    assert!(mixed.len() > 20 && mixed.len() + 20 < n, "{}", mixed.len());
    if passes > 2 {
        // Some cells the first fit found mixed an earlier refit made plain.
        let plain = mixed.iter().filter(|&&k| one.class[k] != MIXED).count();
        assert!(
            plain > 0,
            "radius {r:?}, {passes} passes, down {down}: no cell left the mixed ones"
        );
    }
    let next: Vec<f64> = (0..n)
        .map(|k| match one.class[k] {
            ZERO => 0.0,
            FULL => 1.0,
            _ => curve(apply(&one, &[y.clone(), u.clone(), v.clone()], k)) as f64,
        })
        .collect();
    for k in 0..n {
        if first.class[k] != MIXED || one.class[k] != MIXED {
            for i in 0..4 {
                assert_eq!(two.coef[i][k], one.coef[i][k], "plain cell {k}");
            }
            continue;
        }
        let (cx, cy) = (k % w, k / w);
        let count = ((cx + rx).min(w - 1) + 1 - cx.saturating_sub(rx)) as f64
            * ((cy + ry).min(h - 1) + 1 - cy.saturating_sub(ry)) as f64;
        // Means, covariance (+ eps) and with the mask, by a 3x3 elimination.
        let window = |f: &dyn Fn(usize) -> f64| -> f64 {
            let mut t = 0.0;
            for yy in cy.saturating_sub(ry)..=(cy + ry).min(h - 1) {
                for xx in cx.saturating_sub(rx)..=(cx + rx).min(w - 1) {
                    t += f(yy * w + xx);
                }
            }
            t / count
        };
        let col = |j: usize, a: usize| [y[j], u[j], v[j]][a] as f64;
        let mu: [f64; 3] = std::array::from_fn(|a| window(&|j| col(j, a)));
        let mp = window(&|j| next[j]);
        let mat: [[f64; 4]; 3] = std::array::from_fn(|a| {
            let mut row = [0.0; 4];
            for b in 0..3 {
                row[b] = window(&|j| col(j, a) * col(j, b)) - mu[a] * mu[b]
                    + if a == b { eps as f64 } else { 0.0 };
            }
            row[3] = window(&|j| col(j, a) * next[j]) - mu[a] * mp;
            row
        });
        let a = solve(mat);
        let b = mp - a[0] * mu[0] - a[1] * mu[1] - a[2] * mu[2];
        for (i, want) in [a[0], a[1], a[2], b].into_iter().enumerate() {
            let got = two.coef[i][k] as f64;
            assert!(
                (got - want).abs() <= 2e-3 * (1.0 + want.abs()),
                "radius {r:?}, {passes} passes, down {down}, cell {k} coefficient {i}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn fitting_again_moves_the_edge_further_to_the_colour_edge() {
    // The mask's step (at 12) is 1.7 cells off the true edge (at 10.3): three fits end
    // nearer the true alpha than one.
    let (w, h) = (24, 6);
    let (planes, truth) = two_colours(w, h, 10.3);
    let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 12) as u8 as f32).collect();
    let error = |passes: usize| -> f32 {
        let mut g = ColourGuided::new((w, h), (2, 2), 1e-4, passes);
        g.run([&planes[0], &planes[1], &planes[2]], &m);
        (0..w)
            .map(|x| (curve(apply(&g, &planes, 3 * w + x)) - truth[3 * w + x]).abs())
            .sum()
    };
    let (one, three) = (error(1), error(3));
    assert!(three < 0.8 * one, "one fit {one}, three {three}");
}

#[test]
fn a_flat_frame_keeps_the_mask_smoothed() {
    // No colour contrast: the filter is a box filter of the mask, so a constant
    // mask stays exactly constant and a step is only smoothed around its place.
    let (w, h) = (24, 6);
    let planes: [Vec<f32>; 3] = std::array::from_fn(|c| vec![[0.8f32, 0.5, 0.5][c]; w * h]);
    let m: Vec<f32> = (0..w * h).map(|k| (k % w >= 12) as u8 as f32).collect();
    let mut g = ColourGuided::new((w, h), (2, 2), 1e-4, 1);
    g.run([&planes[0], &planes[1], &planes[2]], &m);
    for x in 0..w {
        let q = apply(&g, &planes, 3 * w + x);
        let want = if x < 8 {
            0.0
        } else if x >= 16 {
            1.0
        } else {
            q
        };
        assert!(
            (q - want).abs() < 1e-4 && (-1e-4..=1.0001).contains(&q),
            "x {x}: {q}"
        );
    }
    assert!(apply(&g, &planes, 3 * w + 11) < 0.5 && apply(&g, &planes, 3 * w + 12) > 0.5);
}

/// A filter of `lw x lh` cells whose fit gives `share` of the pixel's luma as its alpha
/// (`q = LOW + (HIGH - LOW) * share * Y`: after the curve, the alpha is `share * Y`), cell `k`
/// of class `class(k)`.
fn luma_fit((lw, lh): (usize, usize), share: f32, class: impl Fn(usize) -> u8) -> ColourGuided {
    let mut g = ColourGuided::new((lw, lh), (1, 1), 1e-4, 1);
    g.coef[0].fill((HIGH - LOW) * share);
    g.coef[1].fill(0.0);
    g.coef[2].fill(0.0);
    g.coef[3].fill(LOW);
    for (k, c) in g.class.iter_mut().enumerate() {
        *c = class(k);
    }
    g
}

/// An applier whose alpha is the pixel's luma, with smoothing 0.8, and a
/// function making a flat YUYV row of luma `l`.
fn luma_applier() -> (Applier, impl Fn(u8) -> Vec<u8>) {
    let (lw, lh, w) = (4, 2, 8);
    let mut applier = Applier::new((lw, lh), (w, lh), 0.8);
    applier.take(&mut luma_fit((lw, lh), 1.0, |_| MIXED));
    (applier, move |l: u8| [l, 128, l, 128].repeat(w / 2))
}

#[test]
fn a_still_pixel_keeps_its_alpha_through_noise() {
    let (mut a, row) = luma_applier();
    a.compute(0, &row(100));
    assert_eq!(a.alpha()[3], 100);
    // Sensor noise: 3 steps up and down. The alpha moves by a fraction of it.
    for i in 0..20 {
        a.compute(0, &row(if i % 2 == 0 { 103 } else { 100 }));
        assert!((100..=102).contains(&a.alpha()[3]), "{}", a.alpha()[3]);
    }
    // A real change (12 steps) is taken at once.
    a.compute(0, &row(130));
    assert_eq!(a.alpha()[3], 130);
}

#[test]
fn a_fall_of_the_fit_on_still_colour_is_taken_at_once_a_rise_stays_averaged() {
    // Dark hair before a dark wall: the person moves away, the colour stays, the fit falls.
    // The fit gives `share` of the pixel's luma.
    let fit = |a: &mut Applier, share: f32| a.take(&mut luma_fit((4, 2), share, |_| MIXED));
    let (mut a, row) = luma_applier();
    let (mut b, _) = luma_applier();
    for _ in 0..5 {
        a.compute(0, &row(200));
        b.compute(0, &row(200));
    }
    assert_eq!((a.alpha()[3], b.alpha()[3]), (200, 200));
    // A fall of 0.15 or less stays averaged (the fit's own noise): 176, a fall of 0.09.
    fit(&mut b, 0.88);
    b.compute(0, &row(200));
    assert_eq!(b.alpha()[3], 199, "0.95 * 200 + 0.05 * 176");
    // A fall to room is taken at once, not 0.95 of the last alpha a frame.
    fit(&mut a, 0.0);
    a.compute(0, &row(200));
    assert_eq!(a.alpha()[3], 0);
    // A rise on still colour (a one-frame false person) stays averaged: the room is never
    // flashed.
    fit(&mut a, 1.0);
    a.compute(0, &row(200));
    assert_eq!(a.alpha()[3], 10);
}

#[test]
fn a_slow_drift_of_colour_is_followed() {
    // 4 steps a frame, each under the still threshold: against the last frame alone every
    // frame looks still and the alpha would trail by 0.95 / 0.05 * 4 = 76 steps.
    let (mut a, row) = luma_applier();
    a.compute(0, &row(60));
    for l in (64..=200).step_by(4) {
        a.compute(0, &row(l));
        let got = a.alpha()[3] as i32;
        assert!(l as i32 - got <= 24, "luma {l}: alpha {got}");
    }
}

/// An applier whose alpha is the pixel's luma where it is computed (smoothing 0.8), on 8x3
/// cells and frames of 32x6, with cells plainly room and plainly person among the mixed ones
/// (different per cell row), so the smoothed spans start and end inside the rows.
fn banded_applier() -> Applier {
    let (lw, lh, w, h) = (8, 3, 32, 6);
    let mut applier = Applier::new((lw, lh), (w, h), 0.8);
    applier.take(&mut luma_fit((lw, lh), 1.0, |k| {
        match (k % lw + k / lw) % 5 {
            0 | 1 => ZERO,
            3 => FULL,
            _ => MIXED,
        }
    }));
    applier
}

#[test]
fn an_applier_that_takes_the_frame_over_smooths_as_one_that_copies_it() {
    // Two appliers over the same frames: still pixels with noise, a slow drift, jumps, and a
    // gap (`forget`) halfway. One copies each frame's rows; the other is handed each frame
    // (its own buffer) after the frame and gives back the old one.
    let (mut copying, mut trading) = (banded_applier(), banded_applier().trading());
    let (w, h) = (32, 6);
    let mut random = crate::test_bytes::random_bytes(11);
    let mut buffer = vec![0u8; w * h * 2];
    let mut smoothed = 0;
    for t in 0..40usize {
        if t == 20 {
            copying.forget();
            trading.forget();
        }
        let frame: Vec<u8> = (0..w * h * 2)
            .map(|i| {
                let base = (60 + 3 * t + 20 * (i % 5)) as u8;
                match random() % 8 {
                    0 => random(),
                    1..=3 => base.wrapping_add(random() % 4),
                    _ => base,
                }
            })
            .collect();
        buffer.copy_from_slice(&frame);
        for (y, row) in frame.chunks_exact(w * 2).enumerate() {
            copying.compute(y, row);
        }
        for y in 0..h {
            trading.compute(y, &buffer[y * w * 2..(y + 1) * w * 2]);
        }
        assert_eq!(trading.alpha(), copying.alpha(), "frame {t}");
        // (The smoothing did something: some computed pixel is not its own luma.)
        smoothed += (0..w * h)
            .filter(|&p| {
                let a = copying.alpha()[p];
                !matches!(a, 0 | 255) && a != frame[2 * p]
            })
            .count();
        trading.keep_frame(&mut buffer);
    }
    assert!(smoothed > 0);
}

#[test]
fn blocks_of_pixels_give_the_bytes_of_the_pixel_pairs() {
    // The applier computes its spans a block of pixels at a time; its definition, pixel pair
    // by pixel pair, must give the same alpha and the same kept colours, bit for bit: on
    // frames narrower and wider than the mask, widths that are not a multiple of the block
    // (and an odd one, not a YUYV width: both leave its last pixel alone), coefficients that
    // put the fit beyond both ends of its curve, classes that change from frame to frame,
    // still and moving colour, a gap, without the smoothing, and with the still threshold
    // raised for a noisy camera (the frames are too small for the room's samples to set it).
    let mut random = crate::test_bytes::random_bytes(29);
    let mut unit = move || random() as f32 / 255.0;
    let mut bytes = crate::test_bytes::random_bytes(31);
    let cases = [
        (8, 3, 6, 5, 0.8, 1.0),
        (8, 3, 32, 6, 0.8, 1.0),
        (8, 3, 50, 9, 0.8, 1.0),
        (8, 3, 70, 7, 0.8, 1.0),
        (8, 3, 33, 4, 0.8, 1.0),
        (8, 3, 100, 3, 0.8, 1.0),
        (5, 4, 46, 8, 0.8, 1.0),
        (13, 2, 40, 5, 0.0, 1.0),
        (8, 3, 70, 7, 0.0, 1.0),
        (8, 3, 70, 7, 0.8, 2.5),
        (5, 4, 46, 8, 0.8, 3.7),
    ];
    for (lw, lh, w, h, smoothing, scale) in cases {
        let mut blocks = Applier::new((lw, lh), (w, h), smoothing).noise_scaled(scale);
        let mut pairs = Applier::new((lw, lh), (w, h), smoothing)
            .noise_scaled(scale)
            .by_pairs();
        let mut frame = vec![0u8; w * h * 2];
        let mut coef: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; lw * lh]);
        let mut class = vec![MIXED; lw * lh];
        let mut computed = 0;
        for t in 0..30 {
            if t == 15 {
                blocks.forget();
                pairs.forget();
            }
            // New coefficients every third frame (between them the same fit, so still
            // pixels keep their alpha).
            if t % 3 == 0 {
                for k in 0..lw * lh {
                    for c in &mut coef[..3] {
                        c[k] = 3.0 * (unit() - 0.5);
                    }
                    coef[3][k] = 2.0 * unit() - 0.5;
                    class[k] = match (unit() * 4.0) as u8 {
                        0 => ZERO,
                        1 => FULL,
                        _ => MIXED,
                    };
                }
                for applier in [&mut blocks, &mut pairs] {
                    let mut g = ColourGuided::new((lw, lh), (1, 1), 1e-4, 1);
                    g.coef.clone_from(&coef);
                    g.class.clone_from(&class);
                    applier.take(&mut g);
                }
            }
            // Colour: mostly a little noise on the last frame, some pixels jumping.
            for b in frame.iter_mut() {
                *b = match bytes() % 8 {
                    0 => bytes(),
                    1..=3 => b.wrapping_add(bytes() % 5).wrapping_sub(2),
                    _ => *b,
                };
            }
            for (y, row) in frame.chunks_exact(w * 2).enumerate() {
                blocks.compute(y, row);
                pairs.compute(y, row);
            }
            assert_eq!(
                blocks.alpha(),
                pairs.alpha(),
                "{w}x{h} ({smoothing}), frame {t}: alpha"
            );
            assert_eq!(
                blocks.last_frame(),
                pairs.last_frame(),
                "{w}x{h}, frame {t}: kept colours"
            );
            computed += blocks
                .alpha()
                .iter()
                .filter(|&&a| !matches!(a, 0 | 255))
                .count();
        }
        assert!(computed > 0, "{w}x{h}: some pixels computed");
    }
}

#[test]
fn runs_split_each_row_by_the_class_its_pixels_interpolate_from() {
    // Cells of three classes in stretches of different lengths (long ones, which the runs
    // skip eight columns at a time, and single cells), on frames narrower and wider than the
    // mask: the runs cover each row in order, each pixel's run has the class of the four
    // cells it interpolates from, and runs side by side differ in class (where columns
    // without pixels lie between two runs of one class, they are one run).
    let mut random = crate::test_bytes::random_bytes(37);
    for (lw, lh, w, h) in [
        (40, 4, 100, 9),
        (40, 4, 30, 5),
        (17, 3, 170, 4),
        (9, 2, 9, 3),
    ] {
        let mut applier = Applier::new((lw, lh), (w, h), 0.8);
        for _ in 0..20 {
            let mut g = ColourGuided::new((lw, lh), (1, 1), 1e-4, 1);
            let mut k = 0;
            while k < lw * lh {
                let class = [ZERO, FULL, MIXED][random() as usize % 3];
                let length = [1, 2, 9, 20][random() as usize % 4];
                for c in g.class.iter_mut().skip(k).take(length) {
                    *c = class;
                }
                k += length;
            }
            applier.take(&mut g);
            for y in 0..h {
                let runs = applier.runs_of_row(y);
                let mut x = 0;
                for (k, &(class, start, stop)) in runs.iter().enumerate() {
                    assert_eq!(start, x, "row {y}: runs in order, none empty");
                    assert!(stop > start, "row {y}: runs in order, none empty");
                    if k > 0 {
                        assert_ne!(class, runs[k - 1].0, "row {y}: runs of one class joined");
                    }
                    for p in start..stop {
                        assert_eq!(class, applier.class_of_pixel(p, y), "pixel {p}, row {y}");
                    }
                    x = stop;
                }
                assert_eq!(x, w, "row {y}: every pixel in a run");
            }
        }
    }
}

#[test]
fn the_automatic_radius_spans_the_same_pixels_on_every_cell_size() {
    let landscape = (256, 144);
    let general = (256, 256);
    // The landscape model's cells of 2.5 pixels (640x360, 720p refined at half size, and
    // 640x480 at 2.5 x 3.3) and 3.75 (1080p at half size): radius 2, the measured best.
    for work in [(640, 360), (640, 480), (960, 540)] {
        assert_eq!(auto_radius(landscape, work), (2, 2), "{work:?}");
    }
    // The general model at 480x480 (1.9 pixels): 5 cells span 9.4 pixels, 7 span 13.1.
    assert_eq!(auto_radius(general, (480, 480)), (3, 3));
    assert_eq!(auto_radius(general, (640, 640)), (2, 2));
    // Finer cells than these get 3, never more (4 scored worse where it was tried).
    assert_eq!(auto_radius(landscape, (320, 180)), (3, 3));
    assert_eq!(auto_radius(general, (256, 256)), (3, 3));
    assert_eq!(auto_radius(general, (4096, 4096)), (2, 2));
    // Cells that are not square, each direction for itself: the landscape model at 480x480
    // (1.9 x 3.3 pixels) and 360x640 (1.4 x 4.4), 1024x768 refined at half size (2 x 2.7).
    assert_eq!(auto_radius(landscape, (480, 480)), (3, 2));
    assert_eq!(auto_radius(landscape, (360, 640)), (3, 2));
    assert_eq!(auto_radius(landscape, (512, 384)), (3, 2));
    for side in (16..2000).step_by(7) {
        let (rx, ry) = auto_radius(general, (side, side));
        let cell = side as f32 / 256.0;
        assert_eq!(rx, ry, "{side}");
        assert_eq!(rx == 2, 5.0 * cell >= AUTO_WINDOW_PX, "{side}: {rx}");
        assert!(rx == 2 || rx == 3, "{side}: {rx}");
        let (wide, _) = auto_radius(landscape, (side, 1000));
        assert_eq!(wide, rx, "{side}");
    }
}

/// An applier over frames of 256x32 (cells 16x4, smoothing 0.8) whose left half is plain
/// room and whose right half's alpha is the pixel's luma, given a fit each frame as the
/// pipeline does; and frame `t`: the room a texture (pairs of luma 60 and 100 in turn) with
/// `noise` steps of luma added to every other pair, the others in the next frame (so
/// neighbours' changes differ by twice it: noise, not a change of light), and the right
/// half's luma `edge`.
#[allow(clippy::type_complexity)]
fn room_and_edge() -> (
    Applier,
    impl Fn(&mut Applier),
    impl Fn(usize, u8, u8) -> Vec<u8>,
) {
    let (lw, lh, w, h) = (16, 4, 256, 32);
    let fit = move |a: &mut Applier| {
        a.take(&mut luma_fit((lw, lh), 1.0, |k| {
            if k % lw < lw / 2 {
                ZERO
            } else {
                MIXED
            }
        }))
    };
    let frame = move |t: usize, noise: u8, edge: u8| -> Vec<u8> {
        let row: Vec<u8> = (0..w / 2)
            .flat_map(|pair| {
                let l = if pair < w / 4 {
                    let texture = if pair % 2 == 0 { 60 } else { 100 };
                    texture
                        + if (t + pair).is_multiple_of(2) {
                            noise
                        } else {
                            0
                        }
                } else {
                    edge
                };
                [l, 128, l, 128]
            })
            .collect();
        row.repeat(h)
    };
    (Applier::new((lw, lh), (w, h), 0.8), fit, frame)
}

#[test]
fn a_noisy_rooms_camera_keeps_the_edge_still_and_a_real_change_is_taken_at_once() {
    // The edge's luma 24 steps apart from frame to frame (12 either side of the colour the
    // kept alpha stands for, which is averaged along with it). In one room the camera's
    // noise shows (7 steps on every other pixel pair: samples of 14); in the other the room
    // is still, so the noise is not seen. An applier that takes the frames over runs beside
    // the one in the noisy room, and does the same.
    let (w, x) = (256, 200);
    let (mut noisy, fit, frame) = room_and_edge();
    let (mut quiet, _, _) = room_and_edge();
    let (mut trading, _, _) = room_and_edge();
    trading = trading.trading();
    let mut buffer = vec![0u8; w * 32 * 2];
    let (mut noisy_range, mut quiet_range) = ((255u8, 0u8), (255u8, 0u8));
    for t in 0..80 {
        let edge = if t % 2 == 0 { 100 } else { 124 };
        let (loud, still) = (frame(t, 7, edge), frame(t, 0, edge));
        buffer.copy_from_slice(&loud);
        for (a, f) in [(&mut noisy, &loud), (&mut quiet, &still)] {
            fit(a);
            for (y, row) in f.chunks_exact(w * 2).enumerate() {
                a.compute(y, row);
            }
        }
        fit(&mut trading);
        for y in 0..32 {
            trading.compute(y, &buffer[y * w * 2..(y + 1) * w * 2]);
        }
        trading.keep_frame(&mut buffer);
        assert_eq!(trading.alpha(), noisy.alpha(), "frame {t}");
        if t >= 60 {
            for (range, a) in [(&mut noisy_range, &noisy), (&mut quiet_range, &quiet)] {
                let v = a.alpha()[5 * w + x];
                *range = (range.0.min(v), range.1.max(v));
            }
        }
    }
    // The still threshold: raised to 6 x 14 / REFERENCE (17.9) by the noise seen, 12 is
    // noise and the edge keeps 0.95 of its alpha (a swing of about 24 * 0.05 / 1.95); not
    // seen (6, ramping to moving at 16), 12 is partly a change.
    assert_eq!(noisy.noise_scale(), 14.0 / noise::REFERENCE);
    assert_eq!(quiet.noise_scale(), 1.0);
    let (noisy_swing, quiet_swing) = (noisy_range.1 - noisy_range.0, quiet_range.1 - quiet_range.0);
    assert!(
        noisy_swing <= 1,
        "noisy room: the edge swung by {noisy_swing}"
    );
    assert!(
        quiet_swing >= 5,
        "still room: the edge swung by {quiet_swing}"
    );
    // A real change on the edge (88 steps from the colour its alpha stands for) is taken at
    // once in the noisy room.
    fit(&mut noisy);
    for (y, row) in frame(80, 7, 200).chunks_exact(w * 2).enumerate() {
        noisy.compute(y, row);
    }
    assert_eq!(noisy.alpha()[5 * w + x], 200);
}
