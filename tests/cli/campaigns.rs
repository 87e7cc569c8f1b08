//! Campaigns end to end against a real SMTP server (aiosmtpd, started here and
//! writing a maildir), on SQLite and PostgreSQL: selection with consent and a
//! frequency cap, personalised messages with unsubscribe links, a send killed
//! half-way and resumed without a second message to anyone, the unsubscribe
//! route, and a simulated known lift recovered by the report.
//!
//! The SMTP server needs Python with aiosmtpd: `WINBACK_TEST_SMTP_PYTHON` names
//! that Python (`.ci/run` installs it in a venv); without it these tests say so
//! and skip.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::store::stores;

pub(crate) struct Smtp {
    child: Child,
    pub(crate) port: u16,
    pub(crate) maildir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The faulty server of `tests/smtp/faulty_smtp.py` on `port`, with its flags.
pub(crate) fn faulty_smtp(dir: &Path, port: u16, flags: &[&str]) -> Option<Smtp> {
    let python = std::env::var("WINBACK_TEST_SMTP_PYTHON").ok()?;
    let maildir = dir.join("maildir");
    let script = format!("{}/tests/smtp/faulty_smtp.py", env!("CARGO_MANIFEST_DIR"));
    let child = Command::new(&python)
        .arg(&script)
        .arg(port.to_string())
        .arg(&maildir)
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script} with {python}: {e}"));
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "the SMTP server did not start on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Smtp { child, port, maildir })
}

pub(crate) fn smtp(dir: &Path) -> Option<Smtp> {
    let python = match std::env::var("WINBACK_TEST_SMTP_PYTHON") {
        Ok(p) => p,
        Err(_) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "campaign tests: skipping (set WINBACK_TEST_SMTP_PYTHON to a Python with aiosmtpd; .ci/run does)"
            );
            return None;
        }
    };
    let port = free_port();
    let maildir = dir.join("maildir");
    let child = Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start aiosmtpd with {python}: {e}"));
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "aiosmtpd did not start on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Smtp { child, port, maildir })
}

/// Every message in the maildir: (headers lower-cased name → value, body).
pub(crate) fn mails(dir: &Path) -> Vec<(HashMap<String, String>, String)> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else { return Vec::new() };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|raw| {
            let raw = raw.replace("\r\n", "\n");
            let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
            let mut h = HashMap::new();
            let mut last = String::new();
            for line in head.lines() {
                if line.starts_with([' ', '\t']) {
                    if let Some(v) = h.get_mut(&last) {
                        *v = format!("{v} {}", line.trim());
                    }
                } else if let Some((k, v)) = line.split_once(':') {
                    last = k.trim().to_lowercase();
                    h.insert(last.clone(), v.trim().to_string());
                }
            }
            let body = if h.get("content-transfer-encoding").is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
            {
                quoted_printable(body)
            } else {
                body.to_string()
            };
            (h, body)
        })
        .collect()
}

/// Undo quoted-printable (RFC 2045 §6.7): soft line breaks and =XX bytes.
fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn members(campaign_json: &Value) -> usize {
    campaign_json["selected"].as_u64().unwrap() as usize
}

fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|x| h.iter().cloned().zip(x.unwrap().iter().map(String::from)).collect()).collect()
}

fn http_get(port: u16, path: &str) -> String {
    http(port, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
}

/// A POST as a mail provider sends RFC 8058 one-click unsubscribes.
fn http_post(port: u16, path: &str, body: &str) -> String {
    http(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn campaign_with_holdout_real_smtp_crash_resume_unsubscribe_and_known_lift() {
    for db in stores("campaigns") {
        let Some(smtp) = smtp(&db.dir) else { return };
        let url = format!("smtp://127.0.0.1:{}", smtp.port);
        let shop = db.file("shop");
        db.ok(&["demo", "--dir", shop.to_str().unwrap(), "--customers", "1500", "--seed", "11", "--store", &db.url]);
        let customers: HashMap<String, HashMap<String, String>> =
            csv_rows(&shop.join("customers.csv")).into_iter().map(|c| (c["customer_id"].clone(), c)).collect();

        // a tiny campaign first: the detectable lift warns
        let small = db.json(&[
            "campaign",
            "create",
            "tiny",
            "--target",
            "keep_in_touch",
            "--holdout",
            "0.1",
            "--dry-run",
            "-f",
            "json",
        ]);
        assert_eq!(small["frozen"], false);
        assert!(small["detectable_lift"].as_f64().unwrap() > 0.2, "{small}");

        let spring = db.json(&[
            "campaign",
            "create",
            "spring",
            "--holdout",
            "0.2",
            "--start",
            "2026-01-05",
            "--seed",
            "3",
            "-f",
            "json",
        ]);
        let n = members(&spring);
        let (n_t, n_c) = (spring["treatment"].as_u64().unwrap(), spring["control"].as_u64().unwrap());
        assert_eq!(n_t + n_c, n as u64);
        assert!((n_c as f64 / n as f64 - 0.2).abs() < 0.01);
        let lost = db.json(&["lost", "--decision", "win_back", "--not-held", "-f", "json"]);
        assert!(n <= lost.as_array().unwrap().len());
        let out = db.run(&["campaign", "create", "spring", "--start", "2026-01-05"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));

        // send, then check what the server received
        let tasks = db.file("spring.tasks.csv");
        let sent = db.ok(&[
            "campaign",
            "send",
            "spring",
            "--smtp",
            &url,
            "--date",
            "2026-01-05",
            "--tasks",
            tasks.to_str().unwrap(),
        ]);
        let got = mails(&smtp.maildir);
        let task_rows = csv_rows(&tasks);
        assert!(sent.contains(&format!("{} emails sent, {} tasks", got.len(), task_rows.len())), "{sent}");
        assert_eq!(got.len() + task_rows.len(), n_t as usize, "every treated member contacted once, nobody held out");
        let by_email: HashMap<&str, &HashMap<String, String>> =
            customers.values().map(|c| (c["email"].as_str(), c)).collect();
        let mut tokens = Vec::new();
        for (h, body) in &got {
            let to = h["to"].rsplit('<').next().unwrap().trim_end_matches('>');
            let c = by_email.get(to).unwrap_or_else(|| panic!("mail to unknown {to}"));
            assert_eq!(c["consent_email"], "yes", "{to} never consented to email");
            assert_eq!(c["do_not_contact"], "no");
            let first = c["name"].split(' ').next().unwrap();
            assert!(h["subject"].contains(first), "subject names the customer: {}", h["subject"]);
            assert!(body.contains(&format!("Hello {first},")), "{body}");
            if h["subject"].contains("may we ask why") {
                // no reason known: the survey first, no offer
                assert!(body.contains("/s/") && !body.contains("WB-"), "{body}");
            } else {
                assert!(body.contains("WB-"), "an offer code: {body}");
            }
            let token = body.split("/u/").nth(1).expect("an unsubscribe link").split_whitespace().next().unwrap();
            assert_eq!(token.len(), 32);
            assert!(h["list-unsubscribe"].contains(token));
            tokens.push(token.to_string());
        }
        for t in &task_rows {
            assert_ne!(t["channel"], "email");
            let c = &customers[&t["customer"]];
            let consent = format!("consent_{}", t["channel"]);
            assert_eq!(c[&consent], "yes", "{} has no {} consent", t["customer"], t["channel"]);
        }
        // the held-out members got nothing
        let contacted: HashSet<String> =
            got.iter().map(|(h, _)| h["to"].rsplit('<').next().unwrap().trim_end_matches('>').to_string()).collect();
        assert_eq!(contacted.len(), got.len(), "one message per address");

        // a second campaign right after: the frequency cap keeps the contacted ones out
        let summer = db.json(&[
            "campaign",
            "create",
            "summer",
            "--target",
            "all",
            "--holdout",
            "0.1",
            "--start",
            "2026-01-20",
            "--seed",
            "4",
            "--include-held",
            "-f",
            "json",
        ]);
        assert!(members(&summer) > 50, "{summer}");
        let created = db.ok(&[
            "campaign",
            "create",
            "summer-dry",
            "--target",
            "all",
            "--start",
            "2026-01-20",
            "--include-held",
            "--dry-run",
        ]);
        assert!(created.contains(&format!("{} contacted in the last 30 days", n_t)), "{created}");

        // kill the send half-way, run it again: nobody gets two messages
        let before = got.len();
        let mut child = super::store::bin()
            .env("WINBACK_DB", &db.url)
            .args(["campaign", "send", "summer", "--smtp", &url, "--rate", "40", "--date", "2026-01-20", "--tasks"])
            .arg(db.file("summer.tasks.csv"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while mails(&smtp.maildir).len() < before + 20 {
            assert!(t0.elapsed() < Duration::from_secs(60), "the send did not start");
            assert!(child.try_wait().unwrap().is_none(), "the send finished before it could be killed");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let resumed = db.ok(&[
            "campaign",
            "send",
            "summer",
            "--smtp",
            &url,
            "--date",
            "2026-01-20",
            "--tasks",
            db.file("summer.tasks.csv").to_str().unwrap(),
        ]);
        let all = mails(&smtp.maildir);
        let mut per: HashMap<String, usize> = HashMap::new();
        for (h, _) in &all {
            *per.entry(h["message-id"].clone()).or_default() += 1;
        }
        assert!(per.values().all(|&k| k == 1), "a message went out twice");
        let mut per_address_summer: HashMap<String, usize> = HashMap::new();
        for (h, _) in all.iter().filter(|(h, _)| h["message-id"].starts_with("<2.")) {
            *per_address_summer.entry(h["to"].clone()).or_default() += 1;
        }
        assert!(per_address_summer.values().all(|&k| k == 1), "someone got two summer messages");
        let list = db.json(&["campaign", "list", "-f", "json"]);
        let s2 = list.as_array().unwrap().iter().find(|c| c["campaign"] == "summer").unwrap();
        assert_eq!(s2["pending"], 0, "{resumed}");
        let summer_sent = s2["sent"].as_u64().unwrap() as usize;
        // at most one member per SMTP connection (16 by default) was claimed but
        // not confirmed when the process died
        assert!(per_address_summer.len() >= summer_sent && per_address_summer.len() <= summer_sent + 16);
        let unconfirmed = s2["unconfirmed"].as_u64().unwrap() as usize;
        assert!(unconfirmed <= 16, "{unconfirmed} unconfirmed");
        // the operator checked the mail log: --release-unconfirmed sends to them after all
        let released = db.run(&[
            "campaign",
            "send",
            "summer",
            "--release-unconfirmed",
            "--smtp",
            &url,
            "--date",
            "2026-01-20",
            "--tasks",
            db.file("summer.tasks.csv").to_str().unwrap(),
        ]);
        assert!(released.status.success());
        assert!(
            String::from_utf8_lossy(&released.stderr).contains(&format!("released {unconfirmed} unconfirmed")),
            "{}",
            String::from_utf8_lossy(&released.stderr)
        );
        let list = db.json(&["campaign", "list", "-f", "json"]);
        let s3 = list.as_array().unwrap().iter().find(|c| c["campaign"] == "summer").unwrap();
        assert_eq!((s3["unconfirmed"].as_u64(), s3["pending"].as_u64()), (Some(0), Some(0)));
        assert_eq!(s3["sent"].as_u64().unwrap() as usize, summer_sent + unconfirmed);

        // the unsubscribe link works and withdraws consent
        let port = free_port();
        let mut server = super::store::bin()
            .env("WINBACK_DB", &db.url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(50));
        }
        // a GET (a mail scanner following the link) shows the button and changes nothing
        let page = http_get(port, &format!("/u/{}", tokens[0]));
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("Unsubscribe me"), "{page}");
        assert_eq!(db.count("opt_outs"), 0);
        let page = http_post(port, &format!("/u/{}", tokens[0]), "List-Unsubscribe=One-Click");
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("You are unsubscribed"), "{page}");
        assert!(http_get(port, "/u/ffffffffffffffffffffffffffffffff").starts_with("HTTP/1.1 404"));
        server.kill().unwrap();
        server.wait().unwrap();
        assert_eq!(db.count("opt_outs"), 1);
        let who = got[0].0["to"].rsplit('<').next().unwrap().trim_end_matches('>').to_string();
        let id = &by_email[who.as_str()]["customer_id"];
        let c = db.json(&["customer", id, "-f", "json"]);
        let email_consent = c["consent"].as_array().unwrap().iter().find(|x| x[0] == "email").unwrap()[1].clone();
        assert_eq!(email_consent, false, "{}", c["consent"]);

        // a known lift, simulated and imported, is recovered by the report
        let returns = db.file("returns.csv");
        db.ok(&[
            "campaign",
            "simulate-outcomes",
            "spring",
            "--base-rate",
            "0.1",
            "--lift",
            "0.15",
            "--seed",
            "2",
            "-o",
            returns.to_str().unwrap(),
        ]);
        db.ok(&["import", "transactions", returns.to_str().unwrap()]);
        let r = db.json(&["campaign", "report", "spring", "-f", "json"]);
        let o = &r["report"]["overall"];
        let (lo, hi) = (o["lift_low"].as_f64().unwrap(), o["lift_high"].as_f64().unwrap());
        assert!(lo <= 0.15 && 0.15 <= hi, "true lift 0.15 outside [{lo}, {hi}]");
        assert!(lo > 0.0, "the effect is detected");
        assert_eq!(o["treatment"]["n"].as_u64().unwrap(), n_t);
        let won: HashSet<String> = csv_rows(&returns).into_iter().map(|x| x["customer_id"].clone()).collect();
        assert_eq!(o["treatment"]["won"].as_u64().unwrap() + o["control"]["won"].as_u64().unwrap(), won.len() as u64);
        assert!(r["report"]["offer_cost"].as_f64().unwrap() > 0.0);
        assert!(r["report"]["roi"].is_number());

        // follow-ups: two check-ins per won-back treated customer; a recorded one is no longer due
        let treated_won = o["treatment"]["won"].as_u64().unwrap() as usize;
        let spring_only = |v: Value| v.as_array().unwrap().iter().filter(|x| x["campaign"] == "spring").count();
        let f = db.json(&["followups", "--as-of", "2026-12-31", "-f", "json"]);
        let first = f.as_array().unwrap().iter().find(|x| x["campaign"] == "spring").unwrap()["customer"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(spring_only(f), 2 * treated_won);
        db.ok(&[
            "followups",
            "--record",
            "spring",
            &first,
            "--offset",
            "14",
            "--satisfied",
            "yes",
            "--score",
            "9",
            "--as-of",
            "2026-03-01",
        ]);
        let due = db.json(&["followups", "--due", "--as-of", "2026-12-31", "-f", "json"]);
        assert_eq!(spring_only(due), 2 * treated_won - 1);

        // the business's own rates, from the band
        let rates = db.json(&["report", "winback-rates", "-f", "json"]);
        let all_row = rates.as_array().unwrap().iter().find(|x| x["by"] == "all").unwrap();
        assert!(all_row["contacted"].as_u64().unwrap() >= n_t);
        assert!((all_row["prior"].as_f64().unwrap() - 0.3).abs() < 1e-9);

        // early warning: active customers exposed to the open weekend-support cause
        let risk = db.json(&["at-risk", "-f", "json"]);
        for x in risk.as_array().unwrap() {
            assert!(x["status"] == "active" || x["status"] == "at_risk");
            assert!(!x["why"].as_str().unwrap().is_empty() && x["suggested"] == "check_in", "{x}");
        }
        assert!(!risk.as_array().unwrap().is_empty());
    }
}

#[test]
fn playbook_check_explains_errors_with_lines() {
    let dir = std::env::temp_dir().join(format!("winback-playbook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("playbook.toml");
    let out = super::store::bin().current_dir(&dir).args(["playbook", "init"]).output().unwrap();
    assert!(out.status.success());
    let ok = super::store::bin().current_dir(&dir).args(["playbook", "check"]).output().unwrap();
    assert!(String::from_utf8_lossy(&ok.stdout).contains(": ok — 7 rules, 7 strategies, 6 templates"), "{ok:?}");
    let text = std::fs::read_to_string(&file).unwrap().replace("strategy = \"incentive\"", "strategy = \"bribe\"");
    std::fs::write(&file, text).unwrap();
    let bad = super::store::bin().current_dir(&dir).args(["playbook", "check"]).output().unwrap();
    assert!(!bad.status.success());
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(e.contains("line 37: rule 'left over price or a competitor: an incentive': no strategy 'bribe'"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
