//! Every route in-process (tower's `oneshot`) over a real SQLite store made by
//! the demo: who may see what, what changes on which method, what the
//! responses carry.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;
use winback_app::accounts::{self, Role};
use winback_app::assess::LostFilter;
use winback_app::config::Config;
use winback_store::Store;
use winback_web::{AppState, Limits, Options};

struct Shop {
    db: String,
    /// A treatment member's token (survey and unsubscribe).
    token: String,
    _dir: PathBuf,
}

fn shop(name: &str) -> Shop {
    let dir = std::env::temp_dir().join(format!("winback-web-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let req = winback_app::demo::DemoRequest {
        customers: 200,
        seed: 3,
        dir: dir.clone(),
        store: None,
        churn: Default::default(),
    };
    let d = winback_app::demo::run(&req, &config(), &mut |_| {}).unwrap();
    let mut s = winback_store::open(&d.store).unwrap();
    // a name that tries to run a script
    let evil = winback_domain::customer::CustomerRecord {
        line: 2,
        external_id: "C00001".into(),
        name: Some("<script>alert(1)</script> Evil".into()),
        email: Some("evil@example.com".into()),
        consent_email: Some(true),
        ..Default::default()
    };
    let meta = winback_store::ImportMeta {
        kind: "customers",
        source: "t".into(),
        rows: 1,
        rejected: 0,
        duplicates_in_file: 0,
    };
    s.import_customers(&[evil], &meta).unwrap();
    accounts::add_user(s.as_mut(), "owner@shop.test", Role::Owner, "owner-password-1").unwrap();
    accounts::add_user(s.as_mut(), "staff@shop.test", Role::Staff, "staff-password-1").unwrap();
    let mut w = winback_app::assess::load(s, config()).unwrap();
    winback_app::campaigns::create(
        &mut w,
        &winback_app::campaigns::CreateRequest {
            name: "first",
            target: winback_domain::campaign::Target::WinBack,
            holdout: 0.2,
            seed: 1,
            window_days: 60,
            base_rate: 0.05,
            start: None,
            cap_days: 0,
            include_held: true,
            include_holdouts: false,
            playbook: None,
            dry_run: false,
        },
    )
    .unwrap();
    let members = winback_app::campaigns::members(w.store.as_mut(), "first").unwrap();
    let m = members
        .iter()
        .find(|m| m.m.state == winback_domain::campaign::MemberState::Pending)
        .expect("a treatment member");
    // as a send does: the member's token is made at sending, its hash stored
    let token = "0123456789abcdef0123456789abcdef".to_string();
    let cid = winback_app::campaigns::find(w.store.as_mut(), "first").unwrap().id;
    assert!(w.store.claim(cid, m.m.customer_id, winback_app::campaigns::today(), &token).unwrap());
    let stored = &winback_app::campaigns::members(w.store.as_mut(), "first").unwrap();
    assert!(stored.iter().all(|x| x.m.unsubscribe_token != token), "no token is stored in clear");
    Shop { db: d.store, token, _dir: dir }
}

/// A playbook file of the test's own (the settings page writes it).
fn playbook_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("winback-web-playbook-{}.toml", std::process::id()))
}

fn config_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("winback-web-config-{}.toml", std::process::id()))
}

fn config() -> Config {
    winback_app::config::load(None).unwrap()
}

fn app(db: &str, public: &str) -> Router {
    let pool = winback_store::Pool::new(db, 2, std::time::Duration::from_secs(5)).unwrap();
    let limits = Limits { public_per_minute: 1000, ..Default::default() };
    winback_web::router(AppState::new(
        pool,
        config(),
        &Options {
            public_url: public.into(),
            limits,
            smtp: None,
            tasks_dir: std::env::temp_dir(),
            playbook: playbook_file(),
            config_file: config_file(),
        },
    ))
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post(path: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form.to_string()))
        .unwrap()
}

fn with_cookie(mut r: Request<Body>, cookie: &str) -> Request<Body> {
    r.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
    r
}

/// Sign in; the session cookie ("name=value").
async fn login(app: &Router, email: &str, password: &str) -> String {
    let (status, h, _) = send(app, post("/login", &format!("email={email}&password={password}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sign-in as {email}");
    let c = h.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    c.split(';').next().unwrap().to_string()
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..at + 64].to_string()
}

fn store(db: &str) -> Box<dyn Store> {
    winback_store::open(db).unwrap()
}

#[tokio::test]
async fn the_survey_becomes_reasons_and_a_no_means_keep_in_touch() {
    let s = shop("survey");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let (status, h, page) = send(&app, get(&format!("/s/{}", s.token))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Why did you stop buying from us?") && page.contains("It cost too much"));
    for (k, v) in [
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(h.get(k).unwrap(), v, "{k}");
    }
    assert!(h.get("strict-transport-security").is_none(), "no HSTS over http");

    // a bad answer shows the form again with what was typed
    let (status, _, page) =
        send(&app, post(&format!("/s/{}", s.token), "suggestion=faster+couriers&come_back=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("choose at least one reason") && page.contains("faster couriers"), "{page}");

    let before = store(&s.db).reasons().unwrap().len();
    let form =
        "category=price&category=delivery&other=&suggestion=Cheaper+shipping+%3Cb%3E&come_back=maybe&channel=email";
    let (status, _, page) = send(&app, post(&format!("/s/{}", s.token), form)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Thank you"));
    let mut st = store(&s.db);
    let reasons = st.reasons().unwrap();
    let mine: Vec<_> = reasons.iter().filter(|r| r.source.name() == "survey" && r.recorded_by == "survey").collect();
    assert_eq!(reasons.len(), before + 2);
    assert_eq!(mine.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(), ["price", "delivery"]);
    assert!(mine.iter().all(|r| r.suggestion.as_deref() == Some("Cheaper shipping <b>") && !r.wont_return));
    let customer = mine[0].customer.clone();

    // an edit within 14 days replaces the answer; "no" makes them keep-in-touch
    let (status, _, page) =
        send(&app, post(&format!("/s/{}", s.token), "category=competitor&come_back=no&channel=none")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("won&#x27;t chase you") || page.contains("won't chase you"), "{page}");
    let reasons = st.reasons().unwrap();
    assert_eq!(reasons.len(), before + 1, "the earlier answer's reasons are replaced");
    let w = winback_app::assess::load(st, config()).unwrap();
    let i = w.facts.customers.iter().position(|f| f.external_id == customer).unwrap();
    let v = w.assessed[i].verdict.as_ref().expect("a gone customer has a decision");
    assert_eq!(v.decision.name(), "keep_in_touch", "{:?}", v.why);
    assert!(v.why.iter().any(|y| y.code == "wont_return"));
    let mut w = winback_app::assess::load(store(&s.db), config()).unwrap();
    let r = winback_app::outcomes::report(&mut w, "first", None).unwrap();
    assert_eq!((r.survey.answers, r.survey.said_no), (1, 1), "the campaign report counts the answer");

    // the page shows the answer to edit; unknown and malformed tokens: the same 404
    let (_, _, page) = send(&app, get(&format!("/s/{}", s.token))).await;
    assert!(page.contains("Update my answer") && page.contains("value=\"competitor\" checked"), "{page}");
    let (a, _, pa) = send(&app, get("/s/ffffffffffffffffffffffffffffffff")).await;
    let (b, _, pb) = send(&app, get("/s/..%2F..%2Fetc")).await;
    assert_eq!((a, b), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(pa, pb);
}

#[tokio::test]
async fn names_are_escaped() {
    let s = shop("escape");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let link = winback_app::survey::link(store(&s.db).as_mut(), "C00001", "/s/{token}").unwrap();
    let (status, _, page) = send(&app, get(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{page}");
}

#[tokio::test]
async fn unsubscribe_changes_nothing_on_get_and_opts_out_on_post() {
    let s = shop("unsub");
    let app = app(&s.db, "http://127.0.0.1:8080");
    for _ in 0..3 {
        let (status, _, page) = send(&app, get(&format!("/u/{}", s.token))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Unsubscribe me"));
    }
    assert!(store(&s.db).opt_outs().unwrap().is_empty(), "a GET changes nothing");
    let (status, _, _) = send(&app, get("/u/ffffffffffffffffffffffffffffffff")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // RFC 8058 one-click, as a mail provider sends it: no browser headers
    let one_click = Request::post(format!("/u/{}", s.token))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let (status, _, page) = send(&app, one_click).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are unsubscribed"));
    assert_eq!(store(&s.db).opt_outs().unwrap().len(), 1);
    let (status, _, _) = send(&app, post(&format!("/u/{}", s.token), "reason=too+many")).await;
    assert_eq!(status, StatusCode::OK, "idempotent");
    assert_eq!(store(&s.db).opt_outs().unwrap().len(), 1);
}

#[tokio::test]
async fn sign_in_sessions_roles_and_cross_site_forms() {
    let s = shop("auth");
    let app = app(&s.db, "http://127.0.0.1:8080");
    // signed-in pages refuse strangers
    for p in ["/", "/users"] {
        let (status, h, _) = send(&app, get(p)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{p}");
        assert_eq!(h.get(header::LOCATION).unwrap(), "/login");
    }
    let (status, _, page) = send(&app, post("/login", "email=owner@shop.test&password=wrong-password-x")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("That email and password do not match an account."));
    let (_, _, page2) = send(&app, post("/login", "email=nobody@shop.test&password=wrong-password-x")).await;
    assert!(
        page2.contains("That email and password do not match"),
        "the same answer whether or not the account exists"
    );

    // the cookie's flags; a new id at every sign-in
    let (_, h, _) = send(&app, post("/login", "email=owner@shop.test&password=owner-password-1")).await;
    let set = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("winback_session=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("Secure"), "plain http: no Secure flag, no __Host- prefix");
    let first = set.split(';').next().unwrap().to_string();
    let (_, h, _) =
        send(&app, with_cookie(post("/login", "email=owner@shop.test&password=owner-password-1"), &first)).await;
    let second = h.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(first, second);
    let (status, _, _) = send(&app, with_cookie(get("/"), &first)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the session sent along at sign-in is ended");

    let (status, _, home) = send(&app, with_cookie(get("/"), &second)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("<h1>Overview") && home.contains("owner@shop.test"), "{home}");
    let csrf = csrf_of(&home);

    // staff: no owner pages or actions
    let staff = login(&app, "staff@shop.test", "staff-password-1").await;
    let (status, _, _) = send(&app, with_cookie(get("/users"), &staff)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, staff_home) = send(&app, with_cookie(get("/"), &staff)).await;
    let staff_csrf = csrf_of(&staff_home);
    let (status, _, _) =
        send(&app, with_cookie(post("/users/disable", &format!("csrf={staff_csrf}&email=owner@shop.test")), &staff))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // a form from another site, or without this session's token, is refused
    let mut cross = with_cookie(post("/users/disable", &format!("csrf={csrf}&email=staff@shop.test")), &second);
    cross.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&app, cross).await.0, StatusCode::FORBIDDEN);
    let mut origin = with_cookie(post("/users/disable", &format!("csrf={csrf}&email=staff@shop.test")), &second);
    origin.headers_mut().remove("sec-fetch-site");
    origin.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    origin.headers_mut().insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(send(&app, origin).await.0, StatusCode::FORBIDDEN);
    let no_token = with_cookie(post("/users/disable", "email=staff@shop.test"), &second);
    assert_eq!(send(&app, no_token).await.0, StatusCode::FORBIDDEN);
    assert!(store(&s.db).users().unwrap().iter().all(|u| !u.disabled), "nothing changed");

    // the owner disables staff: their session ends
    let (status, _, _) =
        send(&app, with_cookie(post("/users/disable", &format!("csrf={csrf}&email=staff@shop.test")), &second)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(send(&app, with_cookie(get("/"), &staff)).await.0, StatusCode::SEE_OTHER);

    // the owner adds a user from the browser: a generated password, shown once, that signs in
    let (status, _, page) =
        send(&app, with_cookie(post("/users/add", &format!("csrf={csrf}&email=new@shop.test&role=staff")), &second))
            .await;
    assert_eq!(status, StatusCode::OK);
    let at = page.find("<strong>").unwrap() + 8;
    let password = &page[at..at + 20];
    login(&app, "new@shop.test", password).await;
    let (status, _, _) =
        send(&app, with_cookie(post("/users/add", &format!("csrf={csrf}&email=new@shop.test&role=staff")), &second))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an email in use");

    // sign out
    let (status, h, _) = send(&app, with_cookie(post("/logout", &format!("csrf={csrf}")), &second)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(h.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(send(&app, with_cookie(get("/"), &second)).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn https_cookies_limits_and_sizes() {
    let s = shop("limits");
    let app = app(&s.db, "https://shop.example");
    let (_, h, _) = send(&app, post("/login", "email=owner@shop.test&password=owner-password-1")).await;
    let set = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("__Host-winback=") && set.contains("; Secure") && set.contains("Path=/"), "{set}");
    assert_eq!(h.get("strict-transport-security").unwrap(), "max-age=31536000");

    // oversize bodies: 413, nothing read
    let big = "a".repeat(winback_web::MAX_BODY + 1);
    let (status, _, _) = send(&app, post(&format!("/s/{}", s.token), &format!("other={big}"))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // sign-in failures per account are limited
    for _ in 0..10 {
        send(&app, post("/login", "email=staff@shop.test&password=guess-guess-guess")).await;
    }
    let (status, _, _) = send(&app, post("/login", "email=staff@shop.test&password=staff-password-1")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked for the window even with the right password");

    // public pages per address
    let pool = winback_store::Pool::new(&s.db, 1, std::time::Duration::from_secs(5)).unwrap();
    let limits = Limits { public_per_minute: 3, ..Default::default() };
    let tight = winback_web::router(AppState::new(
        pool,
        config(),
        &Options {
            public_url: "http://x".into(),
            limits,
            smtp: None,
            tasks_dir: std::env::temp_dir(),
            playbook: playbook_file(),
            config_file: config_file(),
        },
    ));
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(send(&tight, get(&format!("/u/{}", s.token))).await.0.as_u16());
    }
    assert_eq!(codes, [200, 200, 200, 429]);
    assert_eq!(send(&app, get("/health")).await.2, "ok");
}

/// A number out of a page: the text after `label` up to the next tag.
fn after<'a>(page: &'a str, label: &str) -> &'a str {
    let at = page.find(label).unwrap_or_else(|| panic!("no {label} in the page")) + label.len();
    let mut rest = &page[at..];
    // past the rest of this tag and any tags that follow
    rest = &rest[rest.find('>').map_or(0, |i| i + 1)..];
    while rest.starts_with('<') {
        rest = &rest[rest.find('>').map_or(rest.len(), |i| i + 1)..];
    }
    rest[..rest.find('<').unwrap_or(rest.len())].trim()
}

#[tokio::test]
async fn the_dashboard_shows_the_numbers_the_services_give_and_its_forms_work() {
    let s = shop("dashboard");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let owner = login(&app, "owner@shop.test", "owner-password-1").await;

    // the overview agrees with `report defection` and `lost`
    let mut w = winback_app::assess::load(store(&s.db), config()).unwrap();
    let report = winback_app::reports::defection(&mut w, None).unwrap();
    let (status, _, page) = send(&app, with_cookie(get("/"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after(&page, "Customers lost</dt><dd"), format!("{}", report.lost), "{page}");
    assert_eq!(
        after(&page, "Their net revenue</dt><dd"),
        winback_domain::decision::format_money(report.lost_net_revenue)
    );
    assert!(page.contains("<svg class=\"chart\""), "charts are drawn");

    // the customers list: the same first rows as `winback lost`, a working search, every row in the CSV
    let mut c = winback_app::assess::cached(store(&s.db), config()).unwrap();
    let lost = winback_app::assess::lost(&mut c, &Default::default()).unwrap();
    let (status, _, page) = send(&app, with_cookie(get("/customers"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("of {}", lost.total)), "{page}");
    let (_, _, overview) = send(&app, with_cookie(get("/"), &owner)).await;
    assert_eq!(
        after(&overview, "Gone, with a decision</dt><dd"),
        lost.total.to_string(),
        "the overview links to the list behind it"
    );
    let first = &lost.customers[0];
    assert!(
        page.find(&format!(">{}</a>", first.customer)).unwrap()
            < page.find(&format!(">{}</a>", lost.customers[1].customer)).unwrap()
    );
    let (_, h, csv) = send(&app, with_cookie(get("/customers.csv"), &owner)).await;
    assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    assert_eq!(csv.lines().count(), lost.total + 1);
    let plain = lost
        .customers
        .iter()
        .find(|c| c.name.as_deref().is_some_and(|n| n.chars().all(|x| x.is_alphabetic() || x == ' ')))
        .unwrap();
    let last_name = plain.name.as_deref().unwrap().rsplit(' ').next().unwrap().to_string();
    let (_, _, found) =
        send(&app, with_cookie(get(&format!("/customers?q={}", last_name.to_lowercase())), &owner)).await;
    assert!(found.contains(&format!(">{}</a>", plain.customer)), "search by name, any case");
    let (_, _, evil) = send(&app, with_cookie(get("/customers?q=%3Cscript%3E"), &owner)).await;
    assert!(!evil.contains("<script>") && evil.contains("&lt;script&gt;"), "the query is shown escaped");
    let (status, _, _) = send(&app, with_cookie(get("/customers?status=bogus"), &owner)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // segment and value tier: the page and its CSV hold exactly whom the service selects
    let mut cached = winback_app::assess::cached(store(&s.db), config()).unwrap();
    let want = winback_app::assess::lost(
        &mut cached,
        &LostFilter { segment: Some("Retail".into()), tier: Some("top".into()), ..Default::default() },
    )
    .unwrap();
    assert!(want.total > 0 && want.total < lost.total, "{} of {}", want.total, lost.total);
    let (_, _, page) = send(&app, with_cookie(get("/customers?segment=retail&tier=top"), &owner)).await;
    assert!(page.contains(&format!(" of {}", want.total)), "{page}");
    let (_, _, csv) = send(&app, with_cookie(get("/customers.csv?segment=retail&tier=top"), &owner)).await;
    assert_eq!(csv.lines().count(), want.total + 1);
    assert_eq!(send(&app, with_cookie(get("/customers?tier=huge"), &owner)).await.0, StatusCode::BAD_REQUEST);
    // ordered by last purchase: the CSV's rows follow the service's order
    let mut cached = winback_app::assess::cached(store(&s.db), config()).unwrap();
    let recent = winback_app::assess::lost(
        &mut cached,
        &LostFilter { order: winback_store::AssessedOrder::Recent, limit: Some(5), ..Default::default() },
    )
    .unwrap();
    let (_, _, csv) = send(&app, with_cookie(get("/customers.csv?sort=recent"), &owner)).await;
    let ids: Vec<&str> = csv.lines().skip(1).take(5).map(|l| l.split(',').next().unwrap_or("")).collect();
    let want: Vec<&str> = recent.customers.iter().map(|c| c.customer.as_str()).collect();
    assert_eq!(ids, want);
    assert_ne!(
        want.first().copied(),
        lost.customers.first().map(|c| c.customer.as_str()),
        "a different order from by value"
    );
    let (_, _, page) = send(&app, with_cookie(get("/customers?sort=longest"), &owner)).await;
    assert!(page.contains("longest since buying first"), "{page}");
    assert_eq!(send(&app, with_cookie(get("/customers?sort=name"), &owner)).await.0, StatusCode::BAD_REQUEST);

    // a customer held by an open cause: record a reason from a call, close the cause, no longer held
    let held =
        winback_app::assess::lost(&mut c, &winback_app::assess::LostFilter { held: Some(true), ..Default::default() })
            .unwrap()
            .customers
            .into_iter()
            .next()
            .expect("a held customer in the demo");
    let (status, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Held: #"), "{page}");
    let csrf = csrf_of(&page);
    let form =
        format!("csrf={csrf}&category=price&scope=specific&source=call&detail=too+dear+now&suggestion=a+loyalty+price");
    let (status, h, _) =
        send(&app, with_cookie(post(&format!("/customers/{}/reasons", held.customer), &form), &owner)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h.get(header::LOCATION).unwrap(), &format!("/customers/{}", held.customer));
    let r = store(&s.db).reasons().unwrap().into_iter().last().unwrap();
    assert_eq!(
        (r.customer.as_str(), r.source.name(), r.recorded_by.as_str()),
        (held.customer.as_str(), "call", "owner@shop.test")
    );
    assert_eq!(r.suggestion.as_deref(), Some("a loyalty price"));
    let (_, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &owner)).await;
    assert!(page.contains("too dear now") && page.contains("a loyalty price"));
    let (status, _, page) = send(&app, with_cookie(get("/customers/NOPE-404"), &owner)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");

    // causes: add one, close every open one; the customer is then not held
    let (_, _, page) = send(&app, with_cookie(get("/causes"), &owner)).await;
    let (status, _, _) = send(
        &app,
        with_cookie(post("/causes", &format!("csrf={csrf}&title=Slow+refunds&category=billing&status=open")), &owner),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let causes = store(&s.db).causes().unwrap();
    let added = causes.iter().find(|c| c.title == "Slow refunds").expect("added");
    assert!(page.contains("customers held"));
    // change it: a clearer title, a second category, in progress
    let (status, _, _) = send(
        &app,
        with_cookie(
            post(
                &format!("/causes/{}", added.id),
                &format!("csrf={csrf}&title=Refunds+take+three+weeks&category=billing&category=poor_service&status=in_progress"),
            ),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // without a category, or without the form token, nothing changes
    let (status, _, _) =
        send(&app, with_cookie(post(&format!("/causes/{}", added.id), &format!("csrf={csrf}&title=x")), &owner)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) =
        send(&app, with_cookie(post(&format!("/causes/{}", added.id), "csrf=nope&title=x&category=billing"), &owner))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let causes = store(&s.db).causes().unwrap();
    let changed = causes.iter().find(|c| c.id == added.id).expect("still there");
    assert_eq!(changed.title, "Refunds take three weeks");
    assert_eq!(changed.status.name(), "in_progress");
    let cats: Vec<&str> = changed.categories.iter().map(|c| c.as_str()).collect();
    assert_eq!(cats, ["billing", "poor_service"]);
    for cz in causes.iter().filter(|c| c.status.holds()) {
        let (status, _, _) = send(
            &app,
            with_cookie(post(&format!("/causes/{}/close", cz.id), &format!("csrf={csrf}&announce=fixed+it")), &owner),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (_, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &owner)).await;
    assert!(!page.contains("Held: #"), "no longer held once the causes are fixed");

    // do-not-contact from the customer page
    let (status, _, _) = send(
        &app,
        with_cookie(
            post(&format!("/customers/{}/do-not-contact", held.customer), &format!("csrf={csrf}&value=yes")),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let f = store(&s.db).customer(&held.customer).unwrap().unwrap();
    assert!(f.do_not_contact);
    let (_, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &owner)).await;
    assert!(page.contains("Allow contact again"));
    assert!(page.contains("<h2>Campaigns</h2>") && page.contains("Scores across analysis runs"), "{page}");

    // a survey link made on the customer page opens their survey
    let (status, _, page) = send(
        &app,
        with_cookie(post(&format!("/customers/{}/survey-link", held.customer), &format!("csrf={csrf}")), &owner),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = page.replace("&#x2f;", "/");
    let at = page.find("http://127.0.0.1:8080/s/").unwrap();
    let link = &page[at + "http://127.0.0.1:8080".len()..];
    let link = &link[..link.find('"').unwrap()];
    assert_eq!(send(&app, get(link)).await.0, StatusCode::OK);

    // campaigns: the list (counted in the store) agrees with counting the members
    let mut st = store(&s.db);
    let listed = winback_app::campaigns::list(st.as_mut()).unwrap();
    let row = st.campaigns().unwrap().remove(0);
    let counted = winback_app::campaigns::summarise(&row, &st.campaign_members(row.id).unwrap());
    assert_eq!(serde_json::to_value(&listed[0]).unwrap(), serde_json::to_value(&counted).unwrap());
    // campaigns: the list and the report
    let (_, _, page) = send(&app, with_cookie(get("/campaigns"), &owner)).await;
    assert!(page.contains("href=\"/campaigns/first\""));
    let mut w = winback_app::assess::load(store(&s.db), config()).unwrap();
    let r = winback_app::outcomes::report(&mut w, "first", None).unwrap();
    let (status, _, page) = send(&app, with_cookie(get("/campaigns/first"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("{:.1}%", 100.0 * r.report.overall.lift)), "{page}");
    assert!(page.contains(&winback_domain::decision::format_money(r.report.revenue_per_treated)), "{page}");
    assert!(page.contains("By strategy"), "{page}");
    assert_eq!(send(&app, with_cookie(get("/campaigns/nope"), &owner)).await.0, StatusCode::NOT_FOUND);
    // the messages as members will get them, as `campaign preview` renders them
    let mut w = winback_app::assess::load(store(&s.db), config()).unwrap();
    let (messages, _) = winback_app::campaigns::preview(&mut w, "first", None, 5).unwrap();
    let (status, _, page) = send(&app, with_cookie(get("/campaigns/first/preview"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    for m in &messages {
        if m.subject.contains('<') {
            assert!(!page.contains("<script>alert") && page.contains("&lt;script&gt;"), "an evil name stays text");
        } else {
            let subject = m.subject.replace('\'', "&#x27;");
            assert!(page.contains(&subject), "{subject} in {page}");
        }
    }
    assert_eq!(send(&app, with_cookie(get("/campaigns/nope/preview"), &owner)).await.0, StatusCode::NOT_FOUND);

    // reports: the defection report's reasons, as the service counts them
    let mut w = winback_app::assess::load(store(&s.db), config()).unwrap();
    let report = winback_app::reports::defection(&mut w, None).unwrap();
    let (status, _, page) = send(&app, with_cookie(get("/reports"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    let top = &report.reasons[0];
    assert!(page.contains(&format!("<td>{}</td><td>{}</td>", top.label, top.customers)), "{page}");
    // a check-in for someone not in the campaign: refused, nothing recorded
    let (status, _, _) = send(
        &app,
        with_cookie(
            post("/followups", &format!("csrf={csrf}&campaign=first&customer=NOPE&offset_days=14&satisfied=yes")),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(store(&s.db).followups().unwrap().is_empty());
    // the customer page lists their check-ins from the reports' (now current) knowledge
    let (_, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &owner)).await;
    assert!(page.contains("<h2>Check-ins</h2>") && page.contains("No check-in due."), "{page}");

    // staff record reasons too, but manage no users
    let staff = login(&app, "staff@shop.test", "staff-password-1").await;
    let (_, _, page) = send(&app, with_cookie(get(&format!("/customers/{}", held.customer)), &staff)).await;
    let scsrf = csrf_of(&page);
    let (status, _, _) = send(
        &app,
        with_cookie(
            post(&format!("/customers/{}/reasons", held.customer), &format!("csrf={scsrf}&category=delivery")),
            &staff,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!page.contains("href=\"/users\""), "no Users link for staff");
    // every page needs a session
    for p in ["/customers", "/customers.csv", "/causes", "/campaigns", "/campaigns/first"] {
        assert_eq!(send(&app, get(p)).await.0, StatusCode::SEE_OTHER, "{p}");
    }
}

/// Accessibility basics on every page: a title, one h1, a label for every
/// field, and forms that work from the keyboard (real buttons, no
/// click-only elements).
fn accessible(path: &str, page: &str) {
    let title = page.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or("");
    assert!(!title.trim().is_empty(), "{path}: no title");
    assert_eq!(page.matches("<h1").count(), 1, "{path}: one h1");
    assert!(page.contains("lang=\"en\"") && page.contains("name=\"viewport\""), "{path}");
    assert!(!page.contains("onclick") && !page.contains("<script"), "{path}: no script needed");
    let mut rest = page;
    while let Some(at) = rest.find(['<']) {
        rest = &rest[at + 1..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        let name = tag.split_whitespace().next().unwrap_or("");
        if !["input", "select", "textarea"].contains(&name) {
            continue;
        }
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        if tag.contains("aria-label=") {
            continue;
        }
        let labelled_inside = {
            // <label ...><input ...> text</label>: the field sits inside its label
            let before = &page[..page.len() - rest.len()];
            before.rfind("<label").is_some_and(|l| before.rfind("</label>").is_none_or(|c| c < l))
        };
        if labelled_inside {
            continue;
        }
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("{path}: a field without id or label: <{tag}>"));
        assert!(page.contains(&format!("for=\"{id}\"")), "{path}: no label for #{id}");
    }
}

#[tokio::test]
async fn every_page_has_a_title_a_heading_and_labelled_fields() {
    let s = shop("a11y");
    let app = app(&s.db, "http://127.0.0.1:8080");
    for p in ["/login", &format!("/s/{}", s.token), &format!("/u/{}", s.token), "/s/ffffffffffffffffffffffffffffffff"] {
        let (_, _, page) = send(&app, get(p)).await;
        accessible(p, &page);
    }
    let owner = login(&app, "owner@shop.test", "owner-password-1").await;
    let mut c = winback_app::assess::cached(store(&s.db), config()).unwrap();
    let someone = winback_app::assess::lost(&mut c, &Default::default()).unwrap().customers[0].customer.clone();
    for p in [
        "/",
        "/customers",
        &format!("/customers/{someone}"),
        "/causes",
        "/campaigns",
        "/campaigns/first",
        "/campaigns/first/preview",
        "/campaigns/new",
        "/reports",
        "/reports/backtest",
        "/reports/backtest?as_of=2025-06-01",
        "/data",
        "/users",
        "/settings/playbook",
        "/settings/thresholds",
    ] {
        let (status, _, page) = send(&app, with_cookie(get(p), &owner)).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        accessible(p, &page);
    }
    // the backtest page on careless or hostile input: a 400 that says why, nothing echoed raw
    for (q, why) in [
        ("as_of=01%2F02%2F2025", "is not a date"),
        ("as_of=1990-01-01", "before the first stored purchase"),
        ("as_of=2025-06-01&until=2025-01-01", "must be after"),
        ("as_of=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "is not a date"),
    ] {
        let (status, _, page) = send(&app, with_cookie(get(&format!("/reports/backtest?{q}")), &owner)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {page}");
        assert!(page.contains(why), "{q}: {page}");
        assert!(!page.contains("<script>alert"), "{q}: escaped");
    }
}

fn multipart(csrf: &str, name: &str, content: &str) -> (String, String) {
    let (ct, body) = multipart_bytes(csrf, name, content.as_bytes());
    (ct, String::from_utf8(body).unwrap())
}

/// A multipart upload of any bytes (a file in a Windows code page).
fn multipart_bytes(csrf: &str, name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let b = "----winbacktestboundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// Upload a file as the signed-in owner; the preview page's address.
async fn upload(app: &Router, cookie: &str, csrf: &str, name: &str, content: &[u8]) -> String {
    let (ct, body) = multipart_bytes(csrf, name, content);
    let req = Request::post("/data/upload")
        .header(header::CONTENT_TYPE, ct)
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    let (status, h, _) = send(app, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    h.get(header::LOCATION).unwrap().to_str().unwrap().to_string()
}

/// Wait for a background job's page to say it is done; its text.
async fn finished(app: &Router, cookie: &str, location: &str) -> String {
    for _ in 0..200 {
        let (_, _, page) = send(app, with_cookie(get(location), cookie)).await;
        if !page.contains("http-equiv=\"refresh\"") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job at {location} did not finish");
}

#[tokio::test]
async fn an_export_is_uploaded_previewed_imported_and_analysed() {
    let s = shop("data");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let owner = login(&app, "owner@shop.test", "owner-password-1").await;
    let (_, _, page) = send(&app, with_cookie(get("/data"), &owner)).await;
    let csrf = csrf_of(&page);
    let orders = "customer_id,date,amount\nN1,2025-11-02,12.50\nN1,2025-12-01,8.00\nN2,2025-12-03,30.00\nN3,not a date,5.00\nN2,2025-12-03,30.00\n";
    let preview = upload(&app, &owner, &csrf, "new orders.csv", orders.as_bytes()).await;
    let (status, _, page) = send(&app, with_cookie(get(&preview), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<th scope=\"col\">customer_id</th>") && page.contains("<td>N2</td>"), "{page}");
    assert!(page.contains("value=\"transactions\" selected"));
    let before = store(&s.db).counts().unwrap().into_iter().find(|(t, _)| *t == "transactions").unwrap().1;
    let (status, h, _) = send(
        &app,
        with_cookie(
            post(&format!("{preview}/import"), &format!("csrf={csrf}&kind=transactions&max_rejects=1")),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let job = h.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
    let refused = finished(&app, &owner, &job).await;
    assert!(
        refused.contains("1 of 5 lines (20.0%) could not be read") && refused.contains("nothing was imported"),
        "{refused}"
    );
    let (status, h, _) = send(
        &app,
        with_cookie(
            post(&format!("{preview}/import"), &format!("csrf={csrf}&kind=transactions&max_rejects=25")),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let job = h.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
    let done = finished(&app, &owner, &job).await;
    assert!(done.contains("5 lines: 4 imported") && done.contains("0 duplicates, 1 rejected"), "{done}");
    let after = store(&s.db).counts().unwrap().into_iter().find(|(t, _)| *t == "transactions").unwrap().1;
    assert_eq!(after - before, 4, "without order ids, two equal lines are two purchases");
    let (status, h, rejects) = send(&app, with_cookie(get(&format!("{preview}/rejects")), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    assert!(rejects.contains("not a date"), "{rejects}");

    // an analysis as a job; one job at a time
    let (status, h, _) = send(&app, with_cookie(post("/data/analyze", &format!("csrf={csrf}")), &owner)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let job = h.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
    let done = finished(&app, &owner, &job).await;
    assert!(done.contains("Done. Run 2"), "{done}");
    assert_eq!(store(&s.db).runs().unwrap().len(), 2);

    // staff cannot import; unknown uploads are 404; no token, no upload
    let staff = login(&app, "staff@shop.test", "staff-password-1").await;
    assert_eq!(send(&app, with_cookie(get("/data"), &staff)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, with_cookie(get("/data/ffff0000"), &owner)).await.0, StatusCode::NOT_FOUND);
    let (ct, body) = multipart("wrong", "x.csv", orders);
    let req = Request::post("/data/upload")
        .header(header::CONTENT_TYPE, ct)
        .header(header::COOKIE, &owner)
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, req).await.0, StatusCode::FORBIDDEN);
}

/// A file Excel on Windows saved (Windows-1252): previewed and imported as
/// such, said so; told it is UTF-8, refused with what to choose instead.
#[tokio::test]
async fn a_windows_code_page_upload_is_read_and_said_so() {
    let s = shop("cp1252");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let owner = login(&app, "owner@shop.test", "owner-password-1").await;
    let (_, _, page) = send(&app, with_cookie(get("/data"), &owner)).await;
    let csrf = csrf_of(&page);
    let orders =
        b"customer_id,date,amount\nRen\xe9,2025-11-02,12.50\nRen\xe9,2025-12-01,8.00\nZo\xeb,2025-12-03,30.00\n";
    let preview = upload(&app, &owner, &csrf, "excel.csv", orders).await;
    let (_, _, page) = send(&app, with_cookie(get(&preview), &owner)).await;
    assert!(page.contains("<td>Ren\u{e9}</td>") && page.contains("read as Windows-1252"), "{page}");
    assert!(page.contains("<select id=\"encoding\" name=\"encoding\">"), "{page}");
    let import = |encoding: &'static str| {
        let (app, owner, preview, csrf) = (app.clone(), owner.clone(), preview.clone(), csrf.clone());
        async move {
            let form = format!("csrf={csrf}&kind=transactions&max_rejects=1&encoding={encoding}");
            let (status, h, _) = send(&app, with_cookie(post(&format!("{preview}/import"), &form), &owner)).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{encoding}");
            let job = h.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
            finished(&app, &owner, &job).await
        }
    };
    let refused = import("utf-8").await;
    assert!(refused.contains("nothing was imported") && refused.contains("text encoding “Windows”"), "{refused}");
    assert!(!refused.contains("--max-reject-rate"), "the page does not speak in CLI flags: {refused}");
    let done = import("auto").await;
    assert!(done.contains("3 lines: 3 imported") && done.contains("read as Windows-1252"), "{done}");
    let ids: Vec<String> =
        store(&s.db).customer_facts().unwrap().customers.into_iter().map(|c| c.external_id).collect();
    assert!(ids.contains(&"Ren\u{e9}".to_string()) && ids.contains(&"Zo\u{eb}".to_string()), "{ids:?}");
    let (status, _, _) = send(
        &app,
        with_cookie(
            post(&format!("{preview}/import"), &format!("csrf={csrf}&kind=transactions&encoding=ebcdic")),
            &owner,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_playbook_is_checked_before_it_is_saved() {
    let s = shop("playbook");
    let app = app(&s.db, "http://127.0.0.1:8080");
    let _ = std::fs::remove_file(playbook_file());
    let owner = login(&app, "owner@shop.test", "owner-password-1").await;
    let (status, _, page) = send(&app, with_cookie(get("/settings/playbook"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("This is the built-in playbook") && page.contains("[[rules]]"));
    let csrf = csrf_of(&page);
    let enc = |t: &str| {
        t.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    let bad = winback_domain::playbook::DEFAULT.replace("strategy = \"incentive\"", "strategy = \"bribe\"");
    let (status, _, page) = send(
        &app,
        with_cookie(post("/settings/playbook", &format!("csrf={csrf}&action=save&text={}", enc(&bad))), &owner),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("line 37: rule") && page.contains("nothing was saved"), "{page}");
    assert!(!playbook_file().exists());
    let good = winback_domain::playbook::DEFAULT.replace("The Coffee Shop", "The Tea Shop");
    let (_, _, page) = send(
        &app,
        with_cookie(post("/settings/playbook", &format!("csrf={csrf}&action=save&text={}", enc(&good))), &owner),
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    assert!(std::fs::read_to_string(playbook_file()).unwrap().contains("The Tea Shop"));
    let staff = login(&app, "staff@shop.test", "staff-password-1").await;
    assert_eq!(send(&app, with_cookie(get("/settings/playbook"), &staff)).await.0, StatusCode::FORBIDDEN);
    let _ = std::fs::remove_file(playbook_file());

    // thresholds: checked, then saved and used at once
    let _ = std::fs::remove_file(config_file());
    let (status, _, page) = send(&app, with_cookie(get("/settings/thresholds"), &owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("lapsed_below = 0.4") && page.contains("These are the defaults"), "{page}");
    let before = send(&app, with_cookie(get("/customers"), &owner)).await.2;
    let bad = winback_app::config::DEFAULT.replace("lost_below = 0.15", "lost_below = 0.9");
    let (_, _, page) =
        send(&app, with_cookie(post("/settings/thresholds", &format!("csrf={csrf}&text={}", enc(&bad))), &owner)).await;
    assert!(page.contains("Nothing was saved") && page.contains("lost_below"), "{page}");
    assert!(!config_file().exists());
    // everyone not bought for a usual gap and a half is lapsed: far more customers gone
    let strict = winback_app::config::DEFAULT
        .replace("lapsed_gaps = 3.0", "lapsed_gaps = 1.5")
        .replace("at_risk_gaps = 2.0", "at_risk_gaps = 1.0");
    let (_, _, page) =
        send(&app, with_cookie(post("/settings/thresholds", &format!("csrf={csrf}&text={}", enc(&strict))), &owner))
            .await;
    assert!(page.contains("Saved and in use"), "{page}");
    assert!(std::fs::read_to_string(config_file()).unwrap().contains("lapsed_gaps = 1.5"));
    let after = send(&app, with_cookie(get("/customers"), &owner)).await.2;
    let rules = winback_app::config::parse(&strict).unwrap();
    let cfg = Config { taxonomy: winback_domain::reasons::Taxonomy::with(&rules.categories), rules, source: None };
    let mut cached = winback_app::assess::cached(store(&s.db), cfg).unwrap();
    let want = winback_app::assess::lost(&mut cached, &LostFilter::default()).unwrap();
    assert!(
        after.contains(&format!(" of {}", want.total)) && !before.contains(&format!(" of {}", want.total)),
        "{after}"
    );
    assert_eq!(send(&app, with_cookie(get("/settings/thresholds"), &staff)).await.0, StatusCode::FORBIDDEN);
    let _ = std::fs::remove_file(config_file());
}
