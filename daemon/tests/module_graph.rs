//! The daemon's modules depend one way: `scripts/module_graph.py` finds no cycle.

use std::path::Path;
use std::process::Command;

#[test]
fn the_daemons_module_graph_has_no_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("python3")
        .arg(root.join("scripts/module_graph.py"))
        .arg(root.join("daemon/src"))
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("no cycles"), "{stderr}");
    // The checker sees the layers it is meant to: a module below `tasks` naming
    // the shared state would show here.
    let graph = String::from_utf8_lossy(&out.stdout);
    for module in ["retrain", "hub", "config", "cli"] {
        let line = graph
            .lines()
            .find(|l| l.starts_with(&format!("{module} -> ")))
            .unwrap_or_else(|| panic!("no line for {module}:\n{graph}"));
        assert!(!line.contains("state"), "{line}");
    }
}
