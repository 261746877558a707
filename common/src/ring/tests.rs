use super::*;
use std::sync::atomic::AtomicU32;
use writer::RingWriter;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(what: &str) -> String {
    format!(
        "/viba-unit-{}-{}-{what}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn newest_slot_wins_and_metadata_travels() {
    let name = unique("frames");
    let ring = Ring::create(&name, RingSpec::frames(4, 2)).unwrap();
    assert!(ring.read_newest(|_, _| ()).is_none());
    let mut w = ring.writer().unwrap();
    for i in 1..=6u8 {
        w.write(
            WriteMeta {
                timestamp_ns: i as u64 * 10,
                source_seq: 0,
            },
            |buf| {
                buf.fill(i);
                buf.len()
            },
        );
    }
    let reader = Ring::open(&name, RingKind::Frames).unwrap();
    let (bytes, meta) = reader.read_newest(|p, _| p.to_vec()).unwrap();
    assert_eq!(meta.seq, 6);
    assert_eq!(meta.timestamp_ns, 60);
    assert_eq!(bytes, vec![6u8; 16]);
}

#[test]
fn open_rejects_wrong_kind_magic_and_version() {
    let name = unique("masks");
    let ring = Ring::create(&name, RingSpec::masks(8, 8)).unwrap();
    assert!(matches!(
        Ring::open(&name, RingKind::Frames),
        Err(RingError::Geometry { .. })
    ));
    assert!(matches!(
        Ring::open_sized(&name, RingKind::Masks, 16, 8),
        Err(RingError::Geometry { .. })
    ));
    // SAFETY: test-only corruption of a segment this test owns.
    let header = unsafe { &mut *(ring.segment.as_ptr() as *mut RingHeader) };
    header
        .geometry
        .layout_version
        .store(LAYOUT_VERSION + 1, Ordering::Release);
    assert!(matches!(
        Ring::open(&name, RingKind::Masks),
        Err(RingError::LayoutMismatch { found, .. }) if found == LAYOUT_VERSION + 1
    ));
    header.geometry.magic = 7;
    assert!(matches!(
        Ring::open(&name, RingKind::Masks),
        Err(RingError::BadMagic { found: 7, .. })
    ));
    drop(ring);
    assert!(matches!(
        Ring::open(&name, RingKind::Masks),
        Err(RingError::Shm(ShmError::Missing(_)))
    ));
}

#[test]
fn a_second_live_writer_is_refused_and_a_released_role_is_free() {
    let name = unique("frames");
    let ring = Ring::create(&name, RingSpec::frames(2, 2)).unwrap();
    let other = Ring::open(&name, RingKind::Frames).unwrap();
    // Pretend pid 1 (always alive) holds the role.
    ring.header().dynamic.writer_pid.store(1, Ordering::Release);
    assert!(matches!(
        other.writer(),
        Err(RingError::WriterBusy { pid: 1, .. })
    ));
    // A dead holder's role is taken over.
    ring.header()
        .dynamic
        .writer_pid
        .store(u32::MAX - 1, Ordering::Release);
    let w = other.writer().unwrap();
    assert_eq!(ring.writer_pid(), Some(std::process::id()));
    drop(w);
    assert_eq!(ring.writer_pid(), None);
}

#[test]
fn wait_newer_times_out_and_sees_publishes() {
    let name = unique("frames");
    let ring = Ring::create(&name, RingSpec::frames(2, 2)).unwrap();
    assert_eq!(ring.wait_newer(0, Duration::from_millis(20)), 0);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(30));
            let mut w = ring.writer().unwrap();
            w.write(WriteMeta::default(), |b| b.len());
        });
        assert_eq!(ring.wait_newer(0, Duration::from_secs(10)), 1);
    });
    ring.close();
    assert!(ring.is_closed());
    assert_eq!(ring.wait_newer(5, Duration::from_secs(10)), 1);
}

#[test]
fn bad_specs_are_refused() {
    assert!(Ring::create(&unique("frames"), RingSpec::frames(3, 2)).is_err());
    assert!(Ring::create(&unique("frames"), RingSpec::frames(0, 2)).is_err());
}

fn write_byte(w: &mut RingWriter<'_>, byte: u8) -> Option<u64> {
    w.write(WriteMeta::default(), |buf| {
        buf.fill(byte);
        buf.len()
    })
}

#[test]
fn a_slot_on_loan_is_never_written() {
    let name = unique("frames");
    let ring = Ring::create(&name, RingSpec::frames(8, 4)).unwrap();
    let mut w = ring.writer().unwrap();
    write_byte(&mut w, 1).unwrap();
    let ((), meta) = ring
        .read_newest(|payload, meta| {
            assert_eq!(ring.loans(), 1);
            // Many writes while the loan is held: each goes to another slot.
            for i in 2..=40u8 {
                assert!(write_byte(&mut w, i).is_some(), "write {i} found no slot");
                assert!(payload.iter().all(|&b| b == 1), "slot on loan was written");
            }
            assert_eq!(meta.seq, 1);
        })
        .unwrap();
    assert_eq!(meta.seq, 1);
    assert_eq!(ring.loans(), 0, "the loan is given back");
    let (newest, meta) = ring.read_newest(|p, _| p[0]).unwrap();
    assert_eq!((newest, meta.seq), (40, 40));
}

#[test]
fn a_loan_is_given_back_when_the_reader_panics() {
    let name = unique("masks");
    let ring = Ring::create(&name, RingSpec::masks(4, 4)).unwrap();
    write_byte(&mut ring.writer().unwrap(), 9).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ring.read_newest(|_, _| panic!("reader fails"))
    }));
    assert!(panicked.is_err());
    assert_eq!(ring.loans(), 0);
}

/// Puts `pid` in a holder entry of every slot but the published one, as readers do.
fn lend_all_but_published(ring: &Ring, pid: u32) {
    let (_, published) = ring.published();
    for index in 0..ring.spec().slot_count as usize {
        if index != published {
            ring.slot_header(index).holders[3].store(pid, Ordering::SeqCst);
        }
    }
}

#[test]
fn live_loans_on_every_free_slot_drop_the_write_dead_ones_are_cleared() {
    let name = unique("frames");
    let ring = Ring::create(&name, RingSpec::frames(4, 2)).unwrap();
    let mut w = ring.writer().unwrap();
    write_byte(&mut w, 1).unwrap();
    // pid 1 is always alive: its loans stand, and the write is dropped, not waited for.
    lend_all_but_published(&ring, 1);
    assert_eq!(write_byte(&mut w, 2), None);
    assert_eq!(ring.published_seq(), 1);
    assert_eq!(
        w.next_seq(),
        2,
        "a dropped write does not use up a sequence number"
    );
    // Readers that were killed while reading: their loans are cleared and the write goes on.
    lend_all_but_published(&ring, u32::MAX - 1);
    assert_eq!(write_byte(&mut w, 2), Some(2));
    assert_eq!(ring.loans(), 2, "one dead loan cleared, as many as needed");
    for i in 3..=10 {
        assert_eq!(write_byte(&mut w, i), Some(i as u64));
    }
    assert_eq!(
        ring.loans(),
        2,
        "the other dead loans wait until their slots are needed"
    );
    assert_eq!(ring.read_newest(|p, _| p[0]).unwrap().0, 10);
}

#[test]
fn a_stale_loan_taken_while_the_writer_marks_the_slot_keeps_it() {
    // The reader's side of the race, step by step: it read the published word, the writer
    // then published newer slots; the reader's loan on the old slot makes the writer skip it.
    let name = unique("masks");
    let ring = Ring::create(&name, RingSpec::masks(2, 2)).unwrap();
    let mut w = ring.writer().unwrap();
    write_byte(&mut w, 1).unwrap();
    let (_, first) = ring.published();
    let loan = loan::Loan::take(ring.slot_header(first), std::process::id()).unwrap();
    for i in 2..=10u8 {
        write_byte(&mut w, i).unwrap();
        assert_ne!(ring.published().1, first, "the slot on loan was reused");
    }
    assert_eq!(ring.slot_header(first).lock.load(Ordering::SeqCst), 2);
    drop(loan);
    write_byte(&mut w, 11).unwrap();
    write_byte(&mut w, 12).unwrap();
    write_byte(&mut w, 13).unwrap();
    assert_eq!(ring.loans(), 0);
}
