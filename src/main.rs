//! winback: find the customers you have lost, learn why, and win them back.
//! The binary parses arguments and prints; the work is in the library crates.

mod cli;
mod commands;
mod input;
mod output;
mod progress;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match &cli.command {
        Command::Fit(a) => commands::fit::run(a),
        Command::Predict(a) => commands::predict::run(a),
        Command::Summary(a) => commands::summary::run(a),
        Command::Simulate(a) => commands::simulate::run(a),
        Command::Import(c) => commands::store::import(&cli.db, c),
        Command::Analyze(a) => commands::store::analyze(&cli.db, a),
        Command::Customers(a) => commands::store::customers(&cli.db, a),
        Command::Customer(a) => commands::store::customer(&cli.db, a),
        Command::Export(a) => commands::store::export(&cli.db, a),
        Command::Db(c) => commands::store::db(&cli.db, c),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
