//! Property-based fuzzing of everything that parses user input: label selectors, manifests and
//! durations. Bounded (a few thousand cases, seconds) so it runs in the normal test command;
//! the properties are "never panics" and "what parses, round-trips".

use kubectl_ds::logic::apimachinery::labels::parse_selector;
use kubectl_ds::logic::manifest;
use kubectl_ds::settings::parse_timeout;
use proptest::prelude::*;

const DS: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
      - name: c
        image: registry.example/agent:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
        ports: [{containerPort: 9100, hostPort: 9100}]
";

/// Strings made of the selector grammar's pieces, to reach deep into the parser.
fn selector_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a".to_string()),
        Just("app".to_string()),
        Just("example.com/role".to_string()),
        Just("in".to_string()),
        Just("notin".to_string()),
        Just("=".to_string()),
        Just("==".to_string()),
        Just("!=".to_string()),
        Just("!".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        Just(">".to_string()),
        Just("<".to_string()),
        Just("5".to_string()),
        "[a-zA-Z0-9._/-]{0,8}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn selectors_never_panic_and_round_trip(s in prop_oneof![selector_like(), any::<String>()]) {
        if let Ok(sel) = parse_selector(&s) {
            let again = parse_selector(&sel.to_string());
            prop_assert!(again.is_ok(), "{s:?} printed as {:?} does not parse", sel.to_string());
            prop_assert_eq!(again.unwrap(), sel);
        }
    }

    #[test]
    fn durations_never_panic(s in "[0-9a-z.]{0,12}") {
        let _ = parse_timeout(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn manifests_never_panic(text in any::<String>()) {
        let _ = manifest::read("fuzz.yaml", &text);
    }

    #[test]
    fn mutated_manifests_never_panic(edits in prop::collection::vec((0usize..DS.len(), any::<char>(), 0u8..3), 1..8)) {
        let mut text: Vec<char> = DS.chars().collect();
        for (at, c, op) in edits {
            let at = at.min(text.len().saturating_sub(1));
            match op {
                0 => text[at] = c,
                1 => { text.remove(at); }
                _ => text.insert(at, c),
            }
        }
        let text: String = text.into_iter().collect();
        let _ = manifest::read("fuzz.yaml", &text);
    }
}

#[test]
fn deeply_nested_and_huge_documents_are_errors_not_crashes() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(manifest::read("deep.yaml", &deep).is_err());
    let deep_map = "a:\n".to_string()
        + &(1..2000)
            .map(|i| format!("{}b:\n", " ".repeat(i)))
            .collect::<String>();
    assert!(manifest::read("deep-map.yaml", &deep_map).is_err());
    let many = (0..5000)
        .map(|i| {
            DS.replace(
                "name: agent, namespace",
                &format!("name: agent-{i}, namespace"),
            )
        })
        .collect::<Vec<_>>()
        .join("---\n");
    assert_eq!(
        manifest::read("many.yaml", &many).map(|m| m.daemonsets.len()),
        Ok(5000)
    );
}
