//! Table tests of `NodeShouldRunDaemonPod` semantics, one row per operator and taint effect,
//! including the malformed inputs upstream tolerates (a parse error is a non-match).

use super::placement::{DaemonPlacement, Exclusion};
use crate::logic::fixtures::{ds, node};

fn verdict(
    spec: &str,
    labels: &[(&str, &str)],
    taints: &[(&str, &str, &str)],
) -> (bool, bool, Option<&'static str>) {
    let d = ds(spec);
    let p = DaemonPlacement::new(&d)
        .expect("template spec")
        .evaluate(&node("n1", labels, taints));
    (
        p.should_run,
        p.should_continue,
        p.exclusion.as_ref().map(|e| e.code().as_str()),
    )
}

fn affinity(exprs: &str) -> String {
    format!(
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n{exprs}"
    )
}

const RUN: (bool, bool, Option<&str>) = (true, true, None);
const NO_AFFINITY: (bool, bool, Option<&str>) = (false, false, Some("NodeAffinityMismatch"));

#[test]
fn node_selector_is_an_and_of_equalities() {
    let spec = "nodeSelector: {disktype: ssd, zone: a}";
    assert_eq!(
        verdict(spec, &[("disktype", "ssd"), ("zone", "a")], &[]),
        RUN
    );
    assert_eq!(
        verdict(spec, &[("disktype", "hdd"), ("zone", "a")], &[]),
        (false, false, Some("NodeSelectorMismatch"))
    );
    assert_eq!(
        verdict(spec, &[("zone", "a")], &[]).2,
        Some("NodeSelectorMismatch")
    );
}

#[test]
fn selector_sentence_names_wanted_and_actual() {
    let d = ds("nodeSelector: {disktype: ssd}");
    let p = DaemonPlacement::new(&d)
        .unwrap()
        .evaluate(&node("n1", &[("disktype", "hdd")], &[]));
    assert_eq!(
        p.exclusion.unwrap().sentence(),
        "nodeSelector needs disktype=ssd, node has disktype=hdd"
    );
}

#[test]
fn every_affinity_operator() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: &[Case] = &[
        (
            "{key: zone, operator: In, values: [a, b]}",
            &[("zone", "b")],
            true,
        ),
        (
            "{key: zone, operator: In, values: [a, b]}",
            &[("zone", "c")],
            false,
        ),
        ("{key: zone, operator: In, values: [a]}", &[], false),
        (
            "{key: zone, operator: NotIn, values: [a]}",
            &[("zone", "b")],
            true,
        ),
        ("{key: zone, operator: NotIn, values: [a]}", &[], true),
        (
            "{key: zone, operator: NotIn, values: [a]}",
            &[("zone", "a")],
            false,
        ),
        ("{key: gpu, operator: Exists}", &[("gpu", "")], true),
        ("{key: gpu, operator: Exists}", &[], false),
        ("{key: gpu, operator: DoesNotExist}", &[], true),
        ("{key: gpu, operator: DoesNotExist}", &[("gpu", "x")], false),
        (
            "{key: cores, operator: Gt, values: ['4']}",
            &[("cores", "8")],
            true,
        ),
        (
            "{key: cores, operator: Gt, values: ['4']}",
            &[("cores", "4")],
            false,
        ),
        (
            "{key: cores, operator: Gt, values: ['4']}",
            &[("cores", "many")],
            false,
        ),
        (
            "{key: cores, operator: Lt, values: ['4']}",
            &[("cores", "3")],
            true,
        ),
        ("{key: cores, operator: Lt, values: ['4']}", &[], false),
    ];
    for (expr, labels, matches) in cases {
        let spec = affinity(&format!("        - matchExpressions: [{expr}]"));
        let want = if *matches { RUN } else { NO_AFFINITY };
        assert_eq!(verdict(&spec, labels, &[]), want, "{expr} on {labels:?}");
    }
}

#[test]
fn malformed_expressions_never_match_like_upstream() {
    // A Gt with a non-integer, Exists with values, In without values, an unknown operator:
    // upstream's parse fails and the controller treats the term as non-matching.
    for expr in [
        "{key: cores, operator: Gt, values: ['four']}",
        "{key: cores, operator: Gt, values: ['1', '2']}",
        "{key: gpu, operator: Exists, values: [x]}",
        "{key: zone, operator: In, values: []}",
        "{key: zone, operator: Near, values: [a]}",
        "{key: 'bad key!', operator: Exists}",
    ] {
        let spec = affinity(&format!("        - matchExpressions: [{expr}]"));
        assert_eq!(
            verdict(&spec, &[("cores", "8"), ("gpu", "x"), ("zone", "a")], &[]),
            NO_AFFINITY,
            "{expr}"
        );
    }
    // ...but another valid term can still match: terms are ORed.
    let spec = affinity(
        "        - matchExpressions: [{key: cores, operator: Gt, values: ['four']}]\n        - matchExpressions: [{key: zone, operator: In, values: [a]}]",
    );
    assert_eq!(verdict(&spec, &[("zone", "a")], &[]), RUN);
}

#[test]
fn terms_are_ored_and_expressions_anded() {
    let spec = affinity(
        "        - matchExpressions: [{key: zone, operator: In, values: [a]}, {key: gpu, operator: Exists}]\n        - matchExpressions: [{key: zone, operator: In, values: [b]}]",
    );
    assert_eq!(verdict(&spec, &[("zone", "a"), ("gpu", "1")], &[]), RUN);
    assert_eq!(verdict(&spec, &[("zone", "a")], &[]), NO_AFFINITY);
    assert_eq!(verdict(&spec, &[("zone", "b")], &[]), RUN);
}

#[test]
fn empty_terms_select_nothing() {
    let spec = affinity("        - matchExpressions: []");
    assert_eq!(verdict(&spec, &[("zone", "a")], &[]), NO_AFFINITY);
}

#[test]
fn match_fields_on_metadata_name() {
    let on = affinity("        - matchFields: [{key: metadata.name, operator: In, values: [n1]}]");
    assert_eq!(verdict(&on, &[], &[]), RUN);
    let off =
        affinity("        - matchFields: [{key: metadata.name, operator: NotIn, values: [n1]}]");
    assert_eq!(verdict(&off, &[], &[]), NO_AFFINITY);
    let two =
        affinity("        - matchFields: [{key: metadata.name, operator: In, values: [n1, n2]}]");
    assert_eq!(
        verdict(&two, &[], &[]),
        NO_AFFINITY,
        "more than one value is a parse error"
    );
    let exists = affinity("        - matchFields: [{key: metadata.name, operator: Exists}]");
    assert_eq!(
        verdict(&exists, &[], &[]),
        NO_AFFINITY,
        "only In/NotIn are supported"
    );
}

#[test]
fn template_node_name_pins_the_daemonset() {
    assert_eq!(verdict("nodeName: n1", &[], &[]), RUN);
    assert_eq!(
        verdict("nodeName: n2", &[], &[]),
        (false, false, Some("NodeNameMismatch"))
    );
}

#[test]
fn taint_effects() {
    // NoSchedule: no new pod, an existing one may stay.
    assert_eq!(
        verdict("", &[], &[("dedicated", "gpu", "NoSchedule")]),
        (false, true, Some("UntoleratedTaint"))
    );
    // NoExecute: no pod at all.
    assert_eq!(
        verdict("", &[], &[("edge", "", "NoExecute")]),
        (false, false, Some("UntoleratedTaint"))
    );
    // PreferNoSchedule is ignored for placement.
    assert_eq!(verdict("", &[], &[("soft", "", "PreferNoSchedule")]), RUN);
}

#[test]
fn tolerations_match_by_key_value_effect_and_operator() {
    let taint = [("dedicated", "gpu", "NoSchedule")];
    let tolerated = [
        "tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]",
        "tolerations: [{key: dedicated, value: gpu}]",
        "tolerations: [{key: dedicated, operator: Exists}]",
        "tolerations: [{operator: Exists}]",
        "tolerations: [{operator: Exists, effect: NoSchedule}]",
    ];
    for t in tolerated {
        assert_eq!(verdict(t, &[], &taint), RUN, "{t}");
    }
    let not_tolerated = [
        "tolerations: [{key: dedicated, operator: Equal, value: cpu}]",
        "tolerations: [{key: dedicated, operator: Exists, effect: NoExecute}]",
        "tolerations: [{key: other, operator: Exists}]",
        // Numeric comparison operators are behind an alpha gate that is off by default.
        "tolerations: [{key: dedicated, operator: Gt, value: '1'}]",
    ];
    for t in not_tolerated {
        assert!(!verdict(t, &[], &taint).0, "{t}");
    }
}

#[test]
fn controller_default_tolerations() {
    for key in [
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable",
    ] {
        assert_eq!(verdict("", &[], &[(key, "", "NoSchedule")]), RUN, "{key}");
    }
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        assert_eq!(
            verdict("", &[], &[(key, "", "NoExecute")]),
            RUN,
            "{key}:NoExecute"
        );
        // Only the NoExecute variants are tolerated: NotReady nodes get no new daemon pods.
        assert_eq!(
            verdict("", &[], &[(key, "", "NoSchedule")]),
            (false, true, Some("UntoleratedTaint")),
            "{key}:NoSchedule"
        );
    }
    let net = [("node.kubernetes.io/network-unavailable", "", "NoSchedule")];
    assert!(!verdict("", &[], &net).0);
    assert_eq!(verdict("hostNetwork: true", &[], &net), RUN);
}

#[test]
fn no_execute_wins_over_no_schedule_for_should_continue() {
    let taints = [("a", "", "NoSchedule"), ("b", "", "NoExecute")];
    let d = ds("");
    let p = DaemonPlacement::new(&d)
        .unwrap()
        .evaluate(&node("n1", &[], &taints));
    assert!(!p.should_continue);
    assert_eq!(p.exclusion.unwrap().group(), "taint b:NoExecute");
}

#[test]
fn taint_sentence_offers_the_fixing_toleration() {
    let d = ds("");
    let p = DaemonPlacement::new(&d).unwrap().evaluate(&node(
        "n1",
        &[],
        &[("dedicated", "gpu", "NoSchedule")],
    ));
    assert_eq!(
        p.exclusion.unwrap().sentence(),
        "taint dedicated=gpu:NoSchedule is not tolerated; adding the toleration {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule} would allow it"
    );
}

/// Coverage and preview documents carry the grouped exclusions' codes as the same strings
/// `explain` gives.
#[test]
fn exclusion_groups_serialise_their_code_as_a_string() {
    let d = ds("tolerations: []");
    let placement = DaemonPlacement::new(&d).expect("template spec");
    let mut groups = super::placement::Exclusions::default();
    for name in ["n1", "n2"] {
        let n = node(name, &[], &[("dedicated", "gpu", "NoSchedule")]);
        let e: Exclusion = placement.evaluate(&n).exclusion.expect("excluded");
        groups.add(&e, name);
    }
    let json = serde_json::to_value(groups.into_groups()).expect("groups serialise");
    assert_eq!(
        json,
        serde_json::json!([{
            "code": "UntoleratedTaint",
            "reason": "taint dedicated=gpu:NoSchedule",
            "count": 2,
            "nodes": ["n1", "n2"],
        }])
    );
}
