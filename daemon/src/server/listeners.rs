//! The data directory, the operator socket, signals and periodic chores.

use crate::config::ServeConfig;
use crate::state::SharedState;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Creates the data directory and the socket's directory, owner-only (0700): the
/// socket's permissions are the operator's credential, so nobody else may even reach it.
pub fn prepare_data_dir(config: &ServeConfig) -> Result<()> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let run = config
        .socket_path()
        .parent()
        .expect("the socket lives in a directory")
        .to_path_buf();
    std::fs::create_dir_all(&run).with_context(|| format!("cannot create {}", run.display()))?;
    for path in [dir.as_path(), run.as_path()] {
        // Only chmod when needed: on a read-only data directory the chmod itself would
        // fail and hide the real problem, which the store then reports by name.
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o777 == 0o700 {
            continue;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private (chmod 700)", path.display()))?;
    }
    Ok(())
}

/// Binds the Unix socket with mode 0600, replacing a stale file but never a live daemon.
/// A std listener (non-blocking), so that it can be bound before the async runtime
/// starts: `serve` binds before anything slow.
pub fn bind_socket(path: &Path) -> Result<std::os::unix::net::UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!(
                "another sentimentd is already serving this data directory (its socket {} answers); stop it or use another --data-dir",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
    }
    let listener = match std::os::unix::net::UnixListener::bind(path) {
        Ok(listener) => listener,
        Err(error) if error.kind() == std::io::ErrorKind::ReadOnlyFilesystem => bail!(
            "cannot create the socket {}: the data directory is read-only ({error}); make it \
             writable: the daemon writes its socket, its store and its models there",
            path.display()
        ),
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot create the socket {}", path.display()))
        }
    };
    listener
        .set_nonblocking(true)
        .with_context(|| format!("cannot set up the socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod 600 {}", path.display()))?;
    Ok(listener)
}

/// SIGINT or SIGTERM: stop accepting, let in-flight requests finish.
pub async fn watch_signals(state: SharedState) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the daemon with SIGKILL");
        return;
    };
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(signal = name, "shutting down: finishing in-flight requests");
    let _ = state.shutdown.send(true);
}
