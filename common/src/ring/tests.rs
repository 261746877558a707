use super::*;
use std::sync::atomic::AtomicU32;

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
