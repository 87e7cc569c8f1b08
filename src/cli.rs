//! Command-line interface: arguments only; the work happens in the library crates.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use winback_domain::analysis::ModelKind;
use winback_domain::period::Period;
use winback_ingest::split::Delimiter;
use winback_ingest::transactions::Column;

const ABOUT: &str = "Find the customers you have lost, learn what they were worth, and win them back.";

const LONG_ABOUT: &str = "\
Find the customers you have lost, learn what they were worth, and win them back.

winback fits the 'buy till you die' models of customer-base analysis (BG/NBD,
Pareto/NBD, MBG/NBD, BG/BB, Gamma-Gamma spend, sBG retention) to your
transaction log, and tells for every customer the probability that they are
still active, the purchases and value to expect, and what is at stake if they
have gone.

Start here:
  winback predict --demo                      score the CDNOW demo customers
  winback fit --demo --format json            the fitted BG/NBD model, as JSON
  winback predict --transactions orders.csv --observation-end 2024-06-30
  winback summary --transactions orders.csv --observation-end 2024-06-30

Keep a history in a store (SQLite file by default, or --db postgres://…):
  winback import transactions orders.csv
  winback analyze
  winback customers --status lost";

#[derive(Debug, Parser)]
#[command(name = "winback", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// The store: a SQLite file (created on first use) or a postgres:// URL.
    #[arg(long, env = "WINBACK_DB", default_value = "winback.db", global = true, value_name = "URL")]
    pub db: String,
    /// More log output on stderr (-v: info, -vv: debug). RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a model by maximum likelihood and report its parameters and fit quality.
    #[command(long_about = "\
Fit a model by maximum likelihood and report its parameters, standard errors,
log-likelihood, AIC/BIC and whether the optimiser converged.

Non-contractual purchase models (bgnbd, paretonbd, mbgnbd) and the Gamma-Gamma
spend model (gammagamma) take per-customer summaries: --summary FILE with
columns frequency,recency,T (or x,t_x,T) and, for gammagamma, monetary_value
(or zbar); or --transactions FILE, summarised on the way.

  winback fit --demo
  winback fit --summary rfm.csv --model paretonbd --format json
  winback fit --transactions orders.csv --observation-end 2024-06-30 --period week

BG/BB (discrete purchase opportunities, e.g. yearly donations) takes
frequency,recency,periods[,weights]:

  winback fit --model bgbb --summary donations.csv

sBG (subscriptions, contracts) takes a survival table: a year or period column
and one column of survivor counts per segment:

  winback fit --model sbg --survival survivors.csv --segment regular --fit-periods 7")]
    Fit(FitArgs),
    /// Score every customer: probability alive, expected purchases and value, what is at stake.
    #[command(long_about = "\
Score every customer: the probability they are still active, the purchases to
expect in the horizon, expected spend per purchase (Gamma-Gamma), lifetime value
(discounted margin over the horizon) and the value at stake: (1 - P(alive))
times what they spent, so the most valuable customers who have probably left
come first.

With --calibration-end the log is split: models are fitted on the calibration
period and the holdout shows how well they predicted what happened next.

  winback predict --demo
  winback predict --transactions orders.csv --observation-end 2024-06-30 --horizon 90 --format csv > scores.csv
  winback predict --demo --calibration-end 1997-09-30 --observation-end 1998-06-30")]
    Predict(PredictArgs),
    /// Summarise a transaction log per customer (frequency, recency, T, monetary value).
    Summary(SummaryArgs),
    /// Import transactions, customers or events into the store.
    #[command(
        subcommand,
        long_about = "\
Import a file into the store (--db; default ./winback.db). Every line ends up
imported, skipped as a duplicate (same transaction id, or a row already
imported) or rejected with its line number and reason; duplicates and rejects
are listed in FILE.rejects.csv. An import is one database transaction: it lands
whole or not at all, and importing the same file again changes nothing.

  winback import transactions orders.csv
  winback import transactions pos_export.tsv.gz --customer-col client --amount-col total
  winback import customers crm.csv
  winback import events tickets.csv"
    )]
    Import(ImportCommand),
    /// Fit a model to the stored transactions and record every customer's scores.
    #[command(long_about = "\
Summarise the stored transactions, fit the purchase model (and Gamma-Gamma spend
when there are amounts), and record the run with one score row per customer, so
runs can be compared over time.

  winback analyze
  winback analyze --model paretonbd --period week --observation-end 2024-06-30")]
    Analyze(AnalyzeArgs),
    /// List stored customers with their latest scores, most value at stake first.
    Customers(CustomersArgs),
    /// Show one customer: details, consent, scores across runs, purchase history.
    Customer(CustomerArgs),
    /// Export customers with their latest scores as CSV or JSON.
    Export(ExportArgs),
    /// The store: `winback db status` shows the back end, migrations and row counts.
    #[command(subcommand)]
    Db(DbCommand),
    /// Write a synthetic transaction log drawn from a model with known parameters.
    #[command(long_about = "\
Write a synthetic transaction log (customer_id,date,amount) drawn from a model
with known parameters, for trying winback out or testing that a fit recovers
the truth. Parameters are per --time-unit (default week, as in the literature).

  winback simulate --customers 100000 --output sim.csv
  winback fit --transactions sim.csv --observation-end 2025-12-31 --time-unit week")]
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Where customer histories come from.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Per-customer summary CSV: frequency,recency,T (or x,t_x,T), optional monetary_value (or zbar) and id.
    #[arg(long, value_name = "FILE", group = "input")]
    pub summary: Option<PathBuf>,
    /// Transaction log (CSV, TSV, semicolon- or whitespace-separated) with customer, date and optional amount columns.
    #[arg(long, value_name = "FILE", group = "input")]
    pub transactions: Option<PathBuf>,
    /// Use the built-in CDNOW demo data (2,357 customers of an online music shop, 1997-98).
    #[arg(long, group = "input")]
    pub demo: bool,
    /// Last day observed (YYYY-MM-DD); later transactions are ignored. Required with --transactions.
    #[arg(long, value_name = "DATE", value_parser = winback_ingest::date::parse_cli_date)]
    pub observation_end: Option<chrono::NaiveDate>,
    /// Fit on purchases up to this day; later ones (to --observation-end) are the holdout.
    #[arg(long, value_name = "DATE", value_parser = winback_ingest::date::parse_cli_date)]
    pub calibration_end: Option<chrono::NaiveDate>,
    /// Purchases within one period count once.
    #[arg(long, default_value = "day", value_parser = parse_period)]
    pub period: Period,
    /// Unit for recency, T and horizons [default: the period].
    #[arg(long, value_parser = parse_period)]
    pub time_unit: Option<Period>,
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Write every rejected line (line number, reason) to this CSV file.
    #[arg(long, value_name = "FILE", help_heading = "Transaction file")]
    pub rejects: Option<PathBuf>,
}

/// How to read the columns of a transaction file.
#[derive(Debug, Args, Clone, Default)]
pub struct MappingArgs {
    /// Customer column: header name or 1-based position [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub customer_col: Option<Column>,
    /// Date column: header name or 1-based position [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub date_col: Option<Column>,
    /// Amount column: header name or 1-based position [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub amount_col: Option<Column>,
    /// Ignore amounts (count purchases only).
    #[arg(long, help_heading = "Transaction file")]
    pub no_amount: bool,
    /// Date format, chrono/strftime style, e.g. %d/%m/%Y [default: YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD].
    #[arg(long, value_name = "FMT", help_heading = "Transaction file")]
    pub date_format: Option<String>,
    /// Field delimiter: one character, 'tab' or 'whitespace' [default: detected].
    #[arg(long, help_heading = "Transaction file")]
    pub delimiter: Option<Delimiter>,
    /// The file has a header row [default: detected].
    #[arg(long, overrides_with = "no_header", help_heading = "Transaction file")]
    pub header: bool,
    /// The file has no header row.
    #[arg(long, help_heading = "Transaction file")]
    pub no_header: bool,
}

impl MappingArgs {
    pub fn header(&self) -> Option<bool> {
        if self.header {
            Some(true)
        } else if self.no_header {
            Some(false)
        } else {
            None
        }
    }
}

fn parse_period(s: &str) -> Result<Period, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Survival table for sBG: a year/period column and survivor counts per segment.
    #[arg(long, value_name = "FILE", group = "input")]
    pub survival: Option<PathBuf>,
    /// sBG: the segment (column) to fit [default: every segment].
    #[arg(long)]
    pub segment: Option<String>,
    /// sBG: fit on the first N periods only; later ones are shown against the projection.
    #[arg(long, value_name = "N")]
    pub fit_periods: Option<usize>,
    /// Model: bgnbd, paretonbd, mbgnbd, gammagamma, bgbb or sbg.
    #[arg(long, short, default_value = "bgnbd")]
    pub model: ModelKind,
    /// Annual discount rate for sBG residual value.
    #[arg(long, default_value_t = 0.10)]
    pub discount_rate: f64,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Purchase model: bgnbd, paretonbd, mbgnbd (or bgbb with a --summary of patterns).
    #[arg(long, short, default_value = "bgnbd")]
    pub model: ModelKind,
    /// Prediction horizon in time units [default: the holdout length, else one year].
    #[arg(long, value_name = "N")]
    pub horizon: Option<f64>,
    /// Share of revenue kept as profit, for lifetime value.
    #[arg(long, default_value_t = 1.0)]
    pub margin: f64,
    /// Annual discount rate for lifetime value.
    #[arg(long, default_value_t = 0.10)]
    pub discount_rate: f64,
    /// Show only the first N customers (tables default to 20; json and csv to all).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Show only the first N customers (tables default to 20).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[arg(long, short, value_enum, default_value = "csv")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Purchase model: bgnbd, paretonbd or mbgnbd.
    #[arg(long, short, default_value = "bgnbd")]
    pub model: ModelKind,
    /// Model parameters in the literature's order (r,alpha,a,b or r,alpha,s,beta)
    /// [default: the published CDNOW estimates].
    #[arg(long, value_delimiter = ',', num_args = 4)]
    pub params: Option<Vec<f64>>,
    /// Gamma-Gamma spend parameters p,q,gamma [default: 6.25,3.74,15.44]; 'none' for no amounts.
    #[arg(long, value_name = "P,Q,GAMMA")]
    pub spend: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    pub customers: usize,
    /// First purchases are spread over this many days from --start.
    #[arg(long, default_value_t = 84)]
    pub acquisition_days: u32,
    #[arg(long, default_value = "2025-01-01", value_parser = winback_ingest::date::parse_cli_date)]
    pub start: chrono::NaiveDate,
    #[arg(long, default_value = "2025-12-31", value_parser = winback_ingest::date::parse_cli_date)]
    pub observation_end: chrono::NaiveDate,
    /// Time unit of the parameters.
    #[arg(long, default_value = "week", value_parser = parse_period)]
    pub time_unit: Period,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A transaction log: customer, date, amount and optional id, cost, return flag, channel, store, product.
    Transactions(Box<ImportTransactionsArgs>),
    /// Customers: id, name, email, phone, preferred channel, consent, do-not-contact, flags, cost to serve, segment, tags, contract dates.
    Customers(ImportFileArgs),
    /// Events (touchpoints): customer, date, kind (support_ticket, complaint, late_delivery, return, call…); other columns are kept as attributes.
    Events(ImportFileArgs),
}

#[derive(Debug, Args)]
pub struct ImportTransactionsArgs {
    /// CSV, TSV or whitespace-separated file; .gz is decompressed.
    pub file: PathBuf,
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Transaction id column [default: detected, e.g. order_id, transaction_id, invoice].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub id_col: Option<Column>,
    /// Cost column (cost of goods, for margin) [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub cost_col: Option<Column>,
    /// Return/refund flag column [default: detected]; negative amounts are returns too.
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub return_col: Option<Column>,
    /// Channel column [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub channel_col: Option<Column>,
    /// Store column [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub store_col: Option<Column>,
    /// Product column [default: detected].
    #[arg(long, value_name = "COL", help_heading = "Transaction file")]
    pub product_col: Option<Column>,
    /// Import nothing (and fail) when more than this share of lines is rejected.
    #[arg(long, default_value_t = 0.01, value_name = "SHARE")]
    pub max_reject_rate: f64,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportFileArgs {
    /// CSV file with a header row; .gz is decompressed.
    pub file: PathBuf,
    /// Date format for date columns, e.g. %d/%m/%Y [default: ISO or YYYYMMDD].
    #[arg(long, value_name = "FMT")]
    pub date_format: Option<String>,
    /// Import nothing (and fail) when more than this share of lines is rejected.
    #[arg(long, default_value_t = 0.01, value_name = "SHARE")]
    pub max_reject_rate: f64,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Purchase model: bgnbd, paretonbd or mbgnbd.
    #[arg(long, short, default_value = "bgnbd")]
    pub model: ModelKind,
    /// Last day observed [default: the last stored transaction].
    #[arg(long, value_name = "DATE", value_parser = winback_ingest::date::parse_cli_date)]
    pub observation_end: Option<chrono::NaiveDate>,
    /// Purchases within one period count once.
    #[arg(long, default_value = "day", value_parser = parse_period)]
    pub period: Period,
    /// Unit for recency, T and horizons [default: the period].
    #[arg(long, value_parser = parse_period)]
    pub time_unit: Option<Period>,
    /// Prediction horizon in time units [default: one year].
    #[arg(long, value_name = "N")]
    pub horizon: Option<f64>,
    /// Share of revenue kept as profit, for lifetime value.
    #[arg(long, default_value_t = 1.0)]
    pub margin: f64,
    /// Annual discount rate for lifetime value.
    #[arg(long, default_value_t = 0.10)]
    pub discount_rate: f64,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Status {
    /// P(alive) at least 0.5 in the latest run.
    Active,
    /// P(alive) below 0.5 in the latest run.
    Lost,
    All,
}

#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[arg(long, value_enum, default_value = "all")]
    pub status: Status,
    /// Show only the first N customers (tables default to 20).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// The customer's id as imported.
    pub id: String,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "all")]
    pub status: Status,
    #[arg(long, short, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Back end, applied migrations and row counts.
    Status {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}
