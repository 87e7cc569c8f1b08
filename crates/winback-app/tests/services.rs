//! The services on the demo shop, as the command line and the web server call
//! them: every count adds up and the figures agree between services.

use std::path::PathBuf;

use winback_app::{assess, causes, config, demo, reasons, reports, AppError};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("winback-app-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn default_config() -> config::Config {
    // no winback.toml in the test's working directory: the built-in rules
    config::load(None).unwrap()
}

fn shop(name: &str) -> (demo::Demo, PathBuf) {
    let d = dir(name);
    let req = demo::DemoRequest { customers: 300, seed: 7, dir: d.clone(), store: None, churn: Default::default() };
    let mut steps = Vec::new();
    let out = demo::run(&req, &default_config(), &mut |s| steps.push(s.to_string())).unwrap();
    assert_eq!(steps, ["customers.csv", "orders.csv", "events.csv", "reasons.csv", "analysis"]);
    (out, d)
}

#[test]
fn the_demo_goes_through_every_service_and_its_counts_add_up() {
    let (d, folder) = shop("demo");
    assert_eq!(d.customers, 300);
    assert_eq!(d.imports.len(), 3);
    for r in &d.imports {
        assert_eq!(r.rows, r.imported + r.part_of_an_order + r.skipped + r.duplicates + r.rejected, "{}", r.file);
        assert_eq!(r.rejected, 0, "{}: the demo writes clean files", r.file);
    }
    assert_eq!(d.imports[0].imported, 300);
    assert_eq!(d.imports[1].rows, d.orders);
    assert_eq!(d.reasons.rows, d.reasons_given);
    assert_eq!(d.reasons.imported + d.reasons.duplicates, d.reasons_given);
    assert_eq!(d.causes.len(), 3);
    assert_eq!(d.analysis.customers, 300);

    // the causes list and the defection report count the same held customers
    let store = winback_store::open(&d.store).unwrap();
    let mut w = assess::load(store, default_config()).unwrap();
    let list = causes::list(&w);
    let report = reports::defection(&mut w, None).unwrap();
    assert_eq!(report.customers, 300);
    for open in &report.open_causes {
        let row = list.iter().find(|r| r.cause.id == open.id).unwrap();
        assert_eq!(row.held_customers, open.held_customers, "cause #{}", open.id);
        assert!((row.held_value - open.held_value).abs() < 1e-6);
    }
    let fixed = list.iter().find(|r| r.cause.status.name() == "fixed").unwrap();
    assert_eq!(fixed.held_customers, 0, "a fixed cause holds nobody");
    assert!(list.iter().any(|r| r.held_customers > 0), "the open causes hold someone");
    assert!(matches!(reports::journey(&mut w, 0), Err(AppError::Invalid(_))));
    assert!(!reports::journey(&mut w, 60).unwrap().is_empty());

    // a second run starts afresh: same counts, not doubled
    let again = demo::run(
        &demo::DemoRequest { customers: 300, seed: 7, dir: folder.clone(), store: None, churn: Default::default() },
        &default_config(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(again.imports[1].imported, d.imports[1].imported);
    assert_eq!(again.reasons.imported, d.reasons.imported);
}

#[test]
fn reasons_are_recorded_once_and_a_bad_file_imports_nothing() {
    let (d, folder) = shop("reasons");
    let cfg = default_config();
    let mut store = winback_store::open(&d.store).unwrap();
    let before = reasons::list(store.as_mut(), &reasons::ListFilter::default()).unwrap().len();
    assert_eq!(before, d.reasons.imported);

    let bad = folder.join("bad.csv");
    std::fs::write(&bad, "customer,category,detail\nC00001,price,too dear\nC00002,not_a_category,?\n").unwrap();
    let e = reasons::import(store.as_mut(), &cfg, (&bad, Default::default()), None, 20_000, "test".into()).unwrap_err();
    match &e {
        AppError::Rejected { rows, .. } => assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3]),
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("line 3"), "{e}");
    assert_eq!(reasons::list(store.as_mut(), &reasons::ListFilter::default()).unwrap().len(), before);

    let r = winback_domain::reasons::NewReason {
        line: 0,
        customer: "C00001".into(),
        category: cfg.taxonomy.parse("price").unwrap(),
        scope: winback_domain::reasons::Scope::Specific,
        detail: Some("said so on the phone".into()),
        suggestion: Some("a smaller bag".into()),
        source: winback_domain::reasons::Source::Call,
        day: 20_000,
        recorded_by: "test".into(),
        cause: None,
        wont_return: false,
    };
    let saved = reasons::add(store.as_mut(), &r).unwrap().expect("recorded");
    assert_eq!(saved.suggestion.as_deref(), Some("a smaller bag"));
    assert!(reasons::add(store.as_mut(), &r).unwrap().is_none(), "the same reason twice is recorded once");
    let mine = reasons::list(
        store.as_mut(),
        &reasons::ListFilter { customer: Some("C00001".into()), category: Some(cfg.taxonomy.parse("price").unwrap()) },
    )
    .unwrap();
    assert!(mine.iter().any(|x| x.id == saved.id));
    assert!(mine.iter().all(|x| x.customer == "C00001" && x.category.as_str() == "price"));
}

#[test]
fn causes_need_a_title_and_a_category() {
    let cfg = default_config();
    assert!(matches!(causes::categories(&cfg.taxonomy, &[" ".into()]), Err(AppError::Invalid(_))));
    assert!(causes::categories(&cfg.taxonomy, &["nonsense".into()]).is_err());
    assert_eq!(
        causes::categories(&cfg.taxonomy, &["price".into(), "price".into(), "delivery".into()]).unwrap().len(),
        2,
        "repeats dropped"
    );
}

/// The preview a web upload shows: Excel's `sep=;` line is not the header, and
/// a Windows code page is said.
#[test]
fn a_preview_skips_excel_sep_and_tells_the_code_page() {
    let d = dir("preview");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("excel.csv");
    std::fs::write(&f, b"sep=;\r\ncustomer;date;amount\r\nRen\xe9;2024-01-01;5,00\r\n").unwrap();
    let p = winback_app::import::preview(&f, 5).unwrap();
    assert_eq!(p.columns, ["customer", "date", "amount"]);
    assert_eq!(p.rows, [["Ren\u{e9}", "2024-01-01", "5,00"]]);
    assert!(p.windows_1252);
}
