//! Command-line options.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The operator console for sentimentd: live predictions, the review queue, model
/// versions, metrics and alerts, over the daemon's local socket.
#[derive(Debug, Parser)]
#[command(
    name = "sentiment-tui",
    version,
    after_help = "\
Tabs: 1 Live · 2 Queue · 3 Models · 4 Metrics · 5 Alerts (Tab cycles). Press ? for every key.
Queue review: p positive · n negative · a accept · x reject · s skip — each moves to the next item.

The console only needs the socket (its file permissions are the credential). It
reconnects by itself when the daemon restarts.

Examples:
  sentiment-tui                                  # daemon with the default data dir
  sentiment-tui --data-dir /srv/sentimentd
  sentiment-tui --socket /tmp/x/run/sentimentd.sock"
)]
pub struct Args {
    /// The daemon's socket. Default: DATA_DIR/run/sentimentd.sock
    #[arg(long, value_name = "PATH", env = "SENTIMENT_SOCKET")]
    pub socket: Option<PathBuf>,

    /// The daemon's data directory, used to find its socket.
    /// Default: $XDG_DATA_HOME/sentimentd (~/.local/share/sentimentd)
    #[arg(long, value_name = "DIR", env = "SENTIMENT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// How often the screen is redrawn, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(16..=5000))]
    pub tick_ms: u64,
}

impl Args {
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    /// `--socket`, else the socket in `--data-dir`, else in the default data dir.
    pub fn socket_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(s) = &self.socket {
            return Ok(s.clone());
        }
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => dirs::data_dir()
                .ok_or_else(|| {
                    anyhow::anyhow!("no home data directory; pass --socket or --data-dir")
                })?
                .join("sentimentd"),
        };
        Ok(dir.join("run").join("sentimentd.sock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_comes_from_flag_then_data_dir() {
        let a = Args::try_parse_from(["t", "--data-dir", "/d", "--socket", "/s.sock"]).unwrap();
        assert_eq!(a.socket_path().unwrap(), PathBuf::from("/s.sock"));
        let a = Args::try_parse_from(["t", "--data-dir", "/d"]).unwrap();
        assert_eq!(
            a.socket_path().unwrap(),
            PathBuf::from("/d/run/sentimentd.sock")
        );
    }
}
