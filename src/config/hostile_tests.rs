//! Hostile input: every wrong-typed value in the live config is reported at its own path,
//! and no text makes the loader panic.

use proptest::prelude::*;

use super::*;

const LIVE: &str = include_str!("../../configs/tickd.toml");

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every table key and list element under `value`: its steps and its user-facing path.
fn locations(
    value: &toml::Value,
    steps: Vec<Step>,
    path: String,
    out: &mut Vec<(Vec<Step>, String)>,
) {
    let children: Vec<(Step, String, &toml::Value)> = match value {
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, v)| (Step::Key(k.clone()), error::join(&path, k), v))
            .collect(),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::Index(i), format!("{path}[{i}]"), v))
            .collect(),
        _ => return,
    };
    for (step, child_path, child) in children {
        let mut child_steps = steps.clone();
        child_steps.push(step);
        out.push((child_steps.clone(), child_path.clone()));
        locations(child, child_steps, child_path, out);
    }
}

fn slot<'a>(root: &'a mut toml::Value, steps: &[Step]) -> Option<&'a mut toml::Value> {
    steps
        .iter()
        .try_fold(root, |node, step| match (step, node) {
            (Step::Key(k), toml::Value::Table(t)) => t.get_mut(k),
            (Step::Index(i), toml::Value::Array(a)) => a.get_mut(*i),
            _ => None,
        })
}

#[test]
fn every_wrong_type_is_reported_at_its_path() {
    // The live config plus an API key, so that every kind of section is present.
    let text = format!("{LIVE}\n[[gateway.api_keys]]\nkey = \"0123456789abcdef\"\n");
    let live: toml::Value = toml::from_str(&text).expect("configs/tickd.toml is TOML");
    if let Err(errs) = parse_config_with_cores(&text, 2) {
        panic!("the unmutated config must be valid:\n{errs}");
    }
    let mut all = Vec::new();
    locations(&live, Vec::new(), String::new(), &mut all);
    assert!(all.len() > 80, "walked only {} locations", all.len());
    let replacements = [
        toml::Value::Integer(-7),
        toml::Value::String("x".into()),
        toml::Value::Boolean(true),
        toml::Value::Array(vec![toml::Value::Integer(1)]),
        toml::Value::Table(toml::Table::new()),
    ];
    let mut checked = 0;
    for (steps, path) in &all {
        for replacement in &replacements {
            let mut doc = live.clone();
            let Some(target) = slot(&mut doc, steps) else {
                panic!("{path} not found again");
            };
            if std::mem::discriminant(target) == std::mem::discriminant(replacement) {
                continue;
            }
            *target = replacement.clone();
            let text = toml::to_string(&doc).expect("serialize");
            let errs = parse_config_with_cores(&text, 2)
                .expect_err(&format!("{path} = {replacement} was accepted"));
            assert!(
                errs.iter().any(|e| e.path == *path),
                "{path} = {replacement}: not reported at its path:\n{errs}"
            );
            assert!(
                errs.iter().all(|e| !e.path.is_empty() && !e.fix.is_empty()),
                "{errs}"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} mutations checked");
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_config_with_cores(&text, 2);
    }

    #[test]
    fn edited_live_config_never_panics(cuts in proptest::collection::vec((0usize..LIVE.len(), "[\\[\\]\"=.,{}a-z0-9 \n-]{0,3}"), 1..4)) {
        let mut text = LIVE.to_string();
        for (at, insert) in cuts {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let end = (at + insert.len()).min(text.len());
            let end = (end..=text.len()).find(|&e| text.is_char_boundary(e)).unwrap_or(text.len());
            text.replace_range(at..end, &insert);
        }
        if let Err(errs) = parse_config_with_cores(&text, 2) {
            prop_assert!(!errs.is_empty());
            prop_assert!(errs.iter().all(|e| !e.problem.is_empty()));
        }
    }
}
