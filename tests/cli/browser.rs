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
fn a_customer_answers_the_survey_and_unsubscribes_and_staff_sign_in_in_a_real_browser() {
    let Some(driver) = chromedriver() else {
        eprintln!("browser test: skipping (no chromedriver; .ci/run installs chromium and chromium-driver)");
        return;
    };
    let db = stores("browser").into_iter().next().unwrap(); // SQLite: the server and the CLI share the file
    let Some(mail) = smtp(&db.dir) else { return };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // a campaign whose links point at this server
    let shop = db.file("shop");
    db.ok(&["demo", "--dir", shop.to_str().unwrap(), "--customers", "400", "--seed", "5", "--store", &db.url]);
    let playbook = db.file("playbook.toml");
    bin().current_dir(&db.dir).args(["playbook", "init"]).output().unwrap();
    let text = std::fs::read_to_string(&playbook).unwrap().replace("http://localhost:8080", &base);
    std::fs::write(&playbook, text).unwrap();
    db.ok(&["campaign", "create", "ask", "--holdout", "0.2", "--playbook", playbook.to_str().unwrap()]);
    let tasks = db.file("tasks.csv");
    db.ok(&[
        "campaign",
        "send",
        "ask",
        "--smtp",
        &format!("smtp://127.0.0.1:{}", mail.port),
        "--tasks",
        tasks.to_str().unwrap(),
    ]);
    let got = mails(&mail.maildir);
    let (head, body) = got
        .iter()
        .find(|(h, _)| h["subject"].contains("may we ask why"))
        .expect("an ask-why email to a customer who has not said why");
    let survey = link(body, "/s/");
    let unsubscribe = link(body, "/u/");
    assert!(head["list-unsubscribe"].contains(&unsubscribe), "{}", head["list-unsubscribe"]);
    let customer_email = head["to"].rsplit('<').next().unwrap().trim_end_matches('>').to_string();

    let mut add = bin()
        .env("WINBACK_DB", &db.url)
        .args(["user", "add", "owner@shop.test", "--role", "owner", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"a-long-owner-password").unwrap();
    assert!(add.wait().unwrap().success());

    let _server = Killed(
        bin()
            .env("WINBACK_DB", &db.url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &base])
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
    rt.block_on(async {
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

        // the survey, answered as a customer would
        c.goto(&survey).await.unwrap();
        let h1 = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
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
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[starts-with(., 'Thank you')]"))
            .await
            .unwrap();
        let page = c.source().await.unwrap();
        assert!(page.contains("A person on our team will read"), "{page}");
        shot("survey-thanks.png").await;

        // unsubscribe: the page changes nothing until the button
        c.goto(&unsubscribe).await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//button[. = 'Unsubscribe me']"))
            .await
            .unwrap();
        shot("unsubscribe.png").await;
        assert_eq!(db.count("opt_outs"), 0, "opening the page changes nothing");
        c.find(Locator::XPath("//button[. = 'Unsubscribe me']")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'You are unsubscribed']"))
            .await
            .unwrap();
        shot("unsubscribed.png").await;
        assert_eq!(db.count("opt_outs"), 1);

        // sign in: a wrong password, then the right one; sign out
        c.goto(&format!("{base}/")).await.unwrap();
        c.wait().at_most(std::time::Duration::from_secs(20)).for_element(Locator::Id("password")).await.unwrap();
        c.find(Locator::Id("email")).await.unwrap().send_keys("owner@shop.test").await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys("not-the-password").await.unwrap();
        c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait().at_most(std::time::Duration::from_secs(20)).for_element(Locator::Css("p.alert")).await.unwrap();
        shot("login-failed.png").await;
        c.find(Locator::Id("email")).await.unwrap().clear().await.unwrap();
        c.find(Locator::Id("email")).await.unwrap().send_keys("owner@shop.test").await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys("a-long-owner-password").await.unwrap();
        c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[starts-with(., 'Overview')]"))
            .await
            .unwrap();
        shot("overview.png").await;
        // the playbook from the overview: a gone customer, a reason from a call
        c.find(Locator::XPath("//a[@href='/customers']")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'Customers']"))
            .await
            .unwrap();
        shot("customers.png").await;
        c.find(Locator::Css("tbody tr td a")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h2[. = 'Record a reason from a call']"))
            .await
            .unwrap();
        c.find(Locator::Id("r-detail")).await.unwrap().send_keys("the grinder broke twice").await.unwrap();
        c.find(Locator::Id("r-suggestion")).await.unwrap().send_keys("a sturdier grinder").await.unwrap();
        c.find(Locator::XPath("//button[. = 'Record the reason']")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//li[contains(., 'the grinder broke twice')]"))
            .await
            .unwrap();
        shot("customer.png").await;
        c.goto(&format!("{base}/causes")).await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'Root causes']"))
            .await
            .unwrap();
        shot("causes.png").await;
        c.goto(&format!("{base}/campaigns")).await.unwrap();
        c.find(Locator::XPath("//a[. = 'ask']")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(30))
            .for_element(Locator::XPath("//h1[. = 'Campaign ask']"))
            .await
            .unwrap();
        let page = c.source().await.unwrap();
        assert!(page.contains("1 answer from"), "the survey answer shows in the campaign report");
        shot("campaign.png").await;
        c.goto(&format!("{base}/users")).await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'Users']"))
            .await
            .unwrap();
        shot("users.png").await;
        c.goto(&format!("{base}/")).await.unwrap();
        c.find(Locator::XPath("//button[. = 'Sign out']")).await.unwrap().click().await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'Sign in']"))
            .await
            .unwrap();
        shot("signed-out.png").await;
        c.goto(&format!("{base}/")).await.unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::XPath("//h1[. = 'Sign in']"))
            .await
            .unwrap();
        c.close().await.unwrap();
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
    let report = db.json(&["campaign", "report", "ask", "-f", "json"]);
    assert_eq!(report["survey"]["answers"], 1, "{}", report["survey"]);
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
