//! Sending that keeps its promises, against a real SMTP server that misbehaves
//! on purpose (`tests/smtp/faulty_smtp.py`, aiosmtpd): greylisting, recipients
//! refused for good, a server down then back, names with line breaks, and
//! holdouts that stay held out across campaigns. SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::campaigns::{faulty_smtp, free_port, mails};
use super::store::{stores, Db};

/// A demo shop in the store, and a frozen campaign; returns its email members.
fn shop_with_campaign(db: &Db, name: &str) -> Vec<Value> {
    let shop = db.file("shop");
    db.ok(&["demo", "--dir", shop.to_str().unwrap(), "--customers", "600", "--seed", "5", "--store", &db.url]);
    db.ok(&["campaign", "create", name, "--holdout", "0.2", "--start", "2026-01-05", "--seed", "2"]);
    members(db, name)
}

fn members(db: &Db, name: &str) -> Vec<Value> {
    db.json(&["campaign", "members", name, "-f", "json"]).as_array().cloned().unwrap_or_default()
}

fn to_addresses(maildir: &std::path::Path) -> Vec<String> {
    mails(maildir).iter().map(|(h, _)| h["to"].rsplit('<').next().unwrap().trim_end_matches('>').to_string()).collect()
}

fn emails(db: &Db) -> HashMap<String, String> {
    let rows = csv::Reader::from_path(db.file("shop").join("customers.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[2].to_string()))
        .collect();
    rows
}

#[test]
fn greylisting_is_retried_and_a_refused_recipient_does_not_stop_the_others() {
    for db in stores("send_faults") {
        let port = free_port();
        let Some(smtp) = faulty_smtp(&db.dir, port, &["--greylist", "--reject-suffix", "3"]) else { return };
        let all = shop_with_campaign(&db, "grey");
        let email_members: Vec<&Value> =
            all.iter().filter(|m| m["arm"] == "treatment" && m["channel"] == "email").collect();
        assert!(email_members.len() > 20, "{}", email_members.len());
        let addr = emails(&db);
        let refused: HashSet<&str> = email_members
            .iter()
            .map(|m| m["customer"].as_str().unwrap())
            .filter(|c| addr[*c].split('@').next().unwrap().ends_with('3'))
            .collect();
        assert!(!refused.is_empty());
        let url = format!("smtp://127.0.0.1:{port}");
        let out = db.run(&["campaign", "send", "grey", "--smtp", &url, "--date", "2026-01-05", "--retry-wait", "0.05"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // every greylisted address got its message on a later try, exactly once
        let got = to_addresses(&smtp.maildir);
        assert_eq!(got.len(), email_members.len() - refused.len());
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "one message per address");
        // the refused ones are failed with the server's reply; nobody is left pending
        for m in members(&db, "grey").iter().filter(|m| m["arm"] == "treatment" && m["channel"] == "email") {
            let c = m["customer"].as_str().unwrap();
            if refused.contains(c) {
                assert_eq!(m["state"], "failed", "{m}");
                assert!(m["error"].as_str().unwrap().contains("550"), "{m}");
            } else {
                assert_eq!(m["state"], "sent", "{m}");
            }
        }
        let list = db.json(&["campaign", "list", "-f", "json"]);
        assert_eq!(list[0]["failed"].as_u64().unwrap() as usize, refused.len());
        assert_eq!(list[0]["pending"], 0);
    }
}

#[test]
fn a_server_down_leaves_members_pending_and_its_return_mails_everyone_once() {
    for db in stores("send_outage") {
        if std::env::var("WINBACK_TEST_SMTP_PYTHON").is_err() {
            return;
        }
        let port = free_port(); // nothing listens there yet
        let all = shop_with_campaign(&db, "outage");
        let n_email = all.iter().filter(|m| m["arm"] == "treatment" && m["channel"] == "email").count();
        let url = format!("smtp://127.0.0.1:{port}");
        let out =
            db.run(&["campaign", "send", "outage", "--smtp", &url, "--date", "2026-01-05", "--retry-wait", "0.02"]);
        assert!(!out.status.success(), "a server that is down is a failed run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("stay pending"), "{err}");
        let now = members(&db, "outage");
        assert!(now.iter().all(|m| m["state"] != "failed" && m["state"] != "claimed"), "nobody failed or stuck");
        // the server comes back: one run mails everyone still owed a message, once
        let smtp = faulty_smtp(&db.dir, port, &[]).unwrap();
        db.ok(&["campaign", "send", "outage", "--smtp", &url, "--date", "2026-01-06"]);
        let got = to_addresses(&smtp.maildir);
        assert_eq!(got.len(), n_email);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), n_email);
        db.ok(&["campaign", "send", "outage", "--smtp", &url, "--date", "2026-01-07"]);
        assert_eq!(to_addresses(&smtp.maildir).len(), n_email, "a third run sends nothing");
    }
}

#[test]
fn names_with_line_breaks_cannot_inject_headers_or_stop_the_send() {
    for db in stores("send_crlf") {
        let port = free_port();
        let Some(smtp) = faulty_smtp(&db.dir, port, &[]) else { return };
        let shop = db.file("shop");
        db.ok(&["demo", "--dir", shop.to_str().unwrap(), "--customers", "600", "--seed", "5", "--store", &db.url]);
        // every customer's name now carries a header injection attempt
        let crm = std::fs::read_to_string(shop.join("customers.csv")).unwrap();
        let mut lines = crm.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for l in lines {
            let mut f: Vec<String> = l.split(',').map(String::from).collect();
            f[1] = format!("\"{}\r\nBcc: evil@example.com\"", f[1]);
            out += &f.join(",");
            out += "\n";
        }
        std::fs::write(db.file("crm.csv"), out).unwrap();
        db.ok(&["import", "customers", db.file("crm.csv").to_str().unwrap()]);
        db.ok(&["campaign", "create", "crlf", "--holdout", "0.2", "--start", "2026-01-05", "--seed", "2"]);
        let url = format!("smtp://127.0.0.1:{port}");
        let run = db.run(&["campaign", "send", "crlf", "--smtp", &url, "--date", "2026-01-05"]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let got = mails(&smtp.maildir);
        assert!(!got.is_empty());
        for (h, _) in &got {
            assert!(!h.contains_key("bcc"), "an injected header: {h:?}");
            assert!(!h["to"].contains("evil@example.com") || h["to"].contains("Bcc: evil"), "{h:?}");
        }
        assert!(to_addresses(&smtp.maildir).iter().all(|a| a != "evil@example.com"));
    }
}

#[test]
fn a_campaigns_holdout_stays_out_of_the_next_campaign_while_it_measures() {
    for db in stores("send_holdout") {
        let spring = shop_with_campaign(&db, "spring");
        let held: HashSet<&str> =
            spring.iter().filter(|m| m["arm"] == "control").map(|m| m["customer"].as_str().unwrap()).collect();
        assert!(held.len() > 10);
        // within spring's 60-day window, a broad campaign with no frequency cap
        let out = db.ok(&[
            "campaign",
            "create",
            "summer",
            "--target",
            "all",
            "--include-held",
            "--cap-days",
            "0",
            "--start",
            "2026-01-20",
            "--seed",
            "3",
        ]);
        assert!(out.contains(&format!("{} in the holdout of a campaign still measuring", held.len())), "{out}");
        let summer = members(&db, "summer");
        assert!(!summer.is_empty());
        assert!(summer.iter().all(|m| !held.contains(m["customer"].as_str().unwrap())));
        // after the window, they may be chosen again
        let later = db.ok(&[
            "campaign",
            "create",
            "autumn",
            "--target",
            "all",
            "--include-held",
            "--cap-days",
            "0",
            "--start",
            "2026-09-01",
            "--dry-run",
        ]);
        assert!(later.contains(" 0 in the holdout of a campaign still measuring"), "{later}");
        // an explicit override takes them, says so, and spring's report shows it
        let forced = db.ok(&[
            "campaign",
            "create",
            "forced",
            "--target",
            "all",
            "--include-held",
            "--include-holdouts",
            "--cap-days",
            "0",
            "--holdout",
            "0",
            "--start",
            "2026-01-21",
        ]);
        let taken: HashSet<String> = members(&db, "forced")
            .iter()
            .filter(|m| held.contains(m["customer"].as_str().unwrap()))
            .map(|m| m["customer"].as_str().unwrap().to_string())
            .collect();
        // spring's holdout, and summer's, less anyone without a consented channel
        assert!(taken.len() > held.len() / 2, "{forced}");
        assert!(forced.contains("members come from the holdout of a campaign still measuring"), "{forced}");
        let report = db.json(&["campaign", "report", "spring", "-f", "json"]);
        assert_eq!(report["contaminated"][0]["campaign"], "forced", "{report}");
        assert_eq!(report["contaminated"][0]["members"].as_u64(), Some(taken.len() as u64));
        let text = db.ok(&["campaign", "report", "spring"]);
        assert!(
            text.contains(&format!("{} holdout members were contacted by campaign 'forced'", taken.len())),
            "{text}"
        );
        // summer did not touch spring's holdout
        assert!(report["contaminated"].as_array().unwrap().iter().all(|c| c["campaign"] != "summer"));
    }
}

/// The server reads a message to its final dot, then drops the connection
/// without a reply and without keeping it: the send tries again on a new
/// connection, and everyone ends up with exactly one message.
#[test]
fn a_connection_dropped_after_the_message_is_retried_and_nobody_gets_two() {
    for db in stores("send_drop") {
        let port = free_port();
        let Some(smtp) = faulty_smtp(&db.dir, port, &["--drop-after-data"]) else { return };
        let all = shop_with_campaign(&db, "drop");
        let n_email = all.iter().filter(|m| m["arm"] == "treatment" && m["channel"] == "email").count();
        let url = format!("smtp://127.0.0.1:{port}");
        let out = db.run(&["campaign", "send", "drop", "--smtp", &url, "--date", "2026-01-05", "--retry-wait", "0.02"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got = to_addresses(&smtp.maildir);
        assert_eq!(got.len(), n_email);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), n_email, "nobody twice");
        assert!(members(&db, "drop")
            .iter()
            .filter(|m| m["channel"] == "email" && m["arm"] == "treatment")
            .all(|m| m["state"] == "sent"));
    }
}

/// A server that offers STARTTLS and takes AUTH only over TLS: an `smtp://`
/// URL with credentials and no `tls=` upgrades before it authenticates (the
/// password never crosses in clear), and everyone is mailed once. The server's
/// certificate is self-signed, trusted through `?cafile=`.
#[test]
fn credentials_go_only_over_starttls() {
    for db in stores("send_starttls") {
        let (cert, key) = (db.file("cert.pem"), db.file("key.pem"));
        let made = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
            .args([
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl (the test makes its server's certificate with it)");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let port = free_port();
        let flags = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap(), "--auth", "shop:s3cret"];
        let Some(smtp) = faulty_smtp(&db.dir, port, &flags) else { return };
        let all = shop_with_campaign(&db, "tls");
        let n = all.iter().filter(|m| m["arm"] == "treatment" && m["channel"] == "email").count();
        let url = format!("smtp://shop:s3cret@127.0.0.1:{port}?cafile={}", cert.display());
        let out = db.run(&["campaign", "send", "tls", "--smtp", &url, "--date", "2026-01-05", "--connections", "4"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("s3cret"), "the password is never printed: {stderr}");
        assert_eq!(to_addresses(&smtp.maildir).len(), n, "everyone mailed once");
        let log = std::fs::read_to_string(db.dir.join("auth.log")).unwrap();
        assert!(!log.is_empty());
        assert!(log.lines().all(|l| l == "shop tls=True ok=True"), "AUTH only over TLS: {log}");
        // the same server without trusting its certificate: nothing is sent,
        // nobody is failed for good, the credentials never go out
        std::fs::remove_file(db.dir.join("auth.log")).unwrap();
        db.ok(&[
            "campaign",
            "create",
            "tls2",
            "--target",
            "all",
            "--include-held",
            "--include-holdouts",
            "--cap-days",
            "0",
            "--start",
            "2026-01-06",
        ]);
        let plain = format!("smtp://shop:s3cret@127.0.0.1:{port}");
        let out =
            db.run(&["campaign", "send", "tls2", "--smtp", &plain, "--date", "2026-01-06", "--retry-wait", "0.01"]);
        assert!(!out.status.success());
        assert!(!db.dir.join("auth.log").exists(), "no AUTH attempted");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
        let m = members(&db, "tls2");
        assert!(m.iter().all(|m| m["state"] != "sent"), "nothing sent");
    }
}
