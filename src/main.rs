//! winback: find the customers you have lost, learn why, and win them back.
//! The binary parses arguments and prints; the work is in the library crates.

mod cli;
mod commands;
mod config;
mod html;
mod input;
mod memory;
mod output;
mod progress;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        memory::for_batch();
    }
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
    match dispatch(&cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // output piped into `head` and the like: the reader has what it wanted
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once. The libraries' errors carry their
/// source's words in their own message (the web server shows only that), so
/// anyhow's `{:#}` would repeat them ("reading f.csv: not a log: not a log").
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let words = cause.to_string();
        if out.contains(&words) {
            continue;
        }
        if !out.is_empty() {
            out += ": ";
        }
        out += &words;
    }
    out
}

/// Run one parsed command line.
pub fn dispatch(cli: &Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match &cli.command {
        Command::Fit(a) => commands::fit::run(a),
        Command::Predict(a) => commands::predict::run(a),
        Command::Summary(a) => commands::summary::run(a),
        Command::Simulate(a) => commands::simulate::run(a),
        Command::Import(c) => commands::import::import(&cli.db, c),
        Command::Analyze(a) => commands::store::analyze(&cli.db, a),
        Command::Customers(a) => commands::customers::customers(&cli.db, config, a),
        Command::Customer(a) => commands::customers::customer(&cli.db, config, a),
        Command::Export(a) => commands::customers::export(&cli.db, config, a),
        Command::Db(c) => commands::store::db(&cli.db, c),
        Command::Lost(a) => commands::lost::run(&cli.db, config, a),
        Command::Reason(c) => commands::reasons::run(&cli.db, config, c),
        Command::Fix(c) => commands::fixes::run(&cli.db, config, c),
        Command::Report(c) => commands::report::run(&cli.db, config, c),
        Command::Demo(a) => commands::demo::run(a),
        Command::Config(c) => commands::config::run(config, c),
        Command::Playbook(c) => commands::campaign::playbook(config, c),
        Command::Campaign(c) => commands::campaign::run(&cli.db, config, c),
        Command::Followups(a) => commands::outcomes::followups(&cli.db, config, a),
        Command::AtRisk(a) => commands::outcomes::at_risk(&cli.db, config, a),
        Command::Backtest(a) => commands::backtest::run(&cli.db, config, a),
        Command::Serve(a) => commands::serve::run(&cli.db, config, a),
        Command::User(c) => commands::serve::user(&cli.db, c),
        Command::Survey(c) => commands::serve::survey(&cli.db, c),
        Command::Unsubscribe { token, channel } => commands::serve::unsubscribe(&cli.db, token, channel),
    }
}
