//! Property-test inputs for every edge: arbitrary JSON, and samples with one value replaced by
//! arbitrary JSON, so a handler's decoder and the use case behind it meet what no example
//! thought of (huge and malformed numbers, wrong types, deep nesting). Tests only.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::Value;

/// Numbers as the API takes them (strings), chosen to hit the edges: past every bound, past
/// `Decimal`'s range, too many places, exponents, negatives, zero.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "0.0001",
    "1000000000.001",
    "79228162514264337593543950",
    "79228162514264337593543950335",
    "792281625142643375935439503350",
    "1e40",
    "-79228162514264337593543950",
    "NaN",
    "",
];

/// Arbitrary JSON, weighted towards what trips decoders: edge-case numbers (as strings and as
/// JSON numbers), long strings, nesting.
pub fn json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(NUMBERS).prop_map(Value::from),
        "[a-zA-Z0-9#_ -]{0,12}".prop_map(Value::from),
        (1usize..300_000).prop_map(|n| Value::from("x".repeat(n % 70_000))),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

fn paths(value: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut next = at.clone();
                next.push(k.clone());
                paths(v, next, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut next = at.clone();
                next.push(i.to_string());
                paths(v, next, out);
            }
        }
        _ => {}
    }
}

fn replace(value: &mut Value, path: &[String], with: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(with) = with {
            *value = with;
        }
        return;
    };
    let mut target = value;
    for step in parents {
        target = match target {
            Value::Object(map) => map.get_mut(step).expect("a path of the sample"),
            Value::Array(items) => &mut items[step.parse::<usize>().expect("an index")],
            _ => return,
        };
    }
    match (target, with) {
        (Value::Object(map), Some(with)) => {
            map.insert(last.clone(), with);
        }
        (Value::Object(map), None) => {
            map.remove(last);
        }
        (Value::Array(items), Some(with)) => items[last.parse::<usize>().expect("an index")] = with,
        (Value::Array(items), None) => {
            items.remove(last.parse::<usize>().expect("an index"));
        }
        _ => {}
    }
}

/// The sample with one value (anywhere, the whole included) replaced by arbitrary JSON, or
/// removed.
pub fn mutation_of(sample: Value) -> BoxedStrategy<Value> {
    let mut all = Vec::new();
    paths(&sample, Vec::new(), &mut all);
    (proptest::sample::select(all), proptest::option::weighted(0.9, json()))
        .prop_map(move |(path, with)| {
            let mut mutated = sample.clone();
            replace(&mut mutated, &path, with);
            mutated
        })
        .boxed()
}

/// The property-test budget of the suite: a fixed number of cases (the test command runs in
/// minutes, not open-ended), and no regression files written into the source tree.
pub fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: Some(Box::new(FileFailurePersistence::Off)), ..Config::default() }
}

/// Checks `property` on `cases` mutations of `sample` (see [`mutation_of`]); on a failure,
/// proptest shrinks it and this panics with the smallest input that fails and why.
pub fn check_mutations(sample: Value, cases: u32, property: impl Fn(Value) -> Result<(), String>) {
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    let outcome =
        runner.run(&mutation_of(sample), |value| property(value).map_err(proptest::test_runner::TestCaseError::fail));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// The JSON body of a sample API Gateway event (`events/http/*.json`).
pub fn body_of(sample_event: &str) -> Value {
    let event: Value = serde_json::from_str(sample_event).expect("a sample is JSON");
    serde_json::from_str(event["body"].as_str().expect("the sample has a body")).expect("its body is JSON")
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_mutation_changes_at_most_one_place_of_the_sample() {
        let sample = json!({"a": {"b": [1, 2]}, "c": "x"});
        let mut runner = TestRunner::deterministic();
        let mut changed = 0;
        for _ in 0..50 {
            let value = mutation_of(sample.clone()).new_tree(&mut runner).unwrap().current();
            changed += usize::from(value != sample);
        }
        assert!(changed > 25, "most mutations change the sample ({changed}/50)");
    }
}
