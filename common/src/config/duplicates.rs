//! A key given twice in one object of `viba.json`: JSON parsers keep the last one silently, so
//! `"instance": "a", ..., "instance": "b"` would run as `b` with nobody told. Found by walking
//! the text once with serde (no values kept); comment keys (`//...`) may repeat.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// The dotted path of the first key that appears twice in its object (`output.path`), if any.
/// `text` must be valid JSON (checked before); on a syntax error this says `None`.
pub(super) fn first_duplicate(text: &str) -> Option<String> {
    let mut path = Vec::new();
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Walk {
        path: &mut path,
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

/// One value of the walk: the keys above it, and where the first duplicate goes.
struct Walk<'a> {
    path: &'a mut Vec<String>,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !key.starts_with("//") && !seen.insert(key.clone()) && self.found.is_none() {
                let mut dotted = self.path.clone();
                dotted.push(key.clone());
                *self.found = Some(dotted.join("."));
            }
            self.path.push(key);
            map.next_value_seed(Walk {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk {
                path: self.path,
                found: self.found,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_given_twice_in_its_object_is_named() {
        assert_eq!(first_duplicate(r#"{"a": 1, "b": {"c": 2}}"#), None);
        assert_eq!(
            first_duplicate(r#"{"instance": "a", "x": [1, {"y": 2}], "instance": "b"}"#),
            Some("instance".into())
        );
        assert_eq!(
            first_duplicate(r#"{"output": {"sink": "file", "path": "a", "path": "b"}}"#),
            Some("output.path".into())
        );
        // In arrays' objects too; the same key in two objects is no duplicate.
        assert_eq!(
            first_duplicate(r#"{"a": [{"k": 1}, {"k": 2, "k": 3}]}"#),
            Some("a.k".into())
        );
        assert_eq!(first_duplicate(r#"{"a": {"k": 1}, "b": {"k": 2}}"#), None);
        // Comments may repeat.
        assert_eq!(
            first_duplicate(r#"{"//": "one", "//": "two", "a": {"//x": 1, "//x": 2}}"#),
            None
        );
        assert_eq!(
            first_duplicate(r#"{"a": null, "b": -1.5, "c": true}"#),
            None
        );
    }
}
