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
transaction log, tells for every customer whether they are still active and
what they are worth, which lost customers are worth winning back and why they
left, holds them back until the cause is fixed, and measures win-back
campaigns against a random holdout.

Start here:
  winback demo                                a synthetic shop, end to end, in ./winback-demo

Models, straight from a file:
  winback predict --demo                      score the CDNOW demo customers
  winback fit --transactions orders.csv --observation-end 2024-06-30 --format json

Keep a history in a store (SQLite file by default, or --db postgres://…):
  winback import transactions orders.csv      (and customers, events: CSV, TSV, .gz, Parquet)
  winback analyze
  winback lost                                who is gone, and worth winning back
  winback reason add C042 --category price --detail \"cheaper at BeanBox\"
  winback fix add --title \"Late courier\" --categories delivery --systemic
  winback report defection --format html -o defection.html

Win them back, and measure it:
  winback campaign create spring --holdout 0.2 --dry-run
  winback campaign send spring --smtp smtp://mail.example.com:587
  winback campaign report spring";

#[derive(Debug, Parser)]
#[command(name = "winback", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// The store: a SQLite file (created on first use) or a postgres:// URL.
    #[arg(
        long,
        env = "WINBACK_DB",
        hide_env_values = true,
        default_value = "winback.db",
        global = true,
        value_name = "URL"
    )]
    pub db: String,
    /// Config file with status and decision thresholds and extra reason
    /// categories [default: ./winback.toml if present; `winback config init` writes one].
    #[arg(long, env = "WINBACK_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v: info, -vv: debug). RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
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
Import a file into the store (--db; default ./winback.db). Exports of Shopify
(orders, customers), Stripe (payments, customers, subscriptions), Etsy, PayPal,
Square, WooCommerce and the UCI Online Retail data set are recognised from their
header and read by their platform's rules; any other file by its columns.

Every line ends up imported, part of an order on another line, skipped by a
stated rule (a failed payment, a test order…), a duplicate (same transaction id,
or a row already imported) or rejected with its line number and reason; the
counts add up to the file's lines, and all but the imported ones are listed in
FILE.rejects.csv beside the store (or --rejects FILE). Dates (day or month
first) and the decimal mark are decided from the whole column. An import is one
database transaction: it lands whole or not at all, and importing the same file
again changes nothing.

  winback import transactions orders_export.csv          # a Shopify orders export, as it is
  winback import transactions orders.csv --date-format dmy --decimal comma
  winback import transactions pos_export.tsv.gz --customer-col client --amount-col total
  winback import customers customers_export.csv
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
    /// Export customers with their statuses and latest scores as CSV, JSON or Parquet.
    Export(ExportArgs),
    /// The store: `winback db status` shows the back end, migrations and row counts.
    #[command(subcommand)]
    Db(DbCommand),
    /// Lapsed, lost and churned customers: worth winning back or not, and why.
    #[command(long_about = "\
Every lapsed, lost or churned customer (from the latest `winback analyze` run),
most valuable first, with a decision and every reason for it:

  win_back       worth a win-back effort (value if won back, share of revenue)
  keep_in_touch  outgrew us, moved, or too little value to chase
  walk_away      flagged (fraud, abusive), do not contact, returns too much,
                 or never profitable after refunds and cost to serve

A customer whose reasons link to a root cause that is not fixed yet is HELD:
asking them back about a problem that still exists wastes the second chance.
Thresholds are in the config file (`winback config init`).

  winback lost
  winback lost --decision win_back --not-held --format csv > call-list.csv
  winback lost --status churned --format json")]
    Lost(LostArgs),
    /// Reasons customers gave for leaving: add, list, import.
    #[command(subcommand)]
    Reason(ReasonCommand),
    /// Root causes behind the reasons, tracked until fixed: add, list, update, close.
    #[command(subcommand)]
    Fix(FixCommand),
    /// Reports: defection (who left, why, what it cost), journey signals, own win-back rates.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Build a demo store from a synthetic shop and show what winback finds.
    #[command(long_about = "\
Generate a synthetic coffee shop (customers over two years with orders, refunds,
flags, support tickets, late deliveries and the reasons departed customers gave),
import it into a fresh SQLite store, fit BG/NBD and Gamma-Gamma, record the known
root causes, and print the headline: who was lost and what they were worth, the
top reasons by revenue, the open causes holding customers back, and the ten most
valuable customers to win back. Then explore with the commands it prints.

  winback demo
  winback demo --dir /tmp/shop --customers 10000 --seed 3")]
    Demo(DemoArgs),
    /// The config file: `init` writes the commented defaults, `show` prints what applies.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The playbook: which strategy, channel and message each customer gets.
    #[command(subcommand)]
    Playbook(PlaybookCommand),
    /// Win-back campaigns with a random holdout: create, preview, send, report.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Check-ins with won-back customers (14 and 60 days after they return).
    #[command(long_about = "\
Every customer a campaign won back gets check-ins 14 and 60 days after their
return. This lists them with what was recorded, and flags returned customers
who have lapsed again.

  winback followups --due
  winback followups --record spring-2026 C00042 --offset 14 --satisfied yes --score 9 --note \"happy again\"")]
    Followups(FollowupsArgs),
    /// Active customers who look like the ones who left, before they go.
    #[command(long_about = "\
Active (and at-risk) customers who are likely leaving, most expected loss
first, each with why and the playbook's suggested intervention.

The early warning starts from the model's P(alive) and weighs every touchpoint
a customer met since their last order (in the last 90 days) by how much more
common it was before customers left this shop than among those who stayed
(the journey signals' risk ratio, counted only when clearly above 1). Check how
far to trust it on your own history with `winback backtest`.

--rule lists instead whom the first rule flags: P(alive) dropped since the
previous analysis run, or an event of a kind an open root cause explains (a
late delivery while the delivery cause was open).

  winback at-risk
  winback at-risk --min-risk 0.5 --format csv
  winback at-risk --rule --min-drop 0.2")]
    AtRisk(AtRiskArgs),
    /// How far to trust the lists: replay the store on a past day and check them against what happened after.
    #[command(long_about = "\
Replay the store as it was on --as-of (purchases, touchpoints and reasons
known then; causes fixed later count as not yet fixed), fit the model as it
would have been fitted, build the lost, decision and at-risk lists, and
measure them against what customers did up to --until (default: the last
stored purchase). A customer 'came back' or 'stayed' if they bought again in
that window, and 'left' if they did not.

  lost       how many of those listed came back on their own, by value tier
             and decision (a win-back offer to them is spent for nothing)
  at-risk    precision, recall and lift over the base rate of the at-risk
             rule (P(alive) fell, an open cause's touchpoint) and of the early
             warning (P(alive) with the touchpoints that preceded defection,
             weighed on the history before --as-of only), and by reason listed
  model      expected repeat purchases after --as-of against those made

  winback backtest --as-of 2025-02-01 --until 2025-06-30
  winback backtest --as-of 2025-02-01 --format json")]
    Backtest(BacktestArgs),
    /// The web server: customers' exit survey and unsubscribe pages, and the signed-in app.
    #[command(long_about = "\
Serve the pages customers open from their emails and the app staff sign in to:

  /s/TOKEN   the exit survey: why they left, what they suggest, whether they
             would come back; the answer becomes reasons at once
  /u/TOKEN   unsubscribe: GET shows a button and changes nothing; POST (the
             button, or a mail provider's RFC 8058 one-click) records the opt-out
  /login     sign in (add users with `winback user add`), then the dashboard:
             overview, customers, root causes, campaigns (create, send with
             --smtp), reports, data (upload and import exports), playbook, users
  /health    answers ok

--public-url is the address customers reach (it builds the links; https turns
on Secure cookies and HSTS). Put a TLS-terminating proxy in front for https.
Stops cleanly on SIGTERM or Ctrl-C, finishing requests in flight.

  winback serve --listen 0.0.0.0:8080 --public-url https://shop.example")]
    Serve(ServeArgs),
    /// Web app users: add, list, disable.
    #[command(subcommand)]
    User(UserCommand),
    /// Exit-survey links for customers.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// Record an opt-out by hand, from an unsubscribe token.
    Unsubscribe {
        token: String,
        #[arg(long, default_value = "email")]
        channel: String,
    },
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

// Where customer histories come from (a plain comment: with deferred
// subcommands a doc comment here would become their about text).
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Per-customer summary CSV: frequency,recency,T (or x,t_x,T), optional monetary_value (or zbar) and id (`-`: standard input).
    /// A `;` or tab file may use decimal commas (30,4); --decimal settles a file that mixes marks.
    #[arg(long, value_name = "FILE", group = "input")]
    pub summary: Option<PathBuf>,
    /// Transaction log (CSV, TSV, semicolon- or whitespace-separated, gzip or Parquet) with customer, date and optional amount columns; `-` reads standard input.
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

// How to read the columns of a transaction file (a plain comment, as above).
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
    /// Date layout: dmy (31/12/2024), mdy (12/31/24), excel (Excel's date numbers, 45292), or a chrono/strftime
    /// pattern such as %d.%m.%Y [default: decided from the whole column: ISO dates (also 2024.12.31), month
    /// names (Jan 5, 2024; 05-Jan-2024), Excel date numbers, or day/month order from values above 12].
    #[arg(long, value_name = "FMT", help_heading = "Transaction file")]
    pub date_format: Option<String>,
    /// Text encoding: auto, utf-8 or windows-1252 (latin1). auto reads UTF-8, or Windows-1252 when the
    /// megabyte from the first byte that is not ASCII has bytes that are not UTF-8 and no UTF-8 character;
    /// UTF-16 is told by its byte-order mark.
    #[arg(long, value_name = "ENC", default_value = "auto", help_heading = "Transaction file")]
    pub encoding: winback_app::files::Encoding,
    /// Decimal mark of amounts: point (1,234.50) or comma (1.234,50) [default: decided from the whole column].
    #[arg(long, value_name = "MARK", help_heading = "Transaction file")]
    pub decimal: Option<winback_ingest::amount::Decimal>,
    /// Field delimiter: one character, 'tab' or 'whitespace' [default: detected].
    #[arg(long, help_heading = "Transaction file")]
    pub delimiter: Option<Delimiter>,
    /// The file has a header row [default: detected].
    #[arg(long, overrides_with = "no_header", help_heading = "Transaction file")]
    pub header: bool,
    /// The file has no header row.
    #[arg(long, help_heading = "Transaction file")]
    pub no_header: bool,
    /// Read a platform export (Shopify, Stripe, Etsy, PayPal…) as a plain table of columns instead of by
    /// its platform's rules.
    #[arg(long, help_heading = "Transaction file")]
    pub generic: bool,
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
    /// Model: bgnbd, paretonbd, mbgnbd, gammagamma, bgbb or sbg; auto compares the
    /// three purchase models on a holdout of the transactions and fits the best.
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
    /// Purchase model: bgnbd, paretonbd, mbgnbd, auto (the one that predicts a
    /// holdout of the transactions best), or bgbb with a --summary of patterns.
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
    #[arg(long, value_delimiter = ',')]
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
#[command(defer = true)]
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
    /// CSV, TSV or whitespace-separated file; .gz is decompressed; Parquet is read by its column names; `-` reads standard input.
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
    /// Write duplicate, skipped and rejected lines here [default: FILE.rejects.csv beside the store].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportFileArgs {
    /// CSV file with a header row (or Parquet); .gz is decompressed.
    pub file: PathBuf,
    /// Date layout of date columns: dmy, mdy, excel, or a pattern such as %d/%m/%Y [default: decided from
    /// the column].
    #[arg(long, value_name = "FMT")]
    pub date_format: Option<String>,
    /// Text encoding: auto, utf-8 or windows-1252 (latin1). auto reads UTF-8, or Windows-1252 when the
    /// megabyte from the first byte that is not ASCII has bytes that are not UTF-8 and no UTF-8 character.
    #[arg(long, value_name = "ENC", default_value = "auto")]
    pub encoding: winback_app::files::Encoding,
    /// Import nothing (and fail) when more than this share of lines is rejected.
    #[arg(long, default_value_t = 0.01, value_name = "SHARE")]
    pub max_reject_rate: f64,
    /// Write duplicate, skipped and rejected lines here [default: FILE.rejects.csv beside the store].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Purchase model: auto (fit BG/NBD, Pareto/NBD and MBG/NBD to the first two
    /// thirds of the history, keep the one that predicts the last third best),
    /// bgnbd, paretonbd or mbgnbd.
    #[arg(long, short, default_value = "auto")]
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
#[value(rename_all = "snake_case")]
pub enum Status {
    Active,
    AtRisk,
    Lapsed,
    Lost,
    Churned,
    /// Lapsed, lost or churned.
    Gone,
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

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    /// Snappy-compressed Parquet (needs --output).
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "all")]
    pub status: Status,
    #[arg(long, short, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum DbCommand {
    /// Back end, applied migrations and row counts.
    Status {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum DecisionArg {
    WinBack,
    KeepInTouch,
    WalkAway,
}

#[derive(Debug, Args)]
pub struct LostArgs {
    /// Only this decision.
    #[arg(long, value_enum)]
    pub decision: Option<DecisionArg>,
    /// Only this status (lapsed, lost or churned) [default: all three].
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Only customers held by an open root cause.
    #[arg(long, conflicts_with = "not_held")]
    pub held: bool,
    /// Only customers not held by an open root cause.
    #[arg(long)]
    pub not_held: bool,
    /// Only this segment (as imported with the customers; any case).
    #[arg(long)]
    pub segment: Option<String>,
    /// Only this value tier: top, mid or low (by net revenue, as the decision ranks them).
    #[arg(long, value_parser = ["top", "mid", "low"])]
    pub tier: Option<String>,
    /// Order: value (most valuable to win back first), recent (most recent last
    /// purchase first) or longest (longest since the last purchase first).
    #[arg(long, default_value = "value", value_parser = ["value", "recent", "longest"])]
    pub sort: String,
    /// Show only the first N customers (tables default to 20).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ReasonCommand {
    /// Record why a customer left.
    #[command(long_about = "\
Record why a customer left, from a call, an email, a survey or in person. The
category comes from the taxonomy (see `winback reason categories`); the reason
links to the most recent root cause covering its category unless --cause says
which.

  winback reason add C042 --category delivery --systemic --detail \"late twice\" --source call
  winback reason add C042 --category price --suggestion \"loyalty discount\" --source survey")]
    Add(ReasonAddArgs),
    /// List recorded reasons.
    List(ReasonListArgs),
    /// Import reasons from CSV (customer, category; optional scope, detail, suggestion, source, date, recorded_by, cause).
    #[command(long_about = "\
Import reasons from a CSV file with a header row. Required columns: customer
and category. Optional: scope (systemic|specific, default specific), detail,
suggestion, source (call|email|survey|in_person|import, default import), date,
recorded_by, cause (a root cause id). Any bad row (unknown customer or category,
bad date, wrong number of fields) fails the import with its line number, and
nothing is stored. Re-importing the same file adds nothing.")]
    Import(ReasonImportArgs),
    /// The reason categories in use (defaults plus the config's own).
    Categories {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub struct ReasonAddArgs {
    /// The customer's id as imported.
    pub customer: String,
    /// Reason category, e.g. price, delivery, poor_service, competitor, outgrew_us.
    #[arg(long)]
    pub category: String,
    /// Something many customers meet (a process, a policy).
    #[arg(long, conflicts_with = "specific")]
    pub systemic: bool,
    /// About this customer's experience only [the default].
    #[arg(long)]
    pub specific: bool,
    /// What the customer said.
    #[arg(long)]
    pub detail: Option<String>,
    /// What the customer suggested we do.
    #[arg(long)]
    pub suggestion: Option<String>,
    /// call, email, survey, in_person or import.
    #[arg(long, default_value = "call")]
    pub source: String,
    /// When the customer said it (YYYY-MM-DD) [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub date: Option<chrono::NaiveDate>,
    /// Who recorded it [default: $USER].
    #[arg(long)]
    pub by: Option<String>,
    /// Root cause id to link to [default: the latest cause covering the category].
    #[arg(long)]
    pub cause: Option<i64>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ReasonListArgs {
    /// Only this customer's reasons.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only this category.
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ReasonImportArgs {
    /// CSV file with a header row (or Parquet); .gz is decompressed.
    pub file: PathBuf,
    /// Date format, e.g. %d/%m/%Y [default: ISO or YYYYMMDD].
    #[arg(long)]
    pub date_format: Option<String>,
    /// Recorded by, for rows without a recorded_by column [default: import].
    #[arg(long, default_value = "import")]
    pub by: String,
    /// Text encoding: auto, utf-8 or windows-1252 (latin1), as for `import transactions`.
    #[arg(long, value_name = "ENC", default_value = "auto")]
    pub encoding: winback_app::files::Encoding,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum FixCommand {
    /// Record a root cause; unlinked reasons in its categories link to it.
    #[command(long_about = "\
Record a root cause: what went wrong, which reason categories it explains, and
the improvement to announce once fixed. Reasons in those categories that are not
linked yet link to it. Until it is fixed, customers whose reasons link to it are
held from outreach.

  winback fix add --title \"Late deliveries after the courier switch\" --categories delivery --systemic
  winback fix update 1 --status in_progress
  winback fix close 1 --announce \"we moved back to next-day delivery\"")]
    Add(FixAddArgs),
    /// List root causes with the customers they hold.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Change a root cause's title, categories, status, date fixed or announcement.
    Update(FixUpdateArgs),
    /// Mark a root cause fixed (or won't fix).
    Close(FixCloseArgs),
}

#[derive(Debug, Args)]
pub struct FixAddArgs {
    #[arg(long)]
    pub title: String,
    /// Reason categories it explains, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub categories: Vec<String>,
    /// Affects many customers (the default).
    #[arg(long, conflicts_with = "specific")]
    pub systemic: bool,
    /// Affected one customer or a few.
    #[arg(long)]
    pub specific: bool,
    /// open, in_progress, fixed or wont_fix.
    #[arg(long, default_value = "open")]
    pub status: String,
    /// Day it was fixed (YYYY-MM-DD), for a cause added as fixed [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub fixed_on: Option<chrono::NaiveDate>,
    /// The improvement to announce to customers.
    #[arg(long)]
    pub announce: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct FixUpdateArgs {
    pub id: i64,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, value_delimiter = ',')]
    pub categories: Option<Vec<String>>,
    /// open, in_progress, fixed or wont_fix.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub fixed_on: Option<chrono::NaiveDate>,
    #[arg(long)]
    pub announce: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct FixCloseArgs {
    pub id: i64,
    /// Day it was fixed [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub fixed_on: Option<chrono::NaiveDate>,
    /// Close as won't fix (customers it holds stay held).
    #[arg(long)]
    pub wont_fix: bool,
    /// The improvement to announce to customers.
    #[arg(long)]
    pub announce: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Html,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ReportCommand {
    /// Lost customers per month, reasons ranked by count and revenue, suggestions, open causes, SWOT.
    #[command(long_about = "\
The defection report, from the latest analysis run: how many customers were
lost (status lost or churned) per month and what they were worth; reasons
ranked by revenue lost (a Pareto view: each customer's net revenue is split
evenly over their distinct reasons) and by count; systemic vs specific; the
customers' own suggestions by category; the share of lost customers with no
recorded reason (the ones still to ask); open root causes ranked by the value
they hold back; and a SWOT summary drawn from the data.

  winback report defection
  winback report defection --since 2025-01-01 --format html -o defection.html")]
    Defection(DefectionArgs),
    /// The business's own win-back rates by reason and value tier, from the industry band as a prior.
    #[command(long_about = "\
Across all campaigns, the win-back rate of contacted (treatment) customers per
reason category and value tier. Each starts from the 20–40% industry band as a
Beta prior and shows how far the business's own evidence has moved it, with a
95% interval, so the playbook can be tuned on its own data.")]
    WinbackRates {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Which touchpoints (tickets, late deliveries, complaints…) precede defection.
    #[command(long_about = "\
For each event kind, the share of lost customers who had one in the window
before they were lost (their last purchase or event) against the share of
active customers who had one in the window before their own last purchase or
event, as a risk ratio with a 95% confidence interval (Katz log method).

  winback report journey
  winback report journey --window 60 --format json")]
    Journey(JourneyArgs),
}

#[derive(Debug, Args)]
pub struct DefectionArgs {
    /// Only customers lost on or after this day (YYYY-MM-DD).
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub since: Option<chrono::NaiveDate>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JourneyArgs {
    /// Days before defection (or before the analysis date) to look at.
    #[arg(long, default_value_t = 90)]
    pub window: i32,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo's CSV files and its SQLite store (winback.db).
    #[arg(long, default_value = "winback-demo")]
    pub dir: PathBuf,
    /// Customers in the synthetic shop.
    #[arg(long, default_value_t = 3000)]
    pub customers: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Fill this store instead of DIR/winback.db (e.g. a postgres:// URL); it
    /// should be empty, as the demo's root causes are added again on every run.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// What makes the shop's customers leave: `mixed` (each has a drop-out
    /// propensity of their own, and bad experiences add to it) or `events`
    /// (people leave only after late parcels, unanswered tickets, a rude
    /// assistant; the models' drop-out then does not vary between customers).
    #[arg(long, value_enum, default_value = "mixed")]
    pub churn: ChurnArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ChurnArg {
    Mixed,
    Events,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ConfigCommand {
    /// Write the commented default config.
    Init {
        #[arg(default_value = "winback.toml")]
        file: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the config that applies (file and defaults merged).
    Show,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum PlaybookCommand {
    /// Write the commented default playbook.
    Init {
        #[arg(default_value = "playbook.toml")]
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Validate a playbook and explain every problem with its line.
    Check {
        #[arg(default_value = "playbook.toml")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum Target {
    WinBack,
    KeepInTouch,
    All,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CampaignCommand {
    /// Select targets, split them into treatment and holdout, and freeze the campaign.
    #[command(long_about = "\
Select the customers to contact (by default: win_back decisions not held by an
unfixed cause, not contacted in the last --cap-days, with consent on a channel
their strategy uses), give each a strategy from the playbook, and split them at
random into treatment and a holdout that is never contacted, stratified by value
tier and reproducible with --seed. Before freezing, it says the smallest lift
the campaign can detect at its size, holdout share and window; --dry-run stops
there.

  winback campaign create spring --holdout 0.2 --window 60d --dry-run
  winback campaign create spring --holdout 0.2 --window 60d --seed 7")]
    Create(CampaignCreateArgs),
    /// List campaigns.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// List a campaign's members: arm (treatment or control), state (pending, sent, task,
    /// failed with the server's reply, claimed = unconfirmed, holdout), channel and strategy.
    Members {
        name: String,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Render the messages a campaign will send.
    Preview {
        name: String,
        /// Only this customer.
        #[arg(long)]
        customer: Option<String>,
        /// Show this many messages.
        #[arg(long, default_value_t = 3)]
        limit: usize,
    },
    /// Deliver: email over SMTP, a task list (CSV) for phone, SMS, mail and in person.
    #[command(long_about = "\
Send the campaign's treatment messages. Email goes over SMTP: --smtp or
WINBACK_SMTP_URL, e.g. smtp://127.0.0.1:25, smtp://user:pass@mail.example.com:587
or smtps://user:pass@mail.example.com:465. STARTTLS is used whenever the server
offers it and is required when the URL carries credentials (?tls=none to send
in clear). Phone, SMS, mail and in-person contacts go to a task list CSV for the
staff who will call or write.

A message the server does not take now (down, greylisting, a dropped
connection) is retried, then left pending for the next run; a recipient the
server refuses for good is marked failed with its reply, and the others go on.

Each member is claimed in the store before its message goes out and marked
after, so a send that stops half-way (crash, kill, network) can simply be run
again: it never sends twice to the same customer. Members claimed by a send
that stopped before confirming are reported, not resent.")]
    Send(CampaignSendArgs),
    /// Win-back rate of treatment vs holdout, lift with its 95% interval, revenue, offer cost, ROI.
    Report {
        name: String,
        /// Measure as of this day [default: the last stored transaction].
        #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Write simulated returns for a campaign with a known true lift (for testing and training).
    SimulateOutcomes {
        name: String,
        /// Share of held-out customers who come back anyway.
        #[arg(long, default_value_t = 0.1)]
        base_rate: f64,
        /// Extra share of treated customers who come back.
        #[arg(long, default_value_t = 0.15)]
        lift: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CampaignCreateArgs {
    pub name: String,
    /// Which decisions to target.
    #[arg(long, value_enum, default_value = "win_back")]
    pub target: Target,
    /// Share held out at random (never contacted) to measure what would have happened anyway.
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days after contact in which a purchase counts as won back (e.g. 60d or 60).
    #[arg(long, default_value = "60d", value_parser = parse_days)]
    pub window: i32,
    /// The win-back rate expected without contact, for the detectable-lift estimate.
    #[arg(long, default_value_t = 0.1)]
    pub base_rate: f64,
    /// Campaign date [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub start: Option<chrono::NaiveDate>,
    /// Skip customers contacted by any campaign in this many days before the start.
    #[arg(long, default_value_t = 30)]
    pub cap_days: i32,
    /// Also target customers held by an unfixed root cause.
    #[arg(long)]
    pub include_held: bool,
    /// Also select customers in the holdout of another campaign whose outcome
    /// window is still open. This spoils that campaign's comparison; its
    /// report will say how many of its holdout were contacted.
    #[arg(long)]
    pub include_holdouts: bool,
    /// Playbook file [default: ./playbook.toml if present, else the built-in default].
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    /// Show the selection and the detectable lift; freeze nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CampaignSendArgs {
    pub name: String,
    /// SMTP server URL [env: WINBACK_SMTP_URL].
    #[arg(long, env = "WINBACK_SMTP_URL", hide_env_values = true)]
    pub smtp: Option<String>,
    /// Task list for phone, SMS, mail and in-person contacts [default: NAME.tasks.csv].
    #[arg(long)]
    pub tasks: Option<PathBuf>,
    /// At most this many messages per second (mail servers limit rates).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Send at most this many now.
    #[arg(long)]
    pub limit: Option<usize>,
    /// The day the contacts happen [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub date: Option<chrono::NaiveDate>,
    /// Hand members claimed by a send that stopped before confirming back to
    /// pending, so they are sent now. Only after checking the mail server's log
    /// that they did not get the message.
    #[arg(long)]
    pub release_unconfirmed: bool,
    /// Tries per message when the server is down or answers "try later" (4xx), with
    /// the wait doubling from --retry-wait between them; a member still not sent
    /// stays pending for the next run.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,
    /// First wait between tries, in seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub retry_wait: f64,
    /// SMTP connections used at once, each reused for many messages. One
    /// connection manages about 20 messages a second (it waits on the network
    /// between messages); a server may limit connections per client.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub connections: usize,
}

#[derive(Debug, Args)]
pub struct FollowupsArgs {
    /// Only check-ins due (on or before --as-of) and not yet recorded.
    #[arg(long)]
    pub due: bool,
    /// The day to count from [default: today].
    #[arg(long, value_parser = winback_ingest::date::parse_cli_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Record a check-in: CAMPAIGN CUSTOMER.
    #[arg(long, num_args = 2, value_names = ["CAMPAIGN", "CUSTOMER"])]
    pub record: Option<Vec<String>>,
    /// Which check-in (days after return).
    #[arg(long, default_value_t = 14)]
    pub offset: i32,
    /// Was the customer satisfied (yes/no)?
    #[arg(long)]
    pub satisfied: Option<String>,
    /// Satisfaction score, 0 to 10.
    #[arg(long)]
    pub score: Option<i32>,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AtRiskArgs {
    /// List customers from this estimated risk of leaving up (the early warning).
    #[arg(long, default_value_t = 0.25)]
    pub min_risk: f64,
    /// The first rule instead: P(alive) fell by --min-drop since the previous
    /// run, or a touchpoint of an open cause in the window; by value at stake.
    #[arg(long)]
    pub rule: bool,
    /// With --rule: a fall in P(alive) at least this large since the previous run.
    #[arg(long, default_value_t = 0.1)]
    pub min_drop: f64,
    /// Days back to look for touchpoints.
    #[arg(long, default_value_t = 90)]
    pub window: i32,
    /// Playbook file [default: ./playbook.toml if present, else the built-in default].
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The day to replay the store on.
    #[arg(long, value_name = "DATE", value_parser = winback_ingest::date::parse_cli_date)]
    pub as_of: chrono::NaiveDate,
    /// The end of the outcome window [default: the last stored purchase].
    #[arg(long, value_name = "DATE", value_parser = winback_ingest::date::parse_cli_date)]
    pub until: Option<chrono::NaiveDate>,
    /// Purchase model (auto: the one that predicts a holdout before --as-of best).
    #[arg(long, short, default_value = "auto")]
    pub model: ModelKind,
    /// Purchases within one period count once.
    #[arg(long, default_value = "day", value_parser = parse_period)]
    pub period: Period,
    /// Unit of recency and T for the model [default: the period].
    #[arg(long, value_parser = parse_period)]
    pub time_unit: Option<Period>,
    /// Days before --as-of in which touchpoints count (and P(alive) is compared with its value then).
    #[arg(long, default_value_t = 90)]
    pub window: i32,
    /// The at-risk rule: a P(alive) fall at least this large.
    #[arg(long, default_value_t = 0.1)]
    pub min_drop: f64,
    /// The early warning lists customers from this estimated risk up.
    #[arg(long, default_value_t = 0.25)]
    pub min_risk: f64,
    /// Playbook file [default: ./playbook.toml if present, else the built-in default].
    #[arg(long)]
    pub playbook: Option<PathBuf>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The address customers' links point at [default: http://LISTEN].
    #[arg(long, env = "WINBACK_PUBLIC_URL", hide_env_values = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Survey and unsubscribe requests allowed per address per minute.
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub rate_limit: u32,
    /// Store connections shared by requests.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub connections: usize,
    /// Mail server for sending campaigns from the web app, as for `campaign send`
    /// (none: campaigns are sent from the command line).
    #[arg(long, env = "WINBACK_SMTP_URL", hide_env_values = true, value_name = "URL")]
    pub smtp: Option<String>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum UserCommand {
    /// Add a user. The password is asked for on a terminal, read from stdin
    /// with --password-stdin, or generated and printed once.
    #[command(long_about = "\
Add someone who signs in to `winback serve`. Owners do everything; staff view
and record reasons, calls and follow-ups but cannot send campaigns or manage
users. Passwords are stored as argon2id hashes, never in clear.

  winback user add owner@shop.example --role owner
  printf '%s' \"$PASSWORD\" | winback user add ana@shop.example --role staff --password-stdin")]
    Add {
        email: String,
        #[arg(long, default_value = "staff", value_parser = ["owner", "staff"])]
        role: String,
        /// Read the password (at least 12 characters) from stdin.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// List users.
    List {
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
    /// Disable a user and end their sessions.
    Disable { email: String },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SurveyCommand {
    /// Make a personal exit-survey link for a customer (a call, a reply to an
    /// email): whoever has the link can answer for them, so send it only to them.
    Link {
        /// One or more customer ids; several print "customer<TAB>link" lines.
        #[arg(required = true)]
        customers: Vec<String>,
        /// The server's public address [default: http://127.0.0.1:8080].
        #[arg(long, env = "WINBACK_PUBLIC_URL", hide_env_values = true, value_name = "URL")]
        public_url: Option<String>,
    },
}

fn parse_days(s: &str) -> Result<i32, String> {
    let t = s.trim().trim_end_matches(['d', 'D']);
    match t.parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{s}': give days, e.g. 60d")),
    }
}
