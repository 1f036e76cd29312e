//! The operator console. It grows in its own issue; until then it only says so.
fn main() {
    eprintln!("sentiment-tui: the operator console is not built yet; see the project's issues.");
    std::process::exit(2);
}
