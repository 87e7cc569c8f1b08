//! The win-back workflow end to end on the synthetic shop, on SQLite and
//! PostgreSQL: import → analyze → lost → reasons → fix → report. The figures the
//! reports give are recomputed here from the CSV files the shop exported.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::store::{stores, Db};

/// What the test knows from the exported files alone.
struct Shop {
    net: HashMap<String, f64>,
    gross: HashMap<String, f64>,
    last_purchase: HashMap<String, i64>,
    flags: HashMap<String, String>,
    dnc: HashSet<String>,
    contract_end: HashMap<String, String>,
    /// customer → reason categories (distinct, sorted)
    reasons: BTreeMap<String, Vec<String>>,
    suggestions: usize,
    /// (customer, day, kind)
    events: Vec<(String, i64, String)>,
}

fn day(s: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
}

fn read(db: &Db, name: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(db.file(&format!("shop/{name}"))).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|x| h.iter().cloned().zip(x.unwrap().iter().map(String::from)).collect()).collect()
}

fn shop(db: &Db) -> Shop {
    let mut s = Shop {
        net: HashMap::new(),
        gross: HashMap::new(),
        last_purchase: HashMap::new(),
        flags: HashMap::new(),
        dnc: HashSet::new(),
        contract_end: HashMap::new(),
        reasons: BTreeMap::new(),
        suggestions: 0,
        events: Vec::new(),
    };
    for o in read(db, "orders.csv") {
        let (c, a) = (o["customer_id"].clone(), o["total"].parse::<f64>().unwrap());
        *s.net.entry(c.clone()).or_default() += a;
        if a > 0.0 {
            *s.gross.entry(c.clone()).or_default() += a;
            let d = day(&o["order_date"]);
            let e = s.last_purchase.entry(c).or_insert(d);
            *e = (*e).max(d);
        }
    }
    for c in read(db, "customers.csv") {
        let id = c["customer_id"].clone();
        s.flags.insert(id.clone(), c["flags"].clone());
        if c["do_not_contact"] == "yes" {
            s.dnc.insert(id.clone());
        }
        if !c["contract_end"].is_empty() {
            s.contract_end.insert(id, c["contract_end"].clone());
        }
    }
    for r in read(db, "reasons.csv") {
        let v = s.reasons.entry(r["customer"].clone()).or_default();
        v.push(r["category"].clone());
        v.sort();
        v.dedup();
        s.suggestions += usize::from(!r["suggestion"].is_empty());
    }
    for e in read(db, "events.csv") {
        s.events.push((e["customer_id"].clone(), day(&e["date"]), e["kind"].clone()));
    }
    s
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn synthetic_shop_import_analyze_lost_reasons_fix_report() {
    for db in stores("workflow") {
        let dir = db.file("shop").display().to_string();
        let head = db.ok(&["demo", "--dir", &dir, "--customers", "1500", "--seed", "11", "--store", &db.url]);
        assert!(head.contains("customers are lost, worth"), "{head}");
        assert!(head.contains("the ten most valuable customers to win back"));
        let shop = shop(&db);
        assert_eq!(db.count("customers"), 1500);
        assert_eq!(db.count("root_causes"), 3);
        let given: usize = read(&db, "reasons.csv").len();
        assert_eq!(db.count("reasons") as usize, given);

        // statuses: every customer has one; an ended contract means churned
        let all = db.json(&["export", "--format", "json"]);
        let status: HashMap<String, String> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["customer"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(status.len(), 1500);
        for (c, end) in &shop.contract_end {
            if end.as_str() <= "2025-12-31" {
                assert_eq!(status[c], "churned", "{c}: contract ended {end}");
            }
        }
        let lost_set: HashSet<&String> =
            status.iter().filter(|(_, s)| *s == "lost" || *s == "churned").map(|(c, _)| c).collect();
        let gone: HashSet<&String> = status
            .iter()
            .filter(|(_, s)| matches!(s.as_str(), "lapsed" | "lost" | "churned"))
            .map(|(c, _)| c)
            .collect();
        assert!(lost_set.len() > 300 && lost_set.len() < 1300, "{} lost", lost_set.len());

        // decisions: one per gone customer, each with its reasons; values from the files
        let lost = db.json(&["lost", "--format", "json"]);
        let lost = lost.as_array().unwrap();
        assert_eq!(lost.len(), gone.len());
        let mut held_by: HashMap<String, Vec<i64>> = HashMap::new();
        for c in lost {
            let id = c["customer"].as_str().unwrap();
            close(f(&c["net_revenue"]), shop.net[id], &format!("{id} net revenue"));
            let rate = (shop.gross[id] - shop.net[id]) / shop.gross[id];
            close(f(&c["return_rate"]), rate, &format!("{id} return rate"));
            let codes: Vec<&str> = c["codes"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
            let why = c["why"].as_array().unwrap();
            assert!(!codes.is_empty() && codes.len() == why.len(), "{id}: every decision names its reasons");
            let flagged = shop.flags[id].contains("fraud") || shop.flags[id].contains("abusive");
            if flagged || shop.dnc.contains(id) || rate > 0.3 {
                assert_eq!(c["decision"], "walk_away", "{id}: {codes:?}");
            }
            if shop.dnc.contains(id) {
                assert!(codes.contains(&"do_not_contact"));
            }
            if rate > 0.3 {
                assert!(codes.contains(&"high_return_rate"));
                let pct = format!("returns {:.0}% of what they buy", 100.0 * rate);
                assert!(why.iter().any(|w| w.as_str().unwrap().starts_with(&pct)), "{id}: {why:?}");
            }
            // held exactly when a reason falls under the open (#2 poor_service) or in-progress
            // (#3 price, competitor) cause
            let cats = shop.reasons.get(id).cloned().unwrap_or_default();
            let mut want: Vec<i64> = Vec::new();
            if cats.iter().any(|c| c == "poor_service") {
                want.push(2);
            }
            if cats.iter().any(|c| c == "price" || c == "competitor") {
                want.push(3);
            }
            let held: Vec<i64> = c["held_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap()[1..].split(' ').next().unwrap().parse().unwrap())
                .collect();
            assert_eq!(held, want, "{id}: held by {:?}", c["held_by"]);
            held_by.insert(id.to_string(), held);
        }
        // most valuable first
        let values: Vec<f64> = lost.iter().map(|c| f(&c["value_if_won"])).collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
        let decisions: HashSet<&str> = lost.iter().map(|c| c["decision"].as_str().unwrap()).collect();
        assert_eq!(decisions.len(), 3, "all three decisions occur: {decisions:?}");

        // the defection report against the files
        let rep = db.json(&["report", "defection", "--format", "json"]);
        assert_eq!(rep["lost"].as_u64().unwrap() as usize, lost_set.len());
        let lost_net: f64 = lost_set.iter().map(|c| shop.net[*c]).sum();
        close(f(&rep["lost_net_revenue"]), lost_net, "lost net revenue");
        let mut by_cat: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        let mut without = 0;
        for c in &lost_set {
            match shop.reasons.get(*c) {
                Some(cats) => {
                    for cat in cats {
                        let e = by_cat.entry(cat.clone()).or_default();
                        e.0 += 1;
                        e.1 += shop.net[*c] / cats.len() as f64;
                    }
                }
                None => without += 1,
            }
        }
        assert_eq!(rep["lost_without_reason"].as_u64().unwrap() as usize, without);
        let rows = rep["reasons"].as_array().unwrap();
        assert_eq!(rows.len(), by_cat.len());
        for r in rows {
            let (n, rev) = by_cat[r["category"].as_str().unwrap()];
            assert_eq!(r["customers"].as_u64().unwrap() as usize, n, "{r}");
            close(f(&r["revenue_lost"]), rev, &format!("revenue lost to {}", r["category"]));
        }
        let revenues: Vec<f64> = rows.iter().map(|r| f(&r["revenue_lost"])).collect();
        assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "ranked by revenue");
        close(f(&rows.last().unwrap()["cumulative_share"]), 1.0, "Pareto ends at 100%");
        let months: u64 = rep["by_month"].as_array().unwrap().iter().map(|m| m["lost"].as_u64().unwrap()).sum();
        assert_eq!(months as usize, lost_set.len());
        // open causes hold the gone customers whose reasons they cover
        let causes = rep["open_causes"].as_array().unwrap();
        assert_eq!(causes.len(), 2);
        for c in causes {
            let id = c["id"].as_i64().unwrap();
            let n = held_by.values().filter(|h| h.contains(&id)).count();
            assert_eq!(c["held_customers"].as_u64().unwrap() as usize, n, "cause #{id}");
        }
        assert!(!rep["swot"]["strengths"].as_array().unwrap().is_empty());
        assert!(rep["swot"]["opportunities"][0].as_str().unwrap().starts_with("customers suggest"));

        // journey signals against the files
        let j = db.json(&["report", "journey", "--format", "json"]);
        let as_of = day("2025-12-31");
        let mut last_activity: HashMap<&str, i64> = shop.last_purchase.iter().map(|(c, d)| (c.as_str(), *d)).collect();
        for (c, d, _) in &shop.events {
            let e = last_activity.entry(c.as_str()).or_insert(*d);
            *e = (*e).max(*d);
        }
        for row in j.as_array().unwrap() {
            let kind = row["event"].as_str().unwrap();
            let mut lost_with = HashSet::new();
            let mut stayed_with = HashSet::new();
            for (c, d, _) in shop.events.iter().filter(|e| e.2 == kind) {
                // both groups: the 90 days up to their last activity
                let end = last_activity[c.as_str()].min(as_of);
                let inside = *d <= end && *d > end - 90;
                match status.get(c).map(String::as_str) {
                    Some("lost" | "churned") if inside => {
                        lost_with.insert(c);
                    }
                    Some("active") if inside => {
                        stayed_with.insert(c);
                    }
                    _ => {}
                }
            }
            assert_eq!(row["lost_with"].as_u64().unwrap() as usize, lost_with.len(), "{kind}");
            assert_eq!(row["stayed_with"].as_u64().unwrap() as usize, stayed_with.len(), "{kind}");
        }
        let late = j.as_array().unwrap().iter().find(|r| r["event"] == "late_delivery").unwrap();
        assert!(f(&late["ci_low"]) > 1.0, "late deliveries precede defection: {late}");

        // fixing #2 releases the customers it alone held
        let held_before = db.json(&["lost", "--held", "--format", "json"]).as_array().unwrap().len();
        let only_2 = held_by.values().filter(|h| h.as_slice() == [2]).count();
        let closed = db.ok(&["fix", "close", "2", "--fixed-on", "2025-12-20", "--announce", "weekend support 9 to 5"]);
        assert!(closed.contains("fixed on 2025-12-20"), "{closed}");
        let held_after = db.json(&["lost", "--held", "--format", "json"]).as_array().unwrap().len();
        assert_eq!(held_before - held_after, only_2);
        let rep = db.json(&["report", "defection", "--format", "json"]);
        assert_eq!(rep["open_causes"].as_array().unwrap().len(), 1);

        // a reason by hand, linked to the cause covering its category
        let someone = lost_set.iter().next().unwrap().as_str();
        let out = db.ok(&[
            "reason",
            "add",
            someone,
            "--category",
            "Delivery",
            "--systemic",
            "--detail",
            "box crushed",
            "--source",
            "call",
            "--date",
            "2025-12-30",
            "--by",
            "sam",
            "--format",
            "json",
        ]);
        let r: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(r["cause"], 1);
        assert_eq!(r["recorded_by"], "sam");
        let listed = db.json(&["reason", "list", "--customer", someone, "--format", "json"]);
        assert!(listed.as_array().unwrap().iter().any(|x| x["detail"] == "box crushed"));

        // bad input is a clear error and changes nothing
        let before = db.count("reasons");
        let e = db.run(&["reason", "add", "NOBODY", "--category", "price"]);
        assert!(!e.status.success());
        assert!(String::from_utf8_lossy(&e.stderr).contains("unknown customer 'NOBODY'"));
        let e = db.run(&["reason", "add", someone, "--category", "weather"]);
        assert!(String::from_utf8_lossy(&e.stderr).contains("unknown reason category 'weather'"));
        let bad = db.file("bad_reasons.csv");
        std::fs::write(&bad, format!("customer,category,detail\n{someone},price,too dear\nNOBODY,price,x\n")).unwrap();
        let e = db.run(&["reason", "import", bad.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&e.stderr).contains("line 3: unknown customer 'NOBODY'"), "{e:?}");
        std::fs::write(&bad, format!("customer,category\n{someone},price\n{someone},weather\n{someone}\n")).unwrap();
        let e = String::from_utf8_lossy(&db.run(&["reason", "import", bad.to_str().unwrap()]).stderr).to_string();
        assert!(
            e.contains("line 3: unknown reason category 'weather'") && e.contains("line 4: expected 2 fields"),
            "{e}"
        );
        assert_eq!(db.count("reasons"), before, "nothing stored");
        // re-importing the shop's reasons adds nothing
        let again = db.json(&["reason", "import", db.file("shop/reasons.csv").to_str().unwrap(), "-f", "json"]);
        assert_eq!(again["imported"], 0);
        assert_eq!(again["duplicates"].as_u64().unwrap() as usize, given);
        let e = db.run(&["fix", "update", "99", "--status", "fixed"]);
        assert!(String::from_utf8_lossy(&e.stderr).contains("no root cause #99"));

        // the HTML report stands alone
        let html = db.file("defection.html");
        db.ok(&["report", "defection", "--format", "html", "-o", html.to_str().unwrap()]);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.starts_with("<!doctype html>") && page.matches("<svg").count() >= 3);
        assert!(!page.contains("<script") && !page.contains("http"), "self-contained");
    }
}

#[test]
fn config_changes_thresholds_and_is_checked() {
    let db = stores("config").into_iter().next().unwrap();
    let dir = db.file("shop").display().to_string();
    db.ok(&["demo", "--dir", &dir, "--customers", "400", "--seed", "5", "--store", &db.url]);
    let count = |args: &[&str]| db.json(args).as_array().unwrap().len();
    let walk = count(&["lost", "--decision", "walk_away", "-f", "json"]);
    let cfg = db.file("winback.toml");
    let init = db.ok(&["config", "init", cfg.to_str().unwrap()]);
    assert!(init.contains("wrote"));
    let text = std::fs::read_to_string(&cfg).unwrap().replace("max_return_rate = 0.3", "max_return_rate = 0.05");
    std::fs::write(&cfg, text).unwrap();
    let stricter = count(&["--config", cfg.to_str().unwrap(), "lost", "--decision", "walk_away", "-f", "json"]);
    assert!(stricter > walk, "{stricter} > {walk}");
    std::fs::write(&cfg, "[status]\nlost_below = 0.9\n").unwrap();
    let e = db.run(&["--config", cfg.to_str().unwrap(), "lost"]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("lost_below ≤ lapsed_below"));
    std::fs::write(&cfg, "[[categories]]\nkey = \"parking\"\nlabel = \"No parking\"\n").unwrap();
    let cats = db.ok(&["--config", cfg.to_str().unwrap(), "reason", "categories"]);
    assert!(cats.contains("No parking") && cats.contains("outgrew_us"));
}
