use winback_stats::data::RfmData;

pub fn data_path(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Rows of a CSV file with a header, as strings.
pub fn read_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_path(data_path(name)).expect("test data present");
    let header = rdr.headers().expect("header").iter().map(|s| s.to_string()).collect();
    let rows = rdr.records().map(|r| r.expect("row").iter().map(|s| s.to_string()).collect()).collect();
    (header, rows)
}

/// The CDNOW 2,357-customer calibration summary (x, t_x, T in weeks, z̄).
pub fn cdnow() -> Vec<(f64, f64, f64, f64)> {
    let (_, rows) = read_csv("cdnow_customers_summary_with_transactions.csv");
    rows.iter()
        .map(|r| (r[1].parse().unwrap(), r[2].parse().unwrap(), r[3].parse().unwrap(), r[4].parse().unwrap()))
        .collect()
}

pub fn cdnow_rfm() -> RfmData {
    RfmData::new(cdnow().into_iter().map(|(x, tx, t, _)| (x, tx, t))).unwrap()
}

/// Agreement to three significant digits: |got − want| ≤ half a unit in the third digit.
#[track_caller]
pub fn assert_3sig(got: f64, want: f64, what: &str) {
    let unit = 10f64.powf(want.abs().log10().floor() - 2.0);
    assert!((got - want).abs() <= 0.5 * unit + 1e-12, "{what}: got {got}, published {want}");
}
