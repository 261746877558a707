//! Changing the config while viba runs (`ctl set`, `ctl reload`, SIGHUP): which keys changed,
//! and what each change needs. Picture keys apply from the next frame; keys a stage reads only
//! when it starts restart that stage; keys the rings or the supervisor's set-up are made from
//! need viba restarted.

use crate::stage::Stage;
use serde_json::Value;

/// What a changed key needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// Read again by the running stages (SIGHUP to each), used from the next frame.
    Live,
    /// Applied by the supervisor itself (its restart policy).
    Supervisor,
    /// These stages restart with it.
    Restart(&'static [Stage]),
    /// Only a restart of viba applies it (the rings' sizes, the instance's name).
    Refused,
}

/// What changing `key` (dotted, e.g. `background.blur`) needs.
pub fn classify(key: &str) -> Apply {
    use Stage::*;
    let (section, rest) = key.split_once('.').unwrap_or((key, ""));
    let field = rest.split('.').next().unwrap_or("");
    match (section, field) {
        ("background", _) | ("compositor", _) => Apply::Live,
        ("segmentation", "threshold" | "softness" | "smoothing" | "islands" | "plate") => {
            Apply::Live
        }
        ("output", "mirror" | "pause_image") => Apply::Live,
        ("debug", _) => Apply::Live,
        ("input", "width" | "height") => Apply::Refused,
        ("input", "fps") => Apply::Restart(&[Capture, Compositor]),
        ("input", _) => Apply::Restart(&[Capture]),
        ("segmentation", _) => Apply::Restart(&[Segmenter]),
        // The sink: the running compositor holds it, so a new one cannot be checked first.
        ("output", "idle_when_unused" | "sink" | "device" | "path" | "format") => Apply::Refused,
        // The frame ring's size follows from them.
        ("output", "width" | "height") => Apply::Refused,
        ("output", _) => Apply::Restart(&[Compositor]),
        ("stages", "capture") => Apply::Restart(&[Capture]),
        ("stages", "segmenter") => Apply::Restart(&[Segmenter]),
        ("stages", "compositor") => Apply::Restart(&[Compositor]),
        ("restart", _) => Apply::Supervisor,
        _ => Apply::Refused,
    }
}

/// The dotted keys whose values differ between two configs (leaves; a key present in one
/// only counts as changed).
pub fn changed_keys(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("", old, new, &mut out);
    out
}

fn diff(prefix: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let empty = Value::Object(Default::default());
    // A section the other side does not have compares as an empty one, so the keys in it
    // are named (`segmentation.threshold`, not `segmentation`).
    let (old, new) = match (old, new) {
        (Value::Null, Value::Object(_)) => (&empty, new),
        (Value::Object(_), Value::Null) => (old, &empty),
        _ => (old, new),
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                diff(
                    &join(k),
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (a, b) if a == b => {}
        _ => out.push(prefix.to_owned()),
    }
}

/// Why [`set`] cannot set a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// An empty part (`background..x`, `.blur`).
    #[error("\"{key}\" is not a key (use e.g. background.blur)")]
    NotAKey {
        /// The key as given.
        key: String,
    },
    /// A part on the way holds a value that is not an object.
    #[error("{at}: is not an object, so it has no \"{part}\"")]
    NotAnObject {
        /// The dotted key of the value that is not an object.
        at: String,
        /// The part that was to go into it.
        part: String,
    },
}

/// Sets the dotted `key` in `config` to `value`, making the objects on the way.
pub fn set(config: &mut Value, key: &str, value: Value) -> Result<(), SetError> {
    let parts: Vec<&str> = key.split('.').collect();
    let not_a_key = || SetError::NotAKey {
        key: key.to_owned(),
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(not_a_key());
    }
    let not_an_object = |i: usize| SetError::NotAnObject {
        at: parts[..i].join("."),
        part: parts[i].to_owned(),
    };
    let Some((last, path)) = parts.split_last() else {
        return Err(not_a_key());
    };
    let mut at = config;
    for (i, part) in path.iter().enumerate() {
        let Value::Object(map) = at else {
            return Err(not_an_object(i));
        };
        at = map
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    let Value::Object(map) = at else {
        return Err(not_an_object(path.len()));
    };
    map.insert((*last).to_owned(), value);
    Ok(())
}

/// `ctl set`'s VALUE: JSON when it parses as JSON (`12`, `true`, `null`, `"x"`, `[1,2]`),
/// else the text as a string (`#336699`, `/home/me/office.jpg`).
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picture_keys_are_live_and_others_restart_what_reads_them() {
        assert_eq!(classify("background.blur"), Apply::Live);
        assert_eq!(classify("background.image"), Apply::Live);
        assert_eq!(classify("segmentation.threshold"), Apply::Live);
        assert_eq!(classify("compositor.refine"), Apply::Live);
        assert_eq!(classify("output.mirror"), Apply::Live);
        assert_eq!(classify("input.device"), Apply::Restart(&[Stage::Capture]));
        assert_eq!(
            classify("input.fps"),
            Apply::Restart(&[Stage::Capture, Stage::Compositor])
        );
        assert_eq!(
            classify("segmentation.model"),
            Apply::Restart(&[Stage::Segmenter])
        );
        assert_eq!(classify("output.device"), Apply::Refused);
        assert_eq!(
            classify("output.max_frames"),
            Apply::Restart(&[Stage::Compositor])
        );
        assert_eq!(
            classify("stages.segmenter.cpus"),
            Apply::Restart(&[Stage::Segmenter])
        );
        assert_eq!(classify("restart.backoff_ms"), Apply::Supervisor);
        assert_eq!(classify("input.width"), Apply::Refused);
        assert_eq!(classify("instance"), Apply::Refused);
    }

    #[test]
    fn changed_keys_are_the_leaves_that_differ() {
        let old = json!({"background": {"image": "a.png"}, "input": {"fps": 30}});
        let new = json!({"background": {"blur": 12}, "input": {"fps": 30}, "instance": "x"});
        assert_eq!(
            changed_keys(&old, &new),
            ["background.blur", "background.image", "instance"]
        );
        assert!(changed_keys(&old, &old).is_empty());
        // A section only one side has: its keys, not the section.
        let bare = json!({"background": {"image": "a.png"}});
        let more = json!({"background": {"image": "a.png"}, "segmentation": {"threshold": 0.3}});
        assert_eq!(changed_keys(&bare, &more), ["segmentation.threshold"]);
        assert_eq!(changed_keys(&more, &bare), ["segmentation.threshold"]);
    }

    #[test]
    fn set_makes_the_path_and_values_parse_as_json_or_text() {
        let mut c = json!({"background": {"image": "a.png"}});
        set(&mut c, "background.blur", parse_value("12")).unwrap();
        set(&mut c, "output.mirror", parse_value("true")).unwrap();
        set(&mut c, "background.color", parse_value("#336699")).unwrap();
        set(&mut c, "background.image", parse_value("null")).unwrap();
        assert_eq!(
            c,
            json!({"background": {"image": null, "blur": 12, "color": "#336699"}, "output": {"mirror": true}})
        );
        assert!(set(&mut c, "background.blur.x", json!(1)).is_err());
        assert!(set(&mut c, "background..x", json!(1)).is_err());
    }
}
