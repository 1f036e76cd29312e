use clap::Parser;

use sentiment_tui::cli::Args;

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        // One readable line, not anyhow's Debug form (which adds a backtrace when
        // RUST_BACKTRACE is set): the terminal is already restored by now.
        eprintln!("sentiment-tui: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let socket = args.socket_path()?;
    // Read before any thread exists: `time` only trusts the local offset then.
    let offset = time::UtcOffset::current_local_offset()
        .map(|o| o.whole_seconds())
        .unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(sentiment_tui::run::run(socket, args.tick(), offset))
}
