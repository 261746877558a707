//! `viba-supervisor init` and the config viba finds without `--config`.

use std::path::Path;
use std::process::{Command, Output};
use viba_systest::testing::*;

fn supervisor(env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut c = Command::new(bin("viba-supervisor"));
    c.env_remove("XDG_CONFIG_HOME").env_remove("HOME");
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

fn one_line_exit_2(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}

#[test]
fn init_writes_the_config_viba_then_reads_without_flags() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("cfg");
    let env = [
        ("XDG_CONFIG_HOME", xdg.as_path()),
        ("XDG_RUNTIME_DIR", dir.path()),
    ];
    let config = xdg.join("viba/viba.json");

    // No config yet: the message says where viba looked and how to make one.
    let out = supervisor(&env, &[]);
    one_line_exit_2(
        &out,
        &format!(
            "no config: {} does not exist (write it with viba-supervisor init",
            config.display()
        ),
    );

    let out = supervisor(&env, &["init"]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with(&format!("wrote {}", config.display())),
        "{said}"
    );
    let written = viba_common::config::load(&config).unwrap();
    assert_eq!(
        written.input.source,
        viba_common::config::SourceKind::Camera
    );
    assert!(std::fs::read_to_string(&config).unwrap().contains("\"//\""));

    // Not overwritten without --force.
    std::fs::write(&config, std::fs::read_to_string(&config).unwrap() + " ").unwrap();
    let before = std::fs::read(&config).unwrap();
    one_line_exit_2(
        &supervisor(&env, &["init"]),
        "already exists (use viba-supervisor init --force to overwrite it)",
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert!(supervisor(&env, &["init", "--force"]).status.success());
    assert_ne!(std::fs::read(&config).unwrap(), before);

    // Without flags viba reads it: here its camera is checked (and is missing on a machine
    // without one, or is there: then this would start viba, so only check what is known).
    if !Path::new(&written.input.device).exists() {
        one_line_exit_2(
            &supervisor(&env, &[]),
            &format!("input.device: {} does not exist", written.input.device),
        );
        assert_eq!(leftover_segments("default"), Vec::<String>::new());
    }
    // `ctl` finds the instance through it.
    one_line_exit_2(
        &supervisor(&env, &["ctl", "status"]),
        "instance \"default\" is not running",
    );

    // Without XDG_CONFIG_HOME: ~/.config.
    let home = dir.path().join("home");
    let out = supervisor(&[("HOME", home.as_path())], &["init"]);
    assert!(out.status.success(), "{out:?}");
    assert!(home.join(".config/viba/viba.json").is_file());
}
