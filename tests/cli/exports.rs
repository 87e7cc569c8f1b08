//! Real-world files as they are: platform exports recognised from their header
//! (fixtures of our own in `tests/data/exports/`, made by `make_fixtures.py`
//! after each platform's layout), and every way an everyday file once lost data
//! silently. On SQLite and on PostgreSQL.

use std::path::Path;

use serde_json::Value;

use crate::store::{stores, Db};

fn fixture(name: &str) -> String {
    format!("{}/tests/data/exports/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Lines by outcome: imported, part of an order, skipped, duplicates, rejected.
fn outcomes(v: &Value) -> [u64; 5] {
    ["imported", "part_of_an_order", "skipped", "duplicates", "rejected"].map(|k| v[k].as_u64().unwrap_or(0))
}

/// Customers stored and their net revenue, from `winback customers`.
fn stored(db: &Db) -> (usize, f64) {
    let list = db.json(&["customers", "--status", "all", "-f", "json"]);
    let rows = list.as_array().cloned().unwrap_or_default();
    (rows.len(), rows.iter().map(|c| c["revenue"].as_f64().unwrap_or(0.0)).sum())
}

fn import(db: &Db, kind: &str, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["import", kind, file, "-f", "json"];
    args.extend_from_slice(extra);
    let v = db.json(&args);
    let [a, b, c, d, e] = outcomes(&v);
    assert_eq!(a + b + c + d + e, v["rows"].as_u64().unwrap(), "{file}: the outcomes add up to the lines: {v}");
    v
}

#[test]
fn platform_exports_import_with_no_options() {
    // (file, recognised platform, outcomes, customers, net revenue)
    let cases: [(&str, &str, [u64; 5], usize, f64); 7] = [
        // 3 orders; #1001 and #1008 carry a second line item; voided, pending, test,
        // no-email and cancelled-and-refunded orders skipped; a line item whose
        // order is not in the file rejected
        ("shopify_orders.csv", "shopify_orders", [3, 2, 5, 0, 1], 2, 100.0 + 80.0 - 30.0 + 250.0),
        ("stripe_payments.csv", "stripe_payments", [4, 0, 2, 0, 0], 4, 8.0 + 0.0 + 12.0 + 10.8),
        ("etsy_sold_orders.tsv", "etsy_sold_orders", [2, 0, 1, 0, 0], 2, 30.0 + 15.0),
        ("paypal_activity.csv", "pay_pal_activity", [3, 0, 3, 0, 0], 2, 1234.56 - 34.56 + 20.0),
        ("online_retail.csv", "uci_online_retail", [3, 2, 1, 0, 0], 3, 35.64 + 66.68 - 27.5),
        ("square_transactions.csv", "square_transactions", [3, 0, 1, 0, 0], 2, 11.90 - 10.90 + 1200.0),
        ("woocommerce_orders.csv", "woo_commerce_orders", [3, 0, 2, 0, 0], 2, 47.0 + 25.5),
    ];
    for (file, platform, want, customers, net) in cases {
        for db in stores(&format!("exp_{}", &file[..file.find('.').unwrap_or(4).min(10)])) {
            let v = import(&db, "transactions", &fixture(file), &["--max-reject-rate", "1"]);
            assert_eq!(v["recognised"]["platform"], platform, "{file}: {v}");
            assert_eq!(outcomes(&v), want, "{file}: {v}");
            let (n, revenue) = stored(&db);
            assert_eq!(n, customers, "{file}");
            assert!((revenue - net).abs() < 0.005, "{file}: net revenue {revenue}, expected {net}");
            // the same file again changes nothing: every imported line is a duplicate
            let again = import(&db, "transactions", &fixture(file), &["--max-reject-rate", "1"]);
            assert_eq!(again["imported"], 0, "{file}: {again}");
            assert_eq!(again["duplicates"], v["imported"], "{file}: {again}");
            assert!((stored(&db).1 - net).abs() < 0.005);
        }
    }
}

#[test]
fn shopify_orders_fold_line_items_and_keep_refunds() {
    for db in stores("exp_shopify_detail") {
        let v = import(&db, "transactions", &fixture("shopify_orders.csv"), &["--max-reject-rate", "1"]);
        assert!(v["recognised"]["summary"].as_str().unwrap().starts_with("8 orders on 11 lines (4 paid, 1 partially refunded, 1 pending, 1 refunded, 1 voided; 1 cancelled); 3 imported"), "{v}");
        // emails differing in case are one customer: #1001 and #1003
        let ada = db.json(&["customer", "ada@example.com", "-f", "json"]);
        assert_eq!(ada["view"]["transactions"], 2);
        assert_eq!(ada["view"]["returns"], 1, "the partial refund of #1003 is kept as a return");
        let rejects = std::fs::read_to_string(db.dir.join("shopify_orders.csv.rejects.csv")).unwrap();
        for want in [
            "skipped,order #1002 was cancelled and refunded in full",
            "skipped,order #1004 was voided (never paid)",
            "skipped,order #1005 is not paid (Financial Status pending)",
            "skipped,test order #1006 (payment: (for testing) Bogus Gateway)",
            "skipped,\"order #1007 has no customer email, so no customer to attribute it to\"",
            "rejected,\"order #0999: the order's own fields (Financial Status, Total) are empty",
        ] {
            assert!(rejects.contains(want), "{want} not in\n{rejects}");
        }
    }
}

#[test]
fn customer_exports_import_with_no_options() {
    for db in stores("exp_customers") {
        let v = import(&db, "customers", &fixture("shopify_customers.csv"), &[]);
        assert_eq!(v["recognised"]["platform"], "shopify_customers");
        assert_eq!(outcomes(&v), [2, 0, 1, 0, 0]);
        // keyed by email in lower case, as the orders export names customers
        let cy = db.json(&["customer", "cy@example.com", "-f", "json"]);
        let consent: Vec<(String, bool)> = serde_json::from_value(cy["consent"].clone()).unwrap();
        assert!(consent.contains(&("email".into(), false)) && consent.contains(&("sms".into(), true)), "{cy}");
        let ada = db.json(&["customer", "ada@example.com", "-f", "json"]);
        assert_eq!(ada["phone"], "+1 617 555 0101");
        // with the orders imported, Total Spent and Total Orders are checked against them
        db.ok(&["import", "transactions", &fixture("shopify_orders.csv"), "--max-reject-rate", "1"]);
        let out = db.run(&["import", "customers", &fixture("shopify_customers.csv")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("agree with the imported orders for 2 of 2 customers"), "{err}");

        let v = import(&db, "customers", &fixture("stripe_subscriptions.csv"), &[]);
        assert_eq!(v["recognised"]["platform"], "stripe_subscriptions");
        assert_eq!(outcomes(&v), [3, 0, 1, 0, 0]);
        // contract churn: cus_A and cus_C ended every subscription, cus_B is active
        let reasons = db.json(&["reason", "list", "-f", "json"]);
        let got: Vec<(String, String)> = reasons
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["customer"].as_str().unwrap().to_owned(), r["category"].as_str().unwrap().to_owned()))
            .collect();
        assert!(got.contains(&("cus_A".into(), "price".into())), "{reasons}");
        assert!(got.contains(&("cus_C".into(), "unmet_need".into())), "{reasons}");
        assert_eq!(got.len(), 2);
        // the orders file is refused as customers, and the other way round, with the command to use
        let out = db.run(&["import", "customers", &fixture("shopify_orders.csv")]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("winback import transactions"));
        let out = db.run(&["import", "transactions", &fixture("shopify_customers.csv")]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("winback import customers"));
    }
}

fn write(db: &Db, name: &str, bytes: &[u8]) -> String {
    let p = db.file(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// An order exported one line per item (a generic file with an order id):
/// every item counts, a line pasted twice does not, a refund line is the
/// order's refund; monthly files joined with their headers import as one; the
/// same file again and a newer overlapping one add only what is new.
#[test]
fn line_items_of_an_order_count_and_joined_files_import_whole() {
    for db in stores("items") {
        let jan = "order_id,customer_id,date,amount,product\nO1,a,2024-01-02,5.00,tea\nO1,a,2024-01-02,7.00,cake\nO1,a,2024-01-02,5.00,tea\nO2,b,2024-01-09,6.00,tea\n";
        let feb = "order_id,customer_id,date,amount,product\nO3,a,2024-02-01,4.00,tea\nO1,a,2024-02-03,-7.00,cake\n";
        let joined = format!("{jan}{feb}");
        let v = import(&db, "transactions", &write(&db, "joined.csv", joined.as_bytes()), &[]);
        // 7 lines: O1, O2, O3 and O1's refund; cake; the pasted tea; the second header
        assert_eq!(outcomes(&v), [4, 1, 1, 1, 0], "{v}");
        let a = db.json(&["customer", "a", "-f", "json"])["view"].clone();
        assert_eq!(a["revenue"].as_f64(), Some(9.0), "12 + 4 − 7: {a}");
        assert_eq!(a["transactions"], 2, "{a}");
        let v = import(&db, "transactions", &write(&db, "joined.csv", joined.as_bytes()), &[]);
        assert_eq!(outcomes(&v)[0], 0, "the same file again adds nothing: {v}");
        let mar = format!("{feb}O4,b,2024-03-01,8.00,cake\n");
        let v = import(&db, "transactions", &write(&db, "feb_mar.csv", mar.as_bytes()), &[]);
        assert_eq!(outcomes(&v), [1, 0, 0, 2, 0], "{v}");
        assert_eq!(db.json(&["customer", "b", "-f", "json"])["view"]["revenue"].as_f64(), Some(14.0));
        // a column of placeholder ids (0 on every line) once stored one line
        // of the file and called the rest duplicates
        let f = "invoice,customer_id,date,amount\n0,p1,2024-01-02,5\n0,p2,2024-01-02,6\n0,p1,2024-01-09,7\n0,p1,2024-01-09,8\n";
        let v = import(&db, "transactions", &write(&db, "placeholder.csv", f.as_bytes()), &[]);
        assert_eq!(outcomes(&v), [3, 1, 0, 0, 0], "{v}");
        assert_eq!(db.json(&["customer", "p1", "-f", "json"])["view"]["revenue"].as_f64(), Some(20.0));
    }
}

/// A customers file imported again changes nothing and says so: its lines are
/// duplicates, as a line repeating an earlier one of the same file is; a line
/// that changes a customer is imported (the later line wins).
#[test]
fn a_customers_file_again_is_all_duplicates() {
    for db in stores("crm_again") {
        let f = "customer_id,name,email\nc1,Ann,ann@x.com\nc2,Bo,bo@y.com\nc1,Ann,ann@x.com\nc3,,\n";
        let p = write(&db, "crm.csv", f.as_bytes());
        assert_eq!(outcomes(&import(&db, "customers", &p, &[])), [3, 0, 0, 1, 0]);
        // (an id alone changes nothing, yet may make the customer: imported)
        assert_eq!(outcomes(&import(&db, "customers", &p, &[])), [1, 0, 0, 3, 0]);
        let p = write(&db, "crm2.csv", b"customer_id,name\nc1,Annie\nc2,Bo\n");
        assert_eq!(outcomes(&import(&db, "customers", &p, &[])), [1, 0, 0, 1, 0]);
        let c1 = db.json(&["customer", "c1", "-f", "json"])["view"].clone();
        assert_eq!((c1["name"].as_str(), c1["email"].as_str()), (Some("Annie"), Some("ann@x.com")), "{c1}");
    }
}

/// Each case once lost data silently; now every line is stored or reported.
#[test]
fn no_line_is_ever_lost_or_misread() {
    for db in stores("silent") {
        // an unquoted inch mark in one product name of a 1,000-line file
        let mut f = String::from("order_id,customer_id,date,amount,product\n");
        for i in 0..1000 {
            let product = if i == 3 { "27\" monitor" } else { "cable" };
            f += &format!("O{i},c{},2024-01-{:02},10.00,{product}\n", i % 40, 1 + i % 28);
        }
        let v = import(&db, "transactions", &write(&db, "inch.csv", f.as_bytes()), &[]);
        assert_eq!(outcomes(&v), [1000, 0, 0, 0, 0], "{v}");

        // CR-only line endings (classic Mac Excel)
        let f = "order_id,customer_id,date,amount\rM1,m1,2024-02-01,5\rM2,m2,2024-02-02,6\rM3,m1,2024-02-03,7\r";
        let v = import(&db, "transactions", &write(&db, "mac.csv", f.as_bytes()), &[]);
        assert_eq!(outcomes(&v), [3, 0, 0, 0, 0], "{v}");
        assert!(db.run(&["customer", "order_id"]).status.code() != Some(0), "no customer named after the header");
        assert_eq!(db.json(&["customer", "m1", "-f", "json"])["view"]["transactions"], 2);

        // a decimal comma column: 1.234 and 2.500 are thousands, as 1.234,56 shows
        let f = "order_id,customer_id,date,amount\nD1,d1,2024-03-01,\"1.234,56\"\nD2,d2,2024-03-01,1.234\nD3,d3,2024-03-01,2.500\n";
        let v = import(&db, "transactions", &write(&db, "comma.csv", f.as_bytes()), &[]);
        assert_eq!(outcomes(&v), [3, 0, 0, 0, 0], "{v}");
        for (c, want) in [("d1", 1234.56), ("d2", 1234.0), ("d3", 2500.0)] {
            assert_eq!(db.json(&["customer", c, "-f", "json"])["view"]["revenue"].as_f64(), Some(want), "{c}");
        }

        // amounts that are not numbers, or not finite, are rejected with their line
        let huge = format!("1{}", "0".repeat(308));
        let f = format!(
            "order_id,customer_id,date,amount\nB1,b1,2024-03-02,abc12\nB2,b2,2024-03-02,--5\nB3,b3,2024-03-02,{huge}\nB4,b4,2024-03-02,4.50\n"
        );
        let p = write(&db, "bad_amounts.csv", f.as_bytes());
        let out = db.run(&["import", "transactions", &p]);
        assert!(!out.status.success(), "3 of 4 lines rejected: above the reject limit");
        let v = import(&db, "transactions", &p, &["--max-reject-rate", "1"]);
        assert_eq!(outcomes(&v), [1, 0, 0, 0, 3], "{v}");
        let rejects = std::fs::read_to_string(db.dir.join("bad_amounts.csv.rejects.csv")).unwrap();
        assert!(rejects.contains("2,rejected,amount: 'abc12' is not an amount"), "{rejects}");
        assert!(rejects.contains("3,rejected,amount: '--5' is not an amount"), "{rejects}");
        assert!(rejects.contains("not a plausible amount"), "{rejects}");

        // two different invalid-UTF-8 order ids in a UTF-8 file (its ü says
        // so) are not one id: both are rejected
        let mut f = b"order_id,customer_id,date,amount\n".to_vec();
        f.extend_from_slice(b"X\xff1,u1,2024-04-01,1\nX\xfe1,u1,2024-04-02,2\nX3,\xc3\xbc1,2024-04-03,3\n");
        let v = import(&db, "transactions", &write(&db, "utf8.csv", &f), &["--max-reject-rate", "1"]);
        assert_eq!(outcomes(&v), [1, 0, 0, 0, 2], "{v}");
        // with no UTF-8 character at all, the same bytes are a Windows
        // code page's (Excel's "CSV (Comma delimited)"): ÿ and þ, two orders
        let mut f = b"order_id,customer_id,date,amount\n".to_vec();
        f.extend_from_slice(b"W\xff1,w\xe91,2024-04-01,1\nW\xfe1,w\xe91,2024-04-02,2\nW3,w\x801,2024-04-03,3\n");
        let out = db.run(&["import", "transactions", &write(&db, "cp1252.csv", &f), "-f", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(outcomes(&v), [3, 0, 0, 0, 0], "{v}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("read as Windows-1252"));
        assert!(
            v["notes"][0].as_str().is_some_and(|n| n.contains("read as Windows-1252")),
            "the JSON says so too: {v}"
        );
        assert_eq!(db.json(&["customer", "w\u{e9}1", "-f", "json"])["view"]["transactions"], 2);
        assert_eq!(db.json(&["customer", "w\u{20ac}1", "-f", "json"])["view"]["transactions"], 1);
        // told it is UTF-8, those lines are rejected, and the import refused
        let out = db.run(&["import", "transactions", &write(&db, "cp1252b.csv", &f), "--encoding", "utf-8"]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
        // a customers file in the code page, said so
        let c = b"customer_id,name\nw\xe91,Ren\xe9\n";
        let v = import(&db, "customers", &write(&db, "crm1252.csv", c), &["--encoding", "windows-1252"]);
        assert_eq!(outcomes(&v), [1, 0, 0, 0, 0], "{v}");
        assert_eq!(db.json(&["customer", "w\u{e9}1", "-f", "json"])["view"]["name"], "Ren\u{e9}");

        // a NUL byte or a 3,000-byte id costs its own line, on PostgreSQL too
        let long = "L".repeat(3000);
        let f = format!(
            "order_id,customer_id,date,amount\nN1,n\u{0}1,2024-05-01,1\nN2,{long},2024-05-01,1\n{long},n3,2024-05-01,1\nN4,n4,2024-05-01,1\n"
        );
        let v = import(&db, "transactions", &write(&db, "nul.csv", f.as_bytes()), &["--max-reject-rate", "1"]);
        assert_eq!(outcomes(&v), [1, 0, 0, 0, 3], "{v}");

        // a customers file with an unquoted comma in a name: that line is
        // rejected, the columns of the others are intact
        let f = "customer_id,name,email\nk1,Ada Lovelace,ada@example.com\nk2,Smith, John,john@example.com\nk3,Cy,cy@example.com\n";
        let v = import(&db, "customers", &write(&db, "crm.csv", f.as_bytes()), &["--max-reject-rate", "1"]);
        assert_eq!(outcomes(&v), [2, 0, 0, 0, 1], "{v}");
        assert_eq!(db.json(&["customer", "k3", "-f", "json"])["view"]["email"], "cy@example.com");
    }
}

#[test]
fn rejects_go_beside_the_store_and_a_failure_to_write_them_is_not_a_failed_import() {
    for db in stores("rejects_where") {
        // the input in a read-only folder: the list goes beside the store
        let ro = db.dir.join("readonly");
        std::fs::create_dir_all(&ro).unwrap();
        let input = ro.join("orders.csv");
        std::fs::write(&input, "order_id,customer_id,date,amount\nR1,r1,2024-01-01,5\nR1,r1,2024-01-01,5\n").unwrap();
        set_readonly(&ro, true);
        let v = import(&db, "transactions", input.to_str().unwrap(), &[]);
        assert_eq!(outcomes(&v), [1, 0, 0, 1, 0]);
        assert!(db.dir.join("orders.csv.rejects.csv").exists());
        assert!(!ro.join("orders.csv.rejects.csv").exists());
        // --rejects somewhere that cannot be written: a warning; the import landed
        let out = db.run(&["import", "transactions", input.to_str().unwrap(), "--rejects", "/nonexistent/dir/r.csv"]);
        set_readonly(&ro, false);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("warning: could not write"));
        assert_eq!(db.count("transactions"), 1);
    }
}

fn set_readonly(dir: &Path, ro: bool) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(if ro { 0o555 } else { 0o755 })).unwrap();
}

/// Several processes opening a brand-new store at once all succeed.
#[test]
fn a_new_store_opened_by_several_processes_at_once() {
    for round in 0..4 {
        for db in stores(&format!("race{round}")) {
            let children: Vec<_> = (0..4)
                .map(|_| {
                    crate::store::bin()
                        .env("WINBACK_DB", &db.url)
                        .args(["db", "status", "-f", "json"])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for c in children {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "[{}] {}", db.url, String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

#[test]
fn csv_output_cannot_run_as_a_spreadsheet_formula() {
    for db in stores("csv_inject") {
        let f = "order_id,customer_id,date,amount\nF1,=HYPERLINK(\"http://x\"),2024-01-01,5\nF2,@SUM(A1),2024-01-02,-3\nF3,-12,2024-01-03,2\n";
        import(&db, "transactions", &write(&db, "inject.csv", f.as_bytes()), &[]);
        let csv = db.ok(&["customers", "--status", "all", "-f", "csv"]);
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert!(csv.contains("'@SUM(A1)"), "{csv}");
        // a plain negative number is left as it is
        assert!(csv.lines().any(|l| l.starts_with("-12,")), "{csv}");
    }
}

/// A store whose newest customer bought for the first time on the last day (as
/// in almost every fresh export) is analysed: that customer is left out of the
/// fit, with the reason, and scored as new.
#[test]
fn a_customer_first_seen_on_the_last_day_does_not_stop_the_analysis() {
    for db in stores("t_zero") {
        import(&db, "transactions", &fixture("shopify_orders.csv"), &["--max-reject-rate", "1"]);
        // a new buyer on the last day of the file
        let f = "order_id,customer_id,date,amount\nN1,newbie,2024-04-01,12.00\n";
        import(&db, "transactions", &write(&db, "new.csv", f.as_bytes()), &[]);
        let run = db.json(&["analyze", "-f", "json"]);
        assert_eq!(run["observation_end"], "2024-04-01");
        assert_eq!(run["fit"]["excluded"]["rows"], 2, "cy and newbie first bought on 1 April: {run}");
        let c = db.json(&["customer", "newbie", "-f", "json"]);
        let score = &c["history"][0][2];
        assert_eq!(score["t"], 0.0);
        assert_eq!(score["p_alive"], 1.0, "{score}");
        assert!(score["expected_purchases"].as_f64().is_some_and(f64::is_finite), "{score}");
        // one customer in the model check: none is chosen, and the report says why
        let report = db.ok(&["report", "defection"]);
        assert!(report.contains("none chosen: only 1 customer had bought"), "{report}");
    }
}

/// A customers export handed to `import transactions` is refused with what to
/// do instead, said once (the cause's words were printed twice when the
/// library's message also carried its source).
#[test]
fn the_wrong_kind_of_export_is_refused_in_one_sentence() {
    for db in stores("wrong_kind") {
        let out = db.run(&["import", "transactions", &fixture("shopify_customers.csv")]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches("winback import customers").count(), 1, "{err}");
        assert!(err.contains("Shopify customers export"), "{err}");
        assert_eq!(db.count("transactions"), 0);
    }
}

/// Excel's "Unicode Text": UTF-16 with its byte-order mark, tab-separated,
/// CRLF. Read as the same file in UTF-8 would be; a workbook (.xlsx) is
/// refused with what to do instead.
#[test]
fn utf16_text_imports_and_workbooks_are_refused() {
    let text = "order_id\tcustomer\tdate\ttotal\r\n1\tZoë\t2024-01-02\t5.50\r\n2\tZoë\t2024-02-02\t7\r\n3\t李\t2024-01-05\t3\r\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    for db in stores("utf16") {
        let path = db.file("unicode.txt");
        std::fs::write(&path, &bytes).unwrap();
        let v = import(&db, "transactions", path.to_str().unwrap(), &[]);
        assert_eq!(outcomes(&v), [3, 0, 0, 0, 0], "{v}");
        let (n, revenue) = stored(&db);
        assert_eq!(n, 2);
        assert!((revenue - 15.5).abs() < 1e-9, "{revenue}");
        let book = db.file("sales.xlsx");
        std::fs::write(&book, b"PK\x03\x04\x14\x00\x06\x00").unwrap();
        let out = db.run(&["import", "transactions", book.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("save the sheet as CSV"), "{err}");
    }
}
