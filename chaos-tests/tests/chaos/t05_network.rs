//! The partition nemesis's network: namespaces and links appear, cuts become `prohibit` routes on
//! both sides and disappear on heal, a second run on the same slot is refused, and nothing is
//! left behind afterwards, even when an earlier run left leftovers. Needs root (CI runs as root).

use std::collections::BTreeSet;
use std::process::Command;

use chaos_tests::netns::remaining;
use chaos_tests::netns::NetError;
use chaos_tests::netns::Network;

/// A slot of its own, apart from the runs' slot.
const SLOT: u8 = 202;

fn routes(namespace: &str) -> String {
    let output = Command::new("ip").args(["-n", namespace, "route", "show"]).output().expect("ip runs");
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn namespaces_cuts_and_cleanup() {
    let prefix = format!("sovc{SLOT}-");
    // A leftover of a run that died: removed when the next network of the slot is created.
    let _ = Command::new("ip").args(["netns", "add", &format!("{prefix}n9")]).status();
    let mut network = Network::create(SLOT, 3).expect("root and ip netns are available");
    let present: BTreeSet<String> = remaining(&prefix).into_iter().collect();
    let mut expected: BTreeSet<String> =
        ["br", "n1", "n2", "n3", "v1", "v2", "v3"].iter().map(|s| format!("{prefix}{s}")).collect();
    assert_eq!(present, expected, "the bridge, a namespace per node and each node's veth");
    assert!(matches!(Network::create(SLOT, 3), Err(NetError::SlotBusy { .. })), "a busy slot is refused");

    network.cut(1, 2).expect("cut");
    assert!(routes(&network.namespace(1)).contains(&format!("prohibit {}", network.node_ip(2))));
    assert!(routes(&network.namespace(2)).contains(&format!("prohibit {}", network.node_ip(1))));
    assert!(!routes(&network.namespace(3)).contains("prohibit"));
    network.heal().expect("heal");
    assert!(!routes(&network.namespace(1)).contains("prohibit"));
    assert!(!routes(&network.namespace(2)).contains("prohibit"));

    drop(network);
    expected.clear();
    let present: BTreeSet<String> = remaining(&prefix).into_iter().collect();
    assert_eq!(present, expected, "everything of the slot is deleted");
}
