use super::*;

fn policy() -> Policy {
    Policy {
        restart: Restart {
            backoff_ms: 100,
            max_backoff_ms: 1000,
            stable_ms: 5000,
            crash_loop_after: 3,
        },
        stop_grace_ms: 2000,
    }
}

fn running(pid: i32, at: u64) -> Machine {
    let mut m = Machine::new("segmenter", policy());
    assert_eq!(m.next(Event::Launch, at).unwrap(), vec![Action::Spawn]);
    m.next(Event::Spawned { pid }, at).unwrap();
    m
}

fn has_log(actions: &[Action], fragment: &str) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::Log(l) if l.contains(fragment)))
}

#[test]
fn crash_backoff_doubles_up_to_the_limit_and_resets_after_a_stable_run() {
    let mut m = running(10, 0);
    let mut now = 0;
    let mut delays = vec![];
    for i in 0..6 {
        let pid = 10 + i;
        m.next(
            Event::Exited {
                pid,
                how: Exit::Signal(9),
            },
            now,
        )
        .unwrap();
        let State::Backoff { until_ms } = m.state else {
            panic!("{:?}", m.state)
        };
        delays.push(until_ms - now);
        // Not due yet.
        assert!(m.next(Event::Tick, until_ms - 1).unwrap().is_empty());
        assert_eq!(m.next(Event::Tick, until_ms).unwrap(), vec![Action::Spawn]);
        now = until_ms;
        m.next(Event::Spawned { pid: pid + 1 }, now).unwrap();
    }
    assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
    assert!(m.crash_looping());
    assert_eq!(m.restarts, 6);
    // A stable run resets the backoff.
    m.next(Event::Tick, now + 5000).unwrap();
    assert_eq!(m.crashes_in_row, 0);
    m.next(
        Event::Exited {
            pid: 16,
            how: Exit::Code(1),
        },
        now + 6000,
    )
    .unwrap();
    assert_eq!(
        m.state,
        State::Backoff {
            until_ms: now + 6100
        }
    );
}

#[test]
fn crash_loop_is_reported_loudly() {
    let mut m = running(1, 0);
    let mut logs = vec![];
    for i in 0..3 {
        let a = m
            .next(
                Event::Exited {
                    pid: 1 + i,
                    how: Exit::Code(1),
                },
                0,
            )
            .unwrap();
        logs.push(has_log(&a, "CRASH LOOP"));
        m.next(Event::Spawned { pid: 2 + i }, 0).unwrap();
    }
    assert_eq!(logs, vec![false, false, true]);
}

#[test]
fn exit_zero_means_finished_and_is_not_restarted() {
    let mut m = running(7, 0);
    let a = m
        .next(
            Event::Exited {
                pid: 7,
                how: Exit::Code(0),
            },
            10,
        )
        .unwrap();
    assert!(a.contains(&Action::Finished));
    assert_eq!(m.state, State::Finished);
    assert!(m.next(Event::Tick, 100_000).unwrap().is_empty());
}

#[test]
fn stop_then_start_hands_the_stage_back() {
    let mut m = running(5, 0);
    assert_eq!(m.next(Event::Stop, 1).unwrap(), vec![Action::Terminate(5)]);
    assert!(
        m.next(Event::Start, 2).is_err(),
        "cannot start while stopping"
    );
    m.next(
        Event::Exited {
            pid: 5,
            how: Exit::Code(143),
        },
        3,
    )
    .unwrap();
    assert_eq!(m.state, State::Stopped);
    assert_eq!(m.restarts, 0, "a requested stop is not a crash");
    assert!(m.next(Event::Stop, 4).is_err());
    assert!(
        m.next(Event::Tick, 100_000).unwrap().is_empty(),
        "stays stopped"
    );
    let a = m.next(Event::Start, 5).unwrap();
    assert!(a.contains(&Action::Spawn));
    m.next(Event::Spawned { pid: 6 }, 6).unwrap();
    assert!(m.next(Event::Start, 7).is_err(), "already running");
}

#[test]
fn restart_terminates_then_spawns() {
    let mut m = running(5, 0);
    assert_eq!(
        m.next(Event::Restart, 1).unwrap(),
        vec![Action::Terminate(5)]
    );
    let a = m
        .next(
            Event::Exited {
                pid: 5,
                how: Exit::Signal(15),
            },
            2,
        )
        .unwrap();
    assert!(a.contains(&Action::Spawn));
    assert_eq!(m.restarts, 0);
}

#[test]
fn a_worker_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let mut m = running(5, 0);
    m.next(Event::Shutdown, 0).unwrap();
    assert!(m.next(Event::Tick, 1999).unwrap().is_empty());
    let a = m.next(Event::Tick, 2000).unwrap();
    assert!(a.contains(&Action::Kill(5)));
    assert!(m.next(Event::Tick, 3000).unwrap().is_empty(), "killed once");
    m.next(
        Event::Exited {
            pid: 5,
            how: Exit::Signal(9),
        },
        2001,
    )
    .unwrap();
    assert_eq!(m.state, State::Gone);
}

#[test]
fn exits_of_unknown_pids_are_ignored() {
    let mut m = running(5, 0);
    assert!(m
        .next(
            Event::Exited {
                pid: 99,
                how: Exit::Code(1)
            },
            1
        )
        .unwrap()
        .is_empty());
    assert_eq!(m.state.pid(), Some(5));
}

#[test]
fn stopping_a_restarting_stage_cancels_the_restart() {
    let mut m = running(5, 0);
    m.next(
        Event::Exited {
            pid: 5,
            how: Exit::Code(1),
        },
        0,
    )
    .unwrap();
    m.next(Event::Stop, 1).unwrap();
    assert_eq!(m.state, State::Stopped);
    assert!(m.next(Event::Tick, 10_000).unwrap().is_empty());
}

fn ready(pid: i32, at: u64) -> Machine {
    let mut m = running(pid, at);
    assert!(m
        .next(Event::Ready { pid: pid + 1000 }, at)
        .unwrap()
        .is_empty());
    assert!(matches!(m.state, State::Running { ready: false, .. }));
    m.next(Event::Ready { pid }, at).unwrap();
    assert!(matches!(m.state, State::Running { ready: true, .. }));
    m
}

#[test]
fn a_started_worker_that_dies_is_restarted_at_once_within_its_intensity() {
    let mut m = ready(10, 0);
    let mut pid = 10;
    // crash_loop_after = 3 immediate restarts within stable_ms = 5000.
    for at in [100, 200, 300] {
        let a = m
            .next(
                Event::Exited {
                    pid,
                    how: Exit::Signal(9),
                },
                at,
            )
            .unwrap();
        assert!(a.contains(&Action::Spawn), "{a:?}");
        assert!(has_log(&a, "restarting now"), "{a:?}");
        pid += 1;
        m.next(Event::Spawned { pid }, at).unwrap();
        m.next(Event::Ready { pid }, at + 10).unwrap();
    }
    assert_eq!(m.restarts, 3);
    assert_eq!(m.crashes_in_row, 0);
    // The fourth within the period waits.
    let a = m
        .next(
            Event::Exited {
                pid,
                how: Exit::Signal(9),
            },
            400,
        )
        .unwrap();
    assert!(!a.contains(&Action::Spawn), "{a:?}");
    assert_eq!(m.state, State::Backoff { until_ms: 500 });
    assert_eq!(m.next(Event::Tick, 500).unwrap(), vec![Action::Spawn]);
    pid += 1;
    m.next(Event::Spawned { pid }, 500).unwrap();
    m.next(Event::Ready { pid }, 600).unwrap();
    // Once the period has passed since the first ones, it is restarted at once again.
    let a = m
        .next(
            Event::Exited {
                pid,
                how: Exit::Signal(9),
            },
            5250,
        )
        .unwrap();
    assert!(a.contains(&Action::Spawn), "{a:?}");
}

#[test]
fn a_worker_that_dies_while_starting_waits_and_is_reported_as_a_crash_loop() {
    let mut m = ready(10, 0);
    // It had started: at once.
    let a = m
        .next(
            Event::Exited {
                pid: 10,
                how: Exit::Code(1),
            },
            1000,
        )
        .unwrap();
    assert!(a.contains(&Action::Spawn));
    // The new one dies before it is ready: delayed, and counted towards a crash loop.
    let mut logs = vec![];
    for (i, at) in [1100u64, 1300, 1700].into_iter().enumerate() {
        let pid = 11 + i as i32;
        m.next(Event::Spawned { pid }, at - 100).unwrap();
        let a = m
            .next(
                Event::Exited {
                    pid,
                    how: Exit::Code(2),
                },
                at,
            )
            .unwrap();
        assert!(!a.contains(&Action::Spawn), "{a:?}");
        logs.push(has_log(&a, "CRASH LOOP"));
    }
    assert_eq!(logs, vec![false, false, true]);
}

#[test]
fn a_tick_is_due_only_when_one_changes_something() {
    let mut m = running(10, 0);
    // Running with no past crash: no tick matters.
    assert_eq!(m.due_ms(), None);
    m.next(
        Event::Exited {
            pid: 10,
            how: Exit::Signal(9),
        },
        50,
    )
    .unwrap();
    // Restarting after its backoff: due then, and not a tick before it does anything.
    let State::Backoff { until_ms } = m.state else {
        panic!("{:?}", m.state)
    };
    assert_eq!(m.due_ms(), Some(until_ms));
    assert!(m.next(Event::Tick, until_ms - 1).unwrap().is_empty());
    assert_eq!(m.next(Event::Tick, until_ms).unwrap(), vec![Action::Spawn]);
    m.next(Event::Spawned { pid: 11 }, until_ms).unwrap();
    // Running after a crash: due when the run has been stable long enough to forget it.
    assert_eq!(m.due_ms(), Some(until_ms + 5000));
    m.next(Event::Tick, until_ms + 5000).unwrap();
    assert_eq!(m.crashes_in_row, 0);
    assert_eq!(m.due_ms(), None);
    // Stopping: due at the SIGKILL; once sent, nothing more until it exits.
    m.next(Event::Stop, until_ms + 6000).unwrap();
    assert_eq!(m.due_ms(), Some(until_ms + 8000));
    let actions = m.next(Event::Tick, until_ms + 8000).unwrap();
    assert!(actions.contains(&Action::Kill(11)));
    assert_eq!(m.due_ms(), None);
}
