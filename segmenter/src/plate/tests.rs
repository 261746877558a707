use super::*;

const W: usize = 40;
const H: usize = 24;
/// The mask value from which a cell shows the person: the defaults' (threshold 0.6, softness
/// 0.3: 0.45).
const SHOWN: u8 = 114;

/// A small deterministic generator (xorshift), so that the tests need no crate.
struct Noise(u64);

impl Noise {
    /// Uniform in -amp..amp.
    fn next(&mut self, amp: f32) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
    }
}

/// A textured room: every cell its own colour.
fn room(seed: u64) -> [Vec<f32>; 3] {
    let mut n = Noise(seed);
    std::array::from_fn(|_| (0..W * H).map(|_| 128.0 + n.next(100.0)).collect())
}

/// The room with the person (a flat colour) over columns `x0..x1`, and sensor noise.
fn frame(room: &[Vec<f32>; 3], x0: usize, x1: usize, noise: &mut Noise) -> [Vec<f32>; 3] {
    let person = [90.0, 110.0, 150.0];
    std::array::from_fn(|k| {
        (0..W * H)
            .map(|i| {
                let v = if (x0..x1).contains(&(i % W)) {
                    person[k]
                } else {
                    room[k][i]
                };
                v + noise.next(1.5)
            })
            .collect()
    })
}

/// A mask of 255 over columns `x0..x1`, 0 elsewhere.
fn mask(x0: usize, x1: usize) -> Vec<u8> {
    (0..W * H)
        .map(|i| if (x0..x1).contains(&(i % W)) { 255 } else { 0 })
        .collect()
}

fn planes(f: &[Vec<f32>; 3]) -> [&[f32]; 3] {
    [&f[0], &f[1], &f[2]]
}

/// Runs `frames` frames of the person at `x0..x1`, the mask right, learning.
fn learn(plate: &mut Plate, room: &[Vec<f32>; 3], x0: usize, x1: usize, frames: usize) {
    let mut noise = Noise(7);
    for _ in 0..frames {
        let f = frame(room, x0, x1, &mut noise);
        let mut m = mask(x0, x1);
        plate.apply(planes(&f), &mut m);
        assert_eq!(m, mask(x0, x1), "a right mask is never lowered");
        plate.learn(planes(&f), &m);
    }
}

fn column(m: &[u8], x: usize) -> Vec<u8> {
    (0..H).map(|y| m[y * W + x]).collect()
}

#[test]
fn room_seen_before_is_taken_out_of_a_false_person() {
    let r = room(1);
    let mut plate = Plate::new(W, H, true, SHOWN);
    // The person on the left; the right half is learnt.
    learn(&mut plate, &r, 2, 10, 40);
    // The person moves to the middle; the model also calls the room beside them person.
    let f = frame(&r, 14, 22, &mut Noise(3));
    let mut m = mask(14, 32);
    plate.apply(planes(&f), &mut m);
    for x in 14..22 {
        assert!(
            column(&m, x).iter().all(|&v| v == 255),
            "person kept at {x}"
        );
    }
    for x in 24..32 {
        assert!(
            column(&m, x).iter().all(|&v| v == 0),
            "room lowered at {x}: {:?}",
            column(&m, x)
        );
    }
}

#[test]
fn cells_never_seen_as_room_are_left_alone() {
    let r = room(2);
    let mut plate = Plate::new(W, H, true, SHOWN);
    // The person stays at 10..20: their cells and those within NEAR are never learnt.
    learn(&mut plate, &r, 10, 20, 40);
    // The person leaves; the model still calls the cells they stood on person.
    let f = frame(&r, 0, 0, &mut Noise(4));
    let mut m = mask(10 - NEAR, 20 + NEAR);
    plate.apply(planes(&f), &mut m);
    for x in 10 - NEAR..20 + NEAR {
        // Within one cell of a learnt one the 3x3 mean may lower a cell's edge, never more.
        if (10 - NEAR + 1..20 + NEAR - 1).contains(&x) {
            assert!(
                column(&m, x).iter().all(|&v| v == 255),
                "kept at {x}: {:?}",
                column(&m, x)
            );
        }
    }
}

#[test]
fn a_person_who_differs_from_the_room_is_never_lowered() {
    let r = room(3);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 30, 38, 40);
    // The person walks over the learnt room; the mask is right.
    for x0 in (2..20).step_by(3) {
        let f = frame(&r, x0, x0 + 8, &mut Noise(x0 as u64 + 10));
        let mut m = mask(x0, x0 + 8);
        plate.apply(planes(&f), &mut m);
        assert_eq!(m, mask(x0, x0 + 8), "person at {x0}");
    }
}

#[test]
fn only_the_voting_columns_restart_the_whole_plate() {
    let old = room(4);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &old, 2, 4, 40);
    // The room outside columns 16..24 jumps (learnt rarely there, it missed a slow change of
    // light); inside them it is as learnt. Those cells start again, but the plate does not.
    let mut changed = old.clone();
    for plane in changed.iter_mut() {
        for (i, v) in plane.iter_mut().enumerate() {
            if !(16..24).contains(&(i % W)) {
                *v = 255.0 - *v;
            }
        }
    }
    let f = frame(&changed, 2, 4, &mut Noise(6));
    plate.learn_voting(planes(&f), &mask(2, 4), 16..24);
    assert!(
        (0..H).all(|y| plate.seen[y * W + 20] >= MATURE),
        "the voting columns kept"
    );
    // The same frame, every column voting (or `learn`): the whole plate starts again.
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &old, 2, 4, 40);
    plate.learn_voting(planes(&f), &mask(2, 4), 0..W);
    assert!(plate.seen.iter().all(|&s| s == 0.0), "every row forgotten");
}

#[test]
fn a_moved_camera_starts_the_plate_again() {
    let old = room(4);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &old, 2, 8, 40);
    // Another room: one frame of it restarts the whole plate ...
    let new = room(5);
    let f = frame(&new, 2, 8, &mut Noise(6));
    plate.learn(planes(&f), &mask(2, 8));
    assert!(plate.seen.iter().all(|&s| s == 0.0), "every row forgotten");
    // ... so the old room, seen again under a false person, is no longer matched.
    let f = frame(&old, 2, 8, &mut Noise(8));
    let mut m = mask(2, 30);
    plate.apply(planes(&f), &mut m);
    assert_eq!(m, mask(2, 30));
}

#[test]
fn off_changes_nothing_and_forgets() {
    let r = room(6);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 2, 10, 40);
    plate.set(false, SHOWN);
    let f = frame(&r, 14, 22, &mut Noise(3));
    let mut m = mask(14, 32);
    plate.apply(planes(&f), &mut m);
    assert_eq!(m, mask(14, 32));
    // On again: nothing learnt is left.
    plate.set(true, SHOWN);
    plate.apply(planes(&f), &mut m);
    assert_eq!(m, mask(14, 32));
}

#[test]
fn room_the_model_is_unsure_of_is_learnt_where_the_picture_shows_room() {
    // The model gives the room beside the person 0.4 (under the soft threshold's lower end:
    // the picture shows room there) while the person stands on the left ...
    let r = room(11);
    let mut plate = Plate::new(W, H, true, SHOWN);
    let mut noise = Noise(12);
    let unsure = |x0: usize, x1: usize| -> Vec<u8> {
        mask(x0, x1)
            .iter()
            .enumerate()
            .map(|(i, &v)| if v == 0 && i % W >= 24 { 102 } else { v })
            .collect()
    };
    for _ in 0..40 {
        let f = frame(&r, 2, 10, &mut noise);
        let mut m = unsure(2, 10);
        plate.apply(planes(&f), &mut m);
        plate.learn(planes(&f), &m);
    }
    assert!(plate.seen[5 * W + 28] >= MATURE, "learnt at 0.4");
    // ... and 1.0 once they come close: the room seen there is taken out.
    let f = frame(&r, 14, 22, &mut noise);
    let mut m = mask(14, 32);
    plate.apply(planes(&f), &mut m);
    for x in 24..32 {
        assert!(column(&m, x).iter().all(|&v| v == 0), "lowered at {x}");
    }
    for x in 14..22 {
        assert!(column(&m, x).iter().all(|&v| v == 255), "kept at {x}");
    }
    // Where the picture would show the person at 0.4 (a lower threshold), nothing is learnt.
    let mut low = Plate::new(W, H, true, 90);
    for _ in 0..40 {
        let f = frame(&r, 2, 10, &mut noise);
        low.learn(planes(&f), &unsure(2, 10));
    }
    assert!((22..W).all(|x| low.seen[5 * W + x] == 0.0));
}

#[test]
fn a_lower_threshold_forgets_the_plate() {
    let r = room(13);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 2, 10, 40);
    plate.set(true, SHOWN);
    assert!(
        plate.seen.iter().any(|&s| s >= MATURE),
        "the same threshold keeps it"
    );
    plate.set(true, SHOWN + 20);
    assert!(
        plate.seen.iter().any(|&s| s >= MATURE),
        "a higher one keeps it"
    );
    plate.set(true, SHOWN - 20);
    assert!(
        plate.seen.iter().all(|&s| s == 0.0),
        "a lower one forgets it"
    );
    let f = frame(&r, 14, 22, &mut Noise(3));
    let mut m = mask(14, 32);
    plate.apply(planes(&f), &mut m);
    assert_eq!(m, mask(14, 32));
}

#[test]
fn near_marks_the_window_around_the_mask() {
    let mut plate = Plate::new(W, H, true, SHOWN);
    let mut m = vec![0u8; W * H];
    m[10 * W + 20] = SHOWN;
    plate.mark_near(&m);
    for y in 0..H {
        for x in 0..W {
            let inside = y.abs_diff(10) <= NEAR && x.abs_diff(20) <= NEAR;
            assert_eq!(plate.near[y * W + x] == 1, inside, "({x}, {y})");
        }
    }
    m[10 * W + 20] = SHOWN - 1;
    plate.mark_near(&m);
    assert!(plate.near.iter().all(|&v| v == 0));
}

#[test]
fn a_cell_is_used_only_once_learnt_often_enough() {
    let r = room(7);
    let mut plate = Plate::new(W, H, true, SHOWN);
    // Each mask learns every other row: 2 * (MATURE - 1) masks learn each row MATURE - 1 times.
    learn(&mut plate, &r, 2, 10, 2 * (MATURE as usize - 1));
    let f = frame(&r, 14, 22, &mut Noise(3));
    let mut m = mask(14, 32);
    plate.apply(planes(&f), &mut m);
    assert_eq!(m, mask(14, 32), "not mature yet");
    // Two more masks: mature, used.
    learn(&mut plate, &r, 2, 10, 2);
    plate.apply(planes(&f), &mut m);
    assert!(column(&m, 28).iter().all(|&v| v == 0));
}

#[test]
fn a_cell_whose_colour_jumps_starts_again() {
    let r = room(8);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 2, 10, 40);
    // One cell of a row learnt next (the parity alternates) changes colour: a moved cushion.
    let mut moved = r.clone();
    let row = 1 - plate.parity;
    let k = row * W + 30;
    moved[0][k] = 255.0 - moved[0][k];
    let f = frame(&moved, 2, 10, &mut Noise(9));
    plate.learn(planes(&f), &mask(2, 10));
    assert_eq!(plate.seen[k], 1.0);
    assert!(plate.seen[k + 2] >= MATURE, "its neighbours are kept");
}

#[test]
fn a_small_part_of_the_person_on_learnt_room_is_kept() {
    let r = room(9);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 2, 10, 40);
    // A fingertip: one cell of the person's colour, its neighbours the room they match.
    let mut f = frame(&r, 0, 0, &mut Noise(10));
    let k = 12 * W + 25;
    for (c, v) in f.iter_mut().zip([90.0, 110.0, 150.0]) {
        c[k] = v;
    }
    let mut m = vec![0u8; W * H];
    m[k] = 255;
    plate.apply(planes(&f), &mut m);
    assert_eq!(m[k], 255);
}

#[test]
fn only_the_outline_is_lowered_not_a_wide_person_who_matches_the_room() {
    let r = room(10);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 0, 2, 40);
    // The model calls columns 6..40 person (all rows); the frame there matches the room (a
    // shirt of the wall's colours). Only cells within OUTLINE of what it calls room may go.
    let f = frame(&r, 0, 0, &mut Noise(11));
    let mut m = mask(6, W);
    plate.apply(planes(&f), &mut m);
    assert!(
        column(&m, 6 + 2).iter().all(|&v| v == 0),
        "near the outline"
    );
    for x in 6 + OUTLINE..W {
        assert!(column(&m, x).iter().all(|&v| v == 255), "kept at {x}");
    }
}

#[test]
fn room_right_beside_the_person_is_lowered_too() {
    let r = room(1);
    let mut plate = Plate::new(W, H, true, SHOWN);
    learn(&mut plate, &r, 2, 10, 40);
    // The false person starts at the person's very edge: the column beside them has the
    // person (who differs) on one side and learnt room on the other. Its 3x3 mean is over
    // the tolerance; the half on the room's side matches.
    let f = frame(&r, 14, 22, &mut Noise(3));
    let mut m = mask(14, 28);
    plate.apply(planes(&f), &mut m);
    assert!(
        column(&m, 21).iter().all(|&v| v == 255),
        "the person's last column kept: {:?}",
        column(&m, 21)
    );
    assert!(
        column(&m, 22).iter().all(|&v| v == 0),
        "the room beside them lowered: {:?}",
        column(&m, 22)
    );
}
