//! `winback serve`, `winback user …`, `winback survey link`, and
//! `winback unsubscribe TOKEN`: parse, call, print.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use winback_app::accounts::{self, Role};
use winback_app::campaigns::today;

use crate::cli::{Format, ServeArgs, SurveyCommand, UserCommand};
use crate::output::{emit, emit_json, emit_rows, Rows};

pub fn unsubscribe(db: &str, token: &str, channel: &str) -> Result<()> {
    match super::store::open(db)?.opt_out(token, channel, today(), "command line")? {
        Some(id) => emit(&format!("opted out of {channel} (customer #{id})\n")),
        None => anyhow::bail!("no campaign member has the token '{token}'"),
    }
}

pub fn run(db: &str, config: Option<&Path>, a: &ServeArgs) -> Result<()> {
    let config = crate::config::load(config)?;
    let pool = winback_store::Pool::new(db, a.connections.max(1), Duration::from_secs(30))
        .with_context(|| format!("opening the store {}", super::store::redact(db)))?;
    let public_url = a.public_url.clone().unwrap_or_else(|| format!("http://{}", a.listen));
    anyhow::ensure!(
        public_url.starts_with("http://") || public_url.starts_with("https://"),
        "--public-url must start with http:// or https://"
    );
    let limits = winback_web::Limits { public_per_minute: a.rate_limit, ..Default::default() };
    // task lists beside a SQLite store, else in the working directory
    let tasks_dir = winback_store::sqlite_path(db)
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| ".".into());
    if let Some(url) = &a.smtp {
        winback_app::send::Smtp::new(url, 1, 0, Duration::from_secs(1)).context("--smtp")?;
    }
    let opts = winback_web::Options {
        public_url: public_url.clone(),
        limits,
        smtp: a.smtp.clone(),
        tasks_dir,
        playbook: "playbook.toml".into(),
        config_file: config.source.clone().unwrap_or_else(|| "winback.toml".into()),
    };
    let state = winback_web::AppState::new(pool, config, &opts);
    winback_web::run(&a.listen, state, |addr| {
        eprintln!("winback serve: listening on http://{addr}; links point at {public_url} (Ctrl-C or SIGTERM stops)");
    })
    .with_context(|| format!("serving on {}", a.listen))
}

pub fn user(db: &str, cmd: &UserCommand) -> Result<()> {
    let mut store = super::store::open(db)?;
    match cmd {
        UserCommand::Add { email, role, password_stdin, format } => {
            let role: Role = role.parse()?;
            let (password, generated) = if *password_stdin {
                let mut p = String::new();
                std::io::stdin().read_to_string(&mut p).context("reading the password from stdin")?;
                (p.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                match prompt_password()? {
                    Some(p) => (p, false),
                    None => (accounts::generate_password(), true),
                }
            };
            let u = accounts::add_user(store.as_mut(), email, role, &password)?;
            if *format == Format::Json {
                let mut v = json!({"user": u});
                if generated {
                    v["password"] = json!(password);
                }
                return emit_json(&v);
            }
            let mut s = format!("added {} ({})\n", u.email, u.role);
            if generated {
                s += &format!("password: {password}\n(shown once: it is stored only as a hash)\n");
            }
            emit(&s)
        }
        UserCommand::List { format } => {
            let mut rows = Rows::for_format(vec!["email", "role", "status", "created_at"], *format);
            for u in store.users()? {
                rows.push(vec![
                    json!(u.email),
                    json!(u.role),
                    json!(if u.disabled { "disabled" } else { "active" }),
                    json!(u.created_at),
                ]);
            }
            emit_rows(rows, *format, 0)
        }
        UserCommand::Disable { email } => {
            accounts::set_disabled(store.as_mut(), email, true)?;
            emit(&format!("disabled {email}; their sessions are ended\n"))
        }
    }
}

/// Ask for a password on the terminal, twice, without echo; `None` when stdin
/// is not a terminal or the answer is empty (a password is then generated).
fn prompt_password() -> Result<Option<String>> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let read = |label: &str| -> Result<String> {
        eprint!("{label}");
        let stty = |arg: &str| {
            std::process::Command::new("stty")
                .arg(arg)
                .stdin(std::process::Stdio::inherit())
                .status()
                .is_ok_and(|s| s.success())
        };
        let quiet = stty("-echo");
        let mut line = String::new();
        let r = std::io::stdin().lock().read_line(&mut line);
        if quiet {
            stty("echo");
        }
        eprintln!();
        r.context("reading the password")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let p = read("password for the new user (at least 12 characters; Enter alone generates one): ")?;
    if p.is_empty() {
        return Ok(None);
    }
    accounts::check_password(&p)?;
    anyhow::ensure!(read("the same again: ")? == p, "the two passwords differ; nothing was added");
    Ok(Some(p))
}

pub fn survey(db: &str, cmd: &SurveyCommand) -> Result<()> {
    let SurveyCommand::Link { customers, public_url } = cmd;
    let base = public_url.as_deref().unwrap_or("http://127.0.0.1:8080").trim_end_matches('/');
    let pattern = format!("{base}/s/{{token}}");
    let mut store = super::store::open(db)?;
    if let [one] = customers.as_slice() {
        return emit(&format!("{}\n", winback_app::survey::link(store.as_mut(), one, &pattern)?));
    }
    let mut out = String::new();
    for c in customers {
        out += &format!("{c}\t{}\n", winback_app::survey::link(store.as_mut(), c, &pattern)?);
    }
    emit(&out)
}
