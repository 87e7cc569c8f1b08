//! A real browser (Debian's headless Chromium through chromedriver) against a
//! real `winback serve`: a campaign email arrives at a real SMTP server, its
//! survey link is opened and answered, its unsubscribe link clicked; a user
//! signs in with a wrong then the right password and signs out. A screenshot
//! of every page goes to `target/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use super::campaigns::{free_port, mails, smtp};
use super::store::{bin, stores};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16, what: &str) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "{what} did not start on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn chromedriver() -> Option<PathBuf> {
    let p = std::env::var_os("WINBACK_TEST_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from);
    p.exists().then_some(p)
}

fn shots() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The link after `marker` in a mail body, up to the next whitespace.
fn link(body: &str, marker: &str) -> String {
    let at = body.find(marker).unwrap_or_else(|| panic!("no {marker} link in {body}"));
    let start = body[..at].rfind("http").unwrap();
    body[start..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_playbook_in_a_real_browser_from_sign_in_to_the_customers_survey_answer() {
    let Some(driver) = chromedriver() else {
        eprintln!("browser test: skipping (no chromedriver; .ci/run installs chromium and chromium-driver)");
        return;
    };
    let db = stores("browser").into_iter().next().unwrap(); // SQLite: the server and the CLI share the file
    let Some(mail) = smtp(&db.dir) else { return };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // the demo shop; a playbook (in the server's folder) whose links point at this server
    let shop = db.file("shop");
    db.ok(&["demo", "--dir", shop.to_str().unwrap(), "--customers", "400", "--seed", "5", "--store", &db.url]);
    let playbook = db.file("playbook.toml");
    bin().current_dir(&db.dir).args(["playbook", "init"]).output().unwrap();
    let text = std::fs::read_to_string(&playbook).unwrap().replace("http://localhost:8080", &base);
    std::fs::write(&playbook, text).unwrap();
    for (email, role, pw) in
        [("owner@shop.test", "owner", "a-long-owner-password"), ("staff@shop.test", "staff", "a-long-staff-password")]
    {
        let mut add = bin()
            .env("WINBACK_DB", &db.url)
            .args(["user", "add", email, "--role", role, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut add.stdin.take().unwrap(), pw.as_bytes()).unwrap();
        assert!(add.wait().unwrap().success());
    }
    let _server = Killed(
        bin()
            .current_dir(&db.dir)
            .env("WINBACK_DB", &db.url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &base])
            .args(["--smtp", &format!("smtp://127.0.0.1:{}", mail.port)])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port, "winback serve");
    let dport = free_port();
    let _driver = Killed(
        Command::new(driver)
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(dport, "chromedriver");

    let profile = db.dir.join("chrome-profile");
    let shots = shots();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let customer_email = rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": std::env::var("WINBACK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=430,1000", format!("--user-data-dir={}", profile.display())],
            }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{dport}"))
            .await
            .expect("a chromium session");
        let shot = |name: &'static str| {
            let c = c.clone();
            let path = shots.join(name);
            async move {
                let png = c.screenshot().await.unwrap();
                std::fs::write(&path, png).unwrap();
            }
        };
        let wait = |l: Locator<'static>| {
            let c = c.clone();
            async move { c.wait().at_most(Duration::from_secs(60)).for_element(l).await.unwrap() }
        };
        let sign_in = |email: &'static str, password: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Id("email")).await.unwrap().clear().await.unwrap();
                c.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
                c.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
                c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
            }
        };

        // sign in: a wrong password, then the right one
        c.goto(&format!("{base}/")).await.unwrap();
        wait(Locator::Id("password")).await;
        sign_in("owner@shop.test", "not-the-password").await;
        wait(Locator::Css("p.alert")).await;
        shot("login-failed.png").await;
        sign_in("owner@shop.test", "a-long-owner-password").await;
        wait(Locator::XPath("//h1[starts-with(., 'Overview')]")).await;
        shot("overview.png").await;

        // a gone customer: a reason from a call
        c.find(Locator::XPath("//a[@href='/customers']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h1[. = 'Customers']")).await;
        shot("customers.png").await;
        c.find(Locator::Css("tbody tr td a")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h2[. = 'Record a reason from a call']")).await;
        c.find(Locator::Id("r-detail")).await.unwrap().send_keys("the grinder broke twice").await.unwrap();
        c.find(Locator::Id("r-suggestion")).await.unwrap().send_keys("a sturdier grinder").await.unwrap();
        c.find(Locator::XPath("//button[. = 'Record the reason']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//li[contains(., 'the grinder broke twice')]")).await;
        shot("customer.png").await;

        // a root cause: add it, then mark it fixed
        c.goto(&format!("{base}/causes")).await.unwrap();
        wait(Locator::XPath("//h1[. = 'Root causes']")).await;
        c.find(Locator::Id("c-title")).await.unwrap().send_keys("Grinders from the new supplier break").await.unwrap();
        c.find(Locator::Css("#add-cause input[name=category][value=product_quality]")).await.unwrap().click().await.unwrap();
        c.find(Locator::XPath("//button[. = 'Add']")).await.unwrap().click().await.unwrap();
        let added = wait(Locator::XPath("//section[h2[contains(., 'Grinders from the new supplier break')]]")).await;
        shot("causes.png").await;
        added.find(Locator::Css("input[name=announce]")).await.unwrap().send_keys("we changed supplier").await.unwrap();
        added.find(Locator::XPath(".//button[. = 'Mark fixed']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//section[h2[contains(., 'Grinders from the new supplier break')]]//span[. = 'fixed']"))
            .await;

        // a campaign: the dry run, then frozen, then sent as a background job
        c.goto(&format!("{base}/campaigns/new")).await.unwrap();
        wait(Locator::Id("n-name")).await;
        c.find(Locator::Id("n-name")).await.unwrap().send_keys("ask").await.unwrap();
        c.find(Locator::XPath("//button[. = 'Dry run']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//strong[starts-with(., 'Smallest lift this campaign can detect')]")).await;
        shot("campaign-dry-run.png").await;
        c.find(Locator::XPath("//button[starts-with(., 'Create it')]")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h1[. = 'Campaign ask']")).await;
        c.find(Locator::XPath("//button[starts-with(., 'Send to the')]")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//p[starts-with(., 'Done.')]")).await;
        shot("send-done.png").await;
        c.find(Locator::XPath("//a[. = 'Back']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h1[. = 'Campaign ask']")).await;

        // the customer's email: the survey, answered as a customer would
        let got = mails(&mail.maildir);
        let (head, body) = got
            .iter()
            .find(|(h, _)| h["subject"].contains("may we ask why"))
            .expect("an ask-why email to a customer who has not said why");
        let survey = link(body, "/s/");
        let unsubscribe = link(body, "/u/");
        assert!(head["list-unsubscribe"].contains(&unsubscribe), "{}", head["list-unsubscribe"]);
        c.goto(&survey).await.unwrap();
        let h1 = wait(Locator::Css("h1")).await.text().await.unwrap();
        assert!(h1.starts_with("Thank you"), "{h1}");
        shot("survey.png").await;
        c.find(Locator::Css("input[value=delivery]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("input[value=price]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Id("suggestion"))
            .await
            .unwrap()
            .send_keys("Send a tracking link with every parcel")
            .await
            .unwrap();
        c.find(Locator::Css("input[name=come_back][value=maybe]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("input[name=channel][value=email]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
        // the survey page's own heading also thanks them: wait for the answer page's text
        wait(Locator::XPath("//p[contains(., 'A person on our team will read')]")).await;
        shot("survey-thanks.png").await;

        // unsubscribe: the page changes nothing until the button
        c.goto(&unsubscribe).await.unwrap();
        wait(Locator::XPath("//button[. = 'Unsubscribe me']")).await;
        shot("unsubscribe.png").await;
        assert_eq!(db.count("opt_outs"), 0, "opening the page changes nothing");
        c.find(Locator::XPath("//button[. = 'Unsubscribe me']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h1[. = 'You are unsubscribed']")).await;
        shot("unsubscribed.png").await;
        assert_eq!(db.count("opt_outs"), 1);

        // the answer in the campaign report and on the customer's page
        c.goto(&format!("{base}/campaigns/ask")).await.unwrap();
        wait(Locator::XPath("//h1[. = 'Campaign ask']")).await;
        assert!(c.source().await.unwrap().contains("1 answer from"), "the survey answer shows in the campaign report");
        shot("campaign.png").await;
        c.goto(&format!("{base}/reports")).await.unwrap();
        wait(Locator::XPath("//h1[starts-with(., 'Reports')]")).await;
        assert!(c.source().await.unwrap().contains("How well the model predicts"), "the demo's analysis compared the models");
        shot("reports.png").await;
        // how far to trust the lists: the form is a GET, its answer a replay of the store
        c.find(Locator::XPath("//a[starts-with(., 'How far to trust the lists')]")).await.unwrap().click().await.unwrap();
        wait(Locator::Id("as_of")).await;
        c.goto(&format!("{base}/reports/backtest?as_of=2025-02-01&until=2025-06-30")).await.unwrap();
        wait(Locator::XPath("//h2[. = 'Customers about to leave']")).await;
        let page = c.source().await.unwrap();
        assert!(page.contains("Early warning") && page.contains("bought again on their own"), "backtest page");
        shot("backtest.png").await;

        // an orders file uploaded, previewed and imported
        let orders = db.dir.join("new-orders.csv");
        std::fs::write(&orders, "order_id,customer_id,date,total\nX1,C00001,2026-01-02,12.00\nX2,C00002,2026-01-03,30.50\nX3,C00003,someday,9.00\n").unwrap();
        c.goto(&format!("{base}/data")).await.unwrap();
        wait(Locator::Id("file")).await.send_keys(&orders.display().to_string()).await.unwrap();
        c.find(Locator::XPath("//button[. = 'Upload']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//td[. = 'X2']")).await;
        c.find(Locator::Id("max-rejects")).await.unwrap().clear().await.unwrap();
        c.find(Locator::Id("max-rejects")).await.unwrap().send_keys("50").await.unwrap();
        shot("data-preview.png").await;
        c.find(Locator::XPath("//button[. = 'Import']")).await.unwrap().click().await.unwrap();
        let done = wait(Locator::XPath("//p[starts-with(., 'Done.')]")).await.text().await.unwrap();
        assert!(done.contains("3 lines: 2 imported") && done.contains("1 rejected"), "{done}");
        shot("import-done.png").await;
        c.goto(&format!("{base}/users")).await.unwrap();
        wait(Locator::XPath("//h1[. = 'Users']")).await;
        shot("users.png").await;
        c.goto(&format!("{base}/")).await.unwrap();
        c.find(Locator::XPath("//button[. = 'Sign out']")).await.unwrap().click().await.unwrap();
        wait(Locator::XPath("//h1[. = 'Sign in']")).await;
        shot("signed-out.png").await;

        // staff: they see campaigns but cannot create or send them, nor manage users
        sign_in("staff@shop.test", "a-long-staff-password").await;
        wait(Locator::XPath("//h1[starts-with(., 'Overview')]")).await;
        assert!(c.find(Locator::XPath("//a[. = 'Users']")).await.is_err());
        c.goto(&format!("{base}/campaigns/ask")).await.unwrap();
        wait(Locator::XPath("//h1[. = 'Campaign ask']")).await;
        assert!(c.find(Locator::XPath("//button[starts-with(., 'Send')]")).await.is_err());
        c.goto(&format!("{base}/campaigns/new")).await.unwrap();
        wait(Locator::XPath("//h1[. = 'Not allowed']")).await;
        c.close().await.unwrap();
        head["to"].rsplit('<').next().unwrap().trim_end_matches('>').to_string()
    });

    // the answer is in the store, as the customer's reason with their suggestion
    let customers: Vec<serde_json::Value> = serde_json::from_str(&db.ok(&["customers", "-f", "json"])).unwrap();
    let id = customers.iter().find(|c| c["email"] == customer_email.as_str()).unwrap()["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let reasons: Vec<serde_json::Value> =
        serde_json::from_str(&db.ok(&["reason", "list", "--customer", &id, "-f", "json"])).unwrap();
    let survey_reasons: Vec<_> = reasons.iter().filter(|r| r["source"] == "survey").collect();
    let cats: Vec<&str> = survey_reasons.iter().map(|r| r["category"].as_str().unwrap()).collect();
    assert_eq!(cats, ["price", "delivery"], "{reasons:?}");
    assert!(survey_reasons.iter().all(|r| r["suggestion"] == "Send a tracking link with every parcel"));
    let calls = db.ok(&["reason", "list", "--format", "csv"]);
    assert!(
        calls.contains("the grinder broke twice")
            && calls.contains("a sturdier grinder")
            && calls.contains("owner@shop.test")
    );
    let fixes = db.ok(&["fix", "list", "--format", "csv"]);
    assert!(fixes.contains("Grinders from the new supplier break") && fixes.contains("we changed supplier"), "{fixes}");
    let report = db.json(&["campaign", "report", "ask", "-f", "json"]);
    assert_eq!(report["survey"]["answers"], 1, "{}", report["survey"]);
    assert!(report["survey"]["contacted"].as_u64().unwrap() > 0);
    drop(mail);
}

/// SIGTERM stops the server cleanly (exit 0), after it has answered.
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let db = stores("sigterm").into_iter().next().unwrap();
    db.ok(&["db", "status"]);
    let port = free_port();
    let mut server = bin()
        .env("WINBACK_DB", &db.url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "winback serve");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut s, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("ok"), "{out}");
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = server.try_wait().unwrap() {
            break st;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
