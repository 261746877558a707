//! Merging a JSON patch into a config (the benchmarks' variants): objects merge key by key,
//! any other value replaces.

use serde_json::Value;

/// Merges `patch` into `base`.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_and_values_replace() {
        let mut base = json!({ "a": { "b": 1, "c": 2 }, "d": [1] });
        merge(&mut base, &json!({ "a": { "c": 3, "e": 4 }, "d": [2] }));
        assert_eq!(base, json!({ "a": { "b": 1, "c": 3, "e": 4 }, "d": [2] }));
    }
}
