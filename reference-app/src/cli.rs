//! The command line: a subcommand (or none, to serve) and `--help`/`--version`. Everything
//! else is configured through the environment, which `--help` lists with the defaults.

use clap::{FromArgMatches as _, Parser, Subcommand};

/// The shop crates wired into one service.
#[derive(Debug, Parser)]
#[command(
    name = "reference-app",
    version,
    about = "The shop: catalog, carts, checkout, orders and accounts over HTTP, with its \
             storefront, admin console and API docs.",
    after_help = "Configured through environment variables: `--help` lists them with their defaults."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// What to do; `serve` when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub(crate) enum Command {
    /// Serve the shop until SIGTERM or SIGINT (the default): the API, the pages and /health on
    /// PORT, /metrics on SHOP_OPS_PORT.
    Serve,
    /// Apply the schema (SQL migrations, MongoDB indexes) of every configured store, then exit.
    /// Serving does it too; this is for a deploy step that should own it.
    Migrate,
    /// Delete what the retention policy no longer keeps, print the counts as one JSON line,
    /// and exit (for a cron job, or with SHOP_PURGE_INTERVAL_SECS=0).
    Purge,
    /// Exit 0 when the app on this host's PORT answers /health with 200, else 1 (for
    /// container health checks: the image has no shell or curl).
    Healthcheck,
}

impl Cli {
    /// Parses the process's arguments; `--help`, `--version` and mistakes print and exit
    /// (mistakes with code 2 and the usage).
    pub(crate) fn parse_args() -> Self {
        let environment = crate::environment::help();
        let matches = <Self as clap::CommandFactory>::command()
            .after_long_help(environment)
            .get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// The subcommand to run.
    pub(crate) fn subcommand(&self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
