//! `sentimentd serve`.

use crate::cli::ServeArgs;
use crate::{config, server};
use anyhow::Result;

pub fn run(args: ServeArgs) -> Result<()> {
    let config = config::resolve(&args)?;
    server::init_logging(config.log_format);
    server::run(config)
}
