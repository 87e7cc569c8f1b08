//! Reading real and broken files end to end.

use chrono::NaiveDate;
use winback_domain::period::Period;
use winback_domain::summary::{summarise, SummaryOptions};
use winback_ingest::amount::Decimal;
use winback_ingest::tables::{read_rfm, read_rfm_as};
use winback_ingest::transactions::{read_blocks, read_log, read_log_slice, Blocking, Column, LogOptions};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

/// The published CDNOW calibration summary (x, t_x, T, zbar for 2,357 customers)
/// is reproduced exactly from the raw sample log, and the holdout has the 1,882
/// repeat purchase days the data's documentation gives.
#[test]
fn cdnow_sample_reproduces_the_published_summary() {
    let (log, report) = read_log(&data("CDNOW_sample.txt"), &LogOptions::default()).unwrap();
    assert_eq!(report.mapping.to_string(), "delimiter whitespace, no header row; customer = column 1 (column 1), date = column 3 (column 3), amount = column 5 (column 5)");
    assert_eq!((report.rows, report.read, report.rejected.len()), (6919, 6919, 0));
    assert_eq!(log.customers(), 2357);
    let s = summarise(
        &log,
        &SummaryOptions {
            period: Period::Day,
            time_unit: Some(Period::Week),
            observation_end: d(1998, 6, 30),
            calibration_end: Some(d(1997, 9, 30)),
        },
    )
    .unwrap();
    let published = read_rfm(&data("cdnow_customers_summary_with_transactions.csv")).unwrap();
    assert_eq!(s.customers.len(), published.customers.len());
    let round2 = |v: f64| (v * 100.0).round() / 100.0;
    // the published file rounds to cents; sums of cents are not exact in binary
    let near = |a: f64, b: f64| (a - b).abs() <= 0.005 + 1e-9;
    for (ours, theirs) in s.customers.iter().zip(&published.customers) {
        let id = &published.ids[theirs.customer as usize];
        assert_eq!(ours.frequency, theirs.frequency, "customer {id}");
        assert_eq!(round2(ours.recency), theirs.recency, "customer {id}");
        assert_eq!(round2(ours.t), theirs.t, "customer {id}");
        assert!(
            near(ours.monetary_value, theirs.monetary_value),
            "customer {id}: {} vs {}",
            ours.monetary_value,
            theirs.monetary_value
        );
    }
    let holdout: u32 = s.customers.iter().map(|c| c.holdout_frequency).sum();
    assert_eq!(holdout, 1882);
    assert_eq!(s.customers.iter().map(|c| c.frequency).sum::<u32>(), 2457);
    assert_eq!(round2(s.holdout_length), 39.0);
}

#[test]
fn every_bad_line_is_reported_with_its_reason() {
    let file = b"order_id,customer_email,order_date,total\n\
        1,a@x.com,2024-01-03,\"$1,200.00\"\n\
        2,b@x.com,2024-13-01,10\n\
        3,,2024-01-05,10\n\
        \n\
        4,c@x.com,2024-01-06,ten\n\
        5,c@x.com\n\
        6,\xff\xfe,2024-01-07,5\n\
        7,a@x.com,20240108,-20.5\n";
    let (log, report) = read_log(file, &LogOptions::default()).unwrap();
    assert_eq!(report.mapping.customer.1, "customer_email");
    assert_eq!(report.mapping.amount.as_ref().unwrap().1, "total");
    let got: Vec<(u64, &str)> = report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "date: '2024-13-01' is not a valid calendar date"),
            (4, "missing customer id"),
            (5, "blank line"),
            (6, "amount: 'ten' is not an amount"),
            (7, "expected 4 fields as in the header, found 2 (an unquoted delimiter inside a value?)"),
            (8, "customer id is not valid UTF-8"),
        ]
    );
    assert_eq!(report.rows, 8);
    assert_eq!(report.read + report.rejected.len(), report.rows);
    assert_eq!(log.ids.iter().collect::<Vec<_>>(), ["a@x.com"]);
    assert_eq!(log.amount.unwrap(), vec![1200.0, -20.5]);
}

/// The days systems write for a missing date are refused as purchase days,
/// in any layout: they would make a customer centuries old. The days next to
/// them are purchases like any other.
#[test]
fn placeholder_dates_are_refused_with_their_reason() {
    let file = b"customer,date,amount\n\
        a,0001-01-01,1\n\
        a,1900-01-01,1\n\
        a,1970-01-01 00:00:00,1\n\
        a,9999-12-31,1\n\
        a,1899-12-30,1\n\
        a,1753-01-01,1\n\
        a,1850-06-01,1\n\
        b,1900-01-02,1\n\
        b,1970-01-02,1\n\
        b,9999-12-30,1\n";
    let (log, report) = read_log(file, &LogOptions::default()).unwrap();
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, (2..=8).collect::<Vec<u64>>());
    assert_eq!(
        report.rejected[2].reason,
        "date: '1970-01-01 00:00:00' is a placeholder that systems write for a missing date, not a purchase day"
    );
    assert_eq!(log.len(), 3);
    // the same rule in a recognised export's reader (day first, Etsy-like)
    let day = winback_ingest::date::purchase_day(0, b"01/01/1970");
    assert!(day.is_err_and(|e| e.to_string().starts_with("'01/01/1970' is a placeholder")));
}

/// In an email column, `Ann@X.com` and `ann@x.com` are one customer (as the
/// platform readers and the customers import key them); in an id column
/// capitals matter (Stripe's `cus_AbC` and `cus_abc` are two customers).
#[test]
fn emails_differing_in_capitals_are_one_customer_ids_are_not() {
    let file = b"Customer Email,date,amount\nAnn@X.com,2024-01-01,5\nbob@y.com,2024-01-02,3\nann@x.COM,2024-02-01,6\nBOB@Y.COM,2024-03-01,2\nZo\xc3\xab@X.com,2024-03-02,1\nzo\xc3\xab@x.com,2024-03-03,1\n";
    let (log, report) = read_log(file, &LogOptions::default()).unwrap();
    assert_eq!(log.ids.iter().collect::<Vec<_>>(), ["ann@x.com", "bob@y.com", "zo\u{eb}@x.com"]);
    assert_eq!(log.customer, [0, 1, 0, 1, 2, 2]);
    assert_eq!(report.notes.len(), 1);
    assert!(report.notes[0].starts_with("3 customer emails differed"), "{:?}", report.notes);
    let ids = b"customer_id,date,amount\ncus_AbC,2024-01-01,5\ncus_abc,2024-01-02,3\n";
    let (log, report) = read_log(ids, &LogOptions::default()).unwrap();
    assert_eq!(log.customers(), 2);
    assert!(report.notes.is_empty());
}

/// Excel's `sep=;` first line (written so a file opens in columns whatever the
/// locale) is neither the header nor a record: the delimiter it names is used
/// and line numbers stay the file's, in every reader.
#[test]
fn an_excel_sep_line_names_the_delimiter() {
    use winback_ingest::split::{detect_delimiter, excel_sep, Delimiter};
    assert_eq!(excel_sep(b"sep=;\r\nid;date\n"), Some((b';', 7)));
    assert_eq!(excel_sep(b"\xef\xbb\xbf\"SEP=,\"\nid,date\n"), Some((b',', 11)));
    assert_eq!(excel_sep(b"sep=\t\rid\tdate\r"), Some((b'\t', 6)));
    assert_eq!(excel_sep(b"sep=;x\n"), None);
    assert_eq!(excel_sep(b"separator,date\n"), None);
    assert_eq!(detect_delimiter(b"sep=|\na,b|c\n1,2|3\n"), Delimiter::Byte(b'|'));
    let file = b"sep=;\ncustomer;date;amount\na;2024-01-01;5,50\nb;not a date;1\na;2024-02-01;7\n";
    for blocking in [Blocking::DEFAULT, Blocking { block: 7, split_min: 8, part: 5 }] {
        let (log, _, report) = read_log_slice(file, &LogOptions::default(), blocking, &mut |_| {}).unwrap();
        assert_eq!(report.mapping.delimiter, "';'");
        assert_eq!(log.amount.as_deref(), Some(&[5.5, 7.0][..]));
        assert_eq!(report.rows, 3, "the sep line is not a row");
        assert_eq!(report.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
    }
    let p = winback_ingest::people::read_customers(
        b"sep=;\nEmail;First Name\nann@x.com;Ann\nbob;Bob;extra\n",
        &Default::default(),
    )
    .unwrap();
    assert_eq!((p.rows.len(), p.total), (1, 2));
    assert_eq!(p.rejected[0].line, 4);
    let t = read_rfm(b"sep=;\nid;frequency;recency;T\n1;2;30,5;40\n").unwrap();
    assert_eq!((t.rows, t.customers[0].recency), (1, 30.5));
}

/// Monthly exports joined with `cat` (each with its header, and Excel's
/// byte-order mark): the repeated headers are skipped by a stated rule, not
/// rejected, in the generic reader and the table reader alike.
#[test]
fn a_header_repeated_by_joined_files_is_skipped() {
    let file = b"\xef\xbb\xbfcustomer,date,amount\na,2024-01-01,5\n\xef\xbb\xbfcustomer,date,amount\nb,2024-02-01,7\ncustomer,date,amount\nc,not a date,1\n";
    for blocking in [Blocking::DEFAULT, Blocking { block: 9, split_min: 8, part: 5 }] {
        let (log, _, report) = read_log_slice(file, &LogOptions::default(), blocking, &mut |_| {}).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(report.rows, 5);
        assert_eq!(report.skipped.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 5]);
        assert!(report.skipped.iter().all(|r| r.reason == winback_ingest::HEADER_AGAIN));
        assert_eq!(report.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [6]);
    }
    let p = winback_ingest::people::read_customers(
        b"email,name\nann@x.com,Ann\nemail,name\nbob@y.com,Bob\n",
        &Default::default(),
    )
    .unwrap();
    assert_eq!((p.rows.len(), p.total, p.skipped.len(), p.rejected.len()), (2, 3, 1, 0));
    assert_eq!(p.skipped[0].line, 3);
    // a spreadsheet's totals line is skipped too, whichever column says Total
    let file = b"customer,date,amount\na,2024-01-01,5\nb,2024-01-02,6\nTotal,,11\n,,Grand total:\n,2024-01-03,4\n";
    let (log, report) = read_log(file, &LogOptions::default()).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(report.skipped.iter().map(|r| r.line).collect::<Vec<_>>(), [4, 5]);
    assert!(report.skipped.iter().all(|r| r.reason == winback_ingest::TOTALS_ROW));
    assert_eq!(
        report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect::<Vec<_>>(),
        [(6, "missing customer id")]
    );
    // a line that only starts like the header is data (and rejected as such)
    let (_, report) =
        read_log(b"customer,date,amount\ncustomer,date,5\n", &LogOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((report.skipped.len(), report.rejected.len()), (0, 1));
}

#[test]
fn explicit_columns_and_formats() {
    let file = b"when;who;paid\n08/03/2014;7;1.234,50\n09/03/2014;7;3\n";
    let opts = LogOptions {
        customer: Some(Column::Name("who".into())),
        date: Some(Column::Position(1)),
        amount: Some(Column::Name("Paid".into())),
        date_format: winback_ingest::date::DateFormat::Pattern("%d/%m/%Y".into()),
        ..Default::default()
    };
    let (log, report) = read_log(file, &opts).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(log.amount.unwrap(), vec![1234.5, 3.0]);
    let err = read_log(file, &LogOptions { customer: Some(Column::Name("client".into())), ..opts }).unwrap_err();
    assert_eq!(err.to_string(), "customer column 'client' not found; the header has: when, who, paid");
}

#[test]
fn large_files_parse_the_same_in_parallel() {
    let mut file = String::from("customer,date,amount\n");
    for i in 0..300_000 {
        file.push_str(&format!("c{},2020-{:02}-{:02},{}.5\n", i % 977, 1 + i % 12, 1 + i % 28, i % 50));
    }
    file.push_str("bad,2020-01-01,x\n");
    let (log, report) = read_log(file.as_bytes(), &LogOptions::default()).unwrap();
    assert_eq!(report.rows, 300_001);
    assert_eq!(
        report.rejected,
        vec![winback_ingest::Reject { line: 300_002, reason: "amount: 'x' is not an amount".into() }]
    );
    assert_eq!(log.customers(), 977);
    assert_eq!(&log.ids[5], "c5");
    for (k, i) in [0usize, 150_000, 299_999].into_iter().enumerate() {
        assert_eq!(log.ids[log.customer[i] as usize], format!("c{}", i % 977), "row {k}");
    }
}

/// Reading in blocks of any size, on one thread or two, in 2 to 16 parts, gives what reading the
/// file in one piece gives: block edges cut records, quoted fields with line
/// breaks, CRLF pairs and multi-byte characters anywhere.
fn same_in_blocks(bytes: &[u8], opts: &LogOptions) -> Result<(), String> {
    let show = |r: Result<_, winback_ingest::IngestError>| format!("{:?}", r.map_err(|e| e.to_string()));
    let whole = show(read_blocks(bytes, opts, Blocking { block: 1 << 30, split_min: 1 << 30, part: 1 << 30 }));
    for (block, split_min, part) in
        [(1, 2, 1), (3, 2, 1), (7, 1 << 30, 1), (16, 8, 4), (64, 2, 8), (64, 2, 1000), (1000, 2, 50), (1000, 2, 300)]
    {
        let blocking = Blocking { block, split_min, part };
        let got = show(read_blocks(bytes, opts, blocking));
        if got != whole {
            return Err(format!("block {block}, split at {split_min}, parts of {part}:\n{got}\nwhole:\n{whole}"));
        }
        // in place (a mapped file): the same, and what is handed back as
        // parsed only grows and stays within the data
        let mut released = Vec::new();
        let got = show(read_log_slice(bytes, opts, blocking, &mut |n| released.push(n)));
        if got != whole {
            return Err(format!(
                "in place, block {block}, split at {split_min}, parts of {part}:\n{got}\nwhole:\n{whole}"
            ));
        }
        if !released.windows(2).all(|w| w[0] <= w[1]) || released.iter().any(|&n| n > bytes.len()) {
            return Err(format!("released {released:?} of {} bytes", bytes.len()));
        }
    }
    // a size hint only sizes the columns: right, far too small, far too big
    // (a compressed file's, a wrong one) or zero, the log is the same
    let n = bytes.len() as u64;
    for hint in [n, 1, 0, n * 10, u64::MAX] {
        let hinted = LogOptions { size_hint: Some(hint), ..opts.clone() };
        let blocking = Blocking { block: 16, split_min: 8, part: 4 };
        let got = show(read_blocks(bytes, &hinted, blocking));
        if got != whole {
            return Err(format!("size hint {hint}, {blocking:?}:\n{got}\nwhole:\n{whole}"));
        }
    }
    Ok(())
}

/// Blocks are read ahead while the last one is parsed: records longer than
/// a block (and than the room kept for a block's unparsed end) still read
/// whole, whatever the block and part sizes.
#[test]
fn records_longer_than_a_block_read_ahead_alike() {
    let mut f = String::from("customer,date,amount,product\n");
    for i in 0..3000 {
        let product = if i % 997 == 5 { "p".repeat(200_000 + i) } else { format!("p{i}") };
        f += &format!("c{},2024-01-{:02},{}.5,{product}\n", i % 41, 1 + i % 28, i % 90);
    }
    let opts = LogOptions { detect_extras: true, ..LogOptions::default() };
    let whole = read_blocks(f.as_bytes(), &opts, Blocking { block: 1 << 30, split_min: 1 << 30, part: 1 << 30 });
    let whole = format!("{:?}", whole.map_err(|e| e.to_string()));
    for (block, part) in [(80 << 10, 16 << 10), (16 << 10, 4 << 10), (300 << 10, 64 << 10)] {
        let got = read_blocks(f.as_bytes(), &opts, Blocking { block, split_min: 2, part });
        assert_eq!(format!("{:?}", got.map_err(|e| e.to_string())), whole, "block {block}, parts of {part}");
    }
}

#[test]
fn blocks_read_like_the_whole_file() {
    let files: [&[u8]; 5] = [
        b"\xEF\xBB\xBForder_id,customer,date,amount,channel\r\nO1,c1,2024-01-02,5.00,web\r\n\r\nO2,\"c,2\",2024-01-03,\"1,000.00\",\"two\nlines\"\r\nO1,c1,2024-01-02,5.00,web\r\nO3,c3,not a date,1,web\r\nO4,Zo\xc3\xab,2024-02-01,7,shop",
        b"c1 19970101 1 29.33\nc1 19970118 2 29.73\n\nc2 19970102 1 x\nc3 19970112 2 10.5\n",
        b"customer;date;amount\n a ;2024-01-01;1,5\nb;2024-01-01\n\"q\"\"x\";2024-01-02;3\n",
        b"customer,date,amount\nc1,2024-01-01,1\nc2,2024-01-02,\"unclosed\nc3,2024-01-03,3\nc4,2024-01-04,4\n",
        b"\n\ncustomer,date\n\xff\xfe,2024-01-01\nc1,2024-01-01\nc1,2024-01-05",
    ];
    for f in files {
        same_in_blocks(f, &LogOptions { detect_extras: true, keep_lines: true, ..LogOptions::default() }).unwrap();
    }
    // ten thousand rows: a customer seen in many blocks is one customer
    let mut big = String::from("customer,date,amount\n");
    for i in 0..10_000 {
        big += &format!("c{},2024-{:02}-{:02},{}.5\n", i % 97, 1 + i % 12, 1 + i % 28, i);
    }
    same_in_blocks(big.as_bytes(), &LogOptions::default()).unwrap();
    let (log, _) = read_log(big.as_bytes(), &LogOptions::default()).unwrap();
    assert_eq!((log.len(), log.customers()), (10_000, 97));
}

/// A summary file's lines are each read, skipped (blank) or rejected with
/// their line: a quote that does not close rejects its own line, not the
/// lines after it; a field that is not UTF-8 says which; quoted ids, CRLF
/// and a whitespace-separated file read as they are.
#[test]
fn summary_files_account_for_every_line() {
    let file = b"id,frequency,recency,T\r\n1,2,30.4,38.8\r\n\r\n\"2, b\",0,0,38.8\r\n\xff\xfe,1,2,30\n4,x,2,9\n5,\"1,2,30\n6,2,3,9\n7,1,2\n";
    let t = read_rfm(file).unwrap();
    let rejected: Vec<(u64, &str)> = t.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        rejected,
        vec![
            (5, "field 1 is not valid UTF-8"),
            (6, "frequency 'x' is not a number"),
            (7, winback_ingest::transactions::UNCLOSED),
            (9, "expected 4 fields, found 3"),
        ]
    );
    // eight lines after the header, one of them blank
    assert_eq!((t.rows, t.customers.len()), (7, 3));
    let ids: Vec<&str> = t.customers.iter().map(|c| &t.ids[c.customer as usize]).collect();
    assert_eq!(ids, ["1", "2, b", "6"]);
    // counts out of range say what they got as written, not in 309 digits
    let bad = read_rfm(b"id,frequency,recency,T\na,1e308,1,2\nb,2.5,1,2\nc,-1,0,2\n").unwrap();
    let reasons: Vec<&str> = bad.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "frequency 1e308 is not a whole number from 0 to 4294967295",
            "frequency 2.5 is not a whole number from 0 to 4294967295",
            "frequency -1 is not a whole number from 0 to 4294967295"
        ]
    );
    assert_eq!((t.customers[2].frequency, t.customers[2].recency, t.customers[2].t), (2, 3.0, 9.0));
    let ws = read_rfm(b"id frequency recency T\n1  2 30.4 38.8\n2\t0 0 38.8\n").unwrap();
    assert!(ws.rejected.is_empty(), "{:?}", ws.rejected);
    assert_eq!(ws.customers.len(), 2);
}

/// A summary saved by a European spreadsheet: `;`-separated, decimal commas,
/// thousands points. Read as the same numbers as the point file; a file that
/// mixes both marks is refused with the lines that show it, unless the mark
/// is given; a comma-separated file never looks for decimal commas.
#[test]
fn summary_files_with_decimal_commas_read() {
    let comma = b"id;frequency;recency;T;monetary_value\n1;2;30,43;38,86;1.234,56\n2;0;0;38,86;0\n3;x;1;2;3\n";
    let point = b"id,frequency,recency,T,monetary_value\n1,2,30.43,38.86,1234.56\n2,0,0,38.86,0\n3,x,1,2,3\n";
    let (c, p) = (read_rfm(comma).unwrap(), read_rfm(point).unwrap());
    assert_eq!(c.customers, p.customers);
    assert_eq!(c.customers[0].recency, 30.43);
    assert_eq!(c.customers[0].monetary_value, 1234.56);
    let rejected: Vec<(u64, &str)> = c.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(rejected, vec![(4, "frequency 'x' is not a number")]);
    assert_eq!(c.rows, c.customers.len() + c.rejected.len());

    let mixed = b"id;frequency;recency;T\n1;2;30,5;38,86\n2;1;2.5;38,86\n";
    let err = read_rfm(mixed).unwrap_err().to_string();
    assert!(err.contains("line 3: '2.5'") && err.contains("line 2: '30,5'"), "{err}");
    let given = read_rfm_as(mixed, Some(Decimal::Comma)).unwrap();
    assert_eq!(given.customers.len(), 1);
    assert_eq!(given.rejected[0].line, 3);
    assert!(given.rejected[0].reason.starts_with("recency: '2.5' does not fit"), "{}", given.rejected[0].reason);

    // a quoted "30,4" in a comma-separated file stays a reject, as before;
    // thousands groups before a point read, in a tab file or quoted
    let quoted = read_rfm(b"id,frequency,recency,T\n1,2,\"30,4\",38\n").unwrap();
    assert_eq!((quoted.customers.len(), quoted.rejected.len()), (0, 1));
    assert!(quoted.rejected[0].reason.starts_with("recency: '30,4' does not fit"), "{}", quoted.rejected[0].reason);
    let grouped = read_rfm(b"id\tfrequency\trecency\tT\tmonetary_value\n1\t2\t30.5\t38.8\t1,234.56\n").unwrap();
    assert!(grouped.rejected.is_empty(), "{:?}", grouped.rejected);
    assert_eq!(grouped.customers[0].monetary_value, 1234.56);
    let quoted = read_rfm(b"id,frequency,recency,T,monetary_value\n1,2,30.5,38.8,\"1,234.56\"\n").unwrap();
    assert_eq!(quoted.customers[0].monetary_value, 1234.56);
}

/// Parts write their rows straight into the log's columns, each in a share
/// sized by its line ends: rejected rows, blank lines and lone-CR or CRLF
/// line ends in the middle parts of a block leave gaps that close, every
/// way the file can be cut, and the log is the one read whole.
#[test]
fn gaps_in_the_middle_of_a_block_close() {
    let mut f = String::from("customer,date,amount,cost\n");
    for i in 0..5_000 {
        let end = match i % 5 {
            0 => "\r\n",
            1 => "\r",
            _ => "\n",
        };
        match i % 41 {
            3 => f += "\n",
            7 => f += &format!("c{},2024-13-01,1{end}", i % 53),
            11 => f += &format!("c{},2024-01-02,x,1{end}", i % 53),
            _ => f += &format!("c{},2024-{:02}-{:02},{}.25,{}{end}", i % 53, 1 + i % 12, 1 + i % 28, i, i % 3),
        }
    }
    let opts = LogOptions { keep_lines: true, ..LogOptions::default() };
    same_in_blocks(f.as_bytes(), &opts).unwrap();
    let (log, report) = read_log(f.as_bytes(), &opts).unwrap();
    assert_eq!(report.rows, report.read + report.rejected.len());
    // 5,000 records less 122 blank lines, 122 bad dates, 122 bad amounts
    assert_eq!(log.len(), 5_000 - 3 * 122);
    let amounts = log.amount.as_ref().unwrap();
    assert_eq!(amounts.len(), log.len());
    assert_eq!((amounts[0], amounts[amounts.len() - 1]), (0.25, 4_999.25));
    assert_eq!(&log.ids[log.customer[log.len() - 1] as usize], "c17");
}

/// The conventions left open are decided from the values of the layout's
/// window (its first 64 KiB here) whether the first block is read at once,
/// watching for a telling value, or the window is scanned first: a decimal
/// comma just inside or just past the window's end (or past the first block)
/// decides the same way, and a telling value deep in a block read in parts on
/// two threads has the whole block read again.
#[test]
fn conventions_decided_alike_read_at_once_or_scanned_first() {
    let show = |r: Result<_, winback_ingest::IngestError>| format!("{:?}", r.map_err(|e| e.to_string()));
    let header = "customer;date;amount\n";
    // every row 24 bytes: `cNNNNN;2024-MM-DD;01.50\n`
    let row = |i: usize, amount: &str| format!("c{:05};2024-{:02}-{:02};{amount}\n", i % 9973, 1 + i % 12, 1 + i % 28);
    assert_eq!(row(0, "01.50").len(), 24);
    // rows wholly in the window (the one it cuts off says nothing)
    let in_window = (65_536 - header.len()) / 24;
    for decisive in [0, in_window - 2, in_window - 1, in_window, in_window + 1, in_window + 2800] {
        let mut file = String::from(header);
        for i in 0..in_window + 3000 {
            file += &row(i, if i == decisive { "002,5" } else { "01.50" });
        }
        let opts = LogOptions::default();
        // 64 KiB blocks hold the window: read at once; 32 KiB ones do not
        let at_once = show(read_blocks(file.as_bytes(), &opts, Blocking { block: 1 << 16, split_min: 2, part: 4096 }));
        let scanned = show(read_blocks(file.as_bytes(), &opts, Blocking { block: 1 << 15, split_min: 2, part: 4096 }));
        assert_eq!(at_once, scanned, "decisive row {decisive}");
        // in the window a decimal comma meets the points
        assert_eq!(
            at_once.contains("mixes a decimal point"),
            decisive < in_window,
            "decisive row {decisive}: {}",
            &at_once[..200.min(at_once.len())]
        );
    }
    // a large block in parts: a decimal comma deep in it, read again whole
    let mut file = String::from(header);
    for i in 0..300_000 {
        file += &format!(
            "c{};2024-{:02}-{:02};{}\n",
            i % 977,
            1 + i % 12,
            1 + i % 28,
            if i == 200_000 { "2,5" } else { "3" }
        );
    }
    let (log, report) = read_log(file.as_bytes(), &LogOptions::default()).unwrap();
    assert_eq!((report.rows, report.read), (300_000, 300_000));
    let amounts = log.amount.unwrap();
    assert_eq!((amounts[199_999], amounts[200_000]), (3.0, 2.5));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Arbitrary bytes never panic, and every line is accounted for.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok((log, report)) = read_log(&bytes, &LogOptions::default()) {
                prop_assert_eq!(report.read + report.rejected.len(), report.rows);
                prop_assert_eq!(log.len(), report.read);
            }
            if let Err(e) = same_in_blocks(&bytes, &LogOptions::default()) {
                prop_assert!(false, "{}", e);
            }
            let _ = read_rfm(&bytes);
            let _ = winback_ingest::tables::read_patterns(&bytes);
            let _ = winback_ingest::tables::read_survival(&bytes);
            let fmt = winback_ingest::date::DateFormat::Auto;
            let _ = winback_ingest::people::read_customers(&bytes, &fmt);
            let _ = winback_ingest::people::read_events(&bytes, &fmt);
            let tax = winback_domain::reasons::Taxonomy::default();
            let defaults = winback_ingest::people::ReasonDefaults { day: 0, recorded_by: "fuzz".into() };
            if let Ok(p) = winback_ingest::people::read_reasons(&bytes, &fmt, &tax, &defaults) {
                prop_assert_eq!(p.rows.len() + p.rejected.len(), p.total);
            }
            // a Parquet reader fed garbage behind the magic bytes
            let mut par = b"PAR1".to_vec();
            par.extend_from_slice(&bytes);
            par.extend_from_slice(b"PAR1");
            let _ = winback_ingest::parquet::to_csv(par);
            // the playbook parser on arbitrary text
            let _ = winback_domain::playbook::Playbook::parse(&String::from_utf8_lossy(&bytes), &tax);
        }

        /// Reason files with plausible headers and noisy cells.
        #[test]
        fn reasons_shaped(rows in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![
                Just("C1".to_string()), Just("price".to_string()), Just("systemic".to_string()),
                Just("2024-02-30".to_string()), Just("\"q,\"\"x\"".to_string()), Just("".to_string()),
                Just("survey".to_string()), "[a-z_ ]{0,8}".prop_map(|s| s),
            ], 0..7), 0..30)) {
            let mut text = String::from("customer,category,scope,detail,source,date\n");
            for r in &rows {
                text += &r.join(",");
                text += "\n";
            }
            let tax = winback_domain::reasons::Taxonomy::default();
            let defaults = winback_ingest::people::ReasonDefaults { day: 0, recorded_by: "fuzz".into() };
            let p = winback_ingest::people::read_reasons(text.as_bytes(), &winback_ingest::date::DateFormat::Auto, &tax, &defaults).unwrap();
            prop_assert_eq!(p.rows.len() + p.rejected.len(), p.total);
            // blank (or all-space) lines are not rows
            prop_assert_eq!(p.total, rows.iter().filter(|r| !r.join(",").trim().is_empty()).count());
        }

        /// CSV-shaped noise: quotes, delimiters, dates and amounts in odd places.
        #[test]
        fn csv_shaped(rows in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![
                Just("2020-01-01".to_string()), Just("19970101".to_string()), Just("\"a,\"\"b\"".to_string()),
                Just("$1,000.5".to_string()), Just("".to_string()), Just("\"".to_string()), "[ -~]{0,8}",
            ], 0..5), 0..30)) {
            let text = rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
            if let Ok((_, report)) = read_log(text.as_bytes(), &LogOptions::default()) {
                prop_assert_eq!(report.read + report.rejected.len(), report.rows);
            }
            if let Err(e) = same_in_blocks(text.as_bytes(), &LogOptions { detect_extras: true, keep_lines: true, ..LogOptions::default() }) {
                prop_assert!(false, "{}", e);
            }
        }

        #[test]
        fn amounts_never_panic(s in "\\PC{0,12}") {
            let _ = winback_ingest::amount::parse_amount(s.as_bytes());
            let _ = winback_ingest::date::parse_date(s.as_bytes(), &winback_ingest::date::DateFormat::Auto);
        }
    }

    proptest! {
        // each case also reads the file in six block layouts
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Files as spreadsheets and shop platforms write them: stray quotes in
        /// unquoted fields, quoted fields with delimiters and line breaks, LF,
        /// CRLF and CR line ends mixed, decimal points or commas with thousands
        /// groups. Every row comes back exactly as the generator made it, and a
        /// quote left open on the last line costs that line alone.
        #[test]
        fn real_world_csv(
            rows in proptest::collection::vec((
                "[a-z]{1,4}",
                1u32..29,
                0u64..200_000_000,
                proptest::collection::vec(prop_oneof![
                    Just("a"), Just("b"), Just(" "), Just("\""), Just(","), Just(";"), Just("\n"), Just("\r\n"), Just("27\"")
                ], 1..6),
                0usize..3,
                any::<bool>(),
            ), 1..40),
            comma_locale in any::<bool>(),
            unclosed_last in any::<bool>(),
        ) {
            let d = if comma_locale { ';' } else { ',' };
            let mut file = format!("customer{d}date{d}amount{d}product\r\n");
            let mut want = Vec::new();
            for (cust, day, cents, parts, ending, grouped) in &rows {
                let product: String = parts.concat().trim().to_string();
                let product = if product.is_empty() { "x".to_string() } else { product };
                let (int, frac) = (cents / 100, cents % 100);
                let int_s = if *grouped && int >= 1000 {
                    let g = if comma_locale { '.' } else { ',' };
                    let s = int.to_string();
                    let mut out = String::new();
                    for (i, c) in s.chars().enumerate() {
                        if i > 0 && (s.len() - i) % 3 == 0 {
                            out.push(g);
                        }
                        out.push(c);
                    }
                    out
                } else {
                    int.to_string()
                };
                let amount = format!("{int_s}{}{frac:02}", if comma_locale { ',' } else { '.' });
                let quote = |f: &str| if f.contains([d, '\n', '\r']) || f.starts_with('"') || f.starts_with(' ') {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.to_string() // a quote inside stays a literal character
                };
                let end = ["\n", "\r\n", "\r"][*ending];
                file += &format!("{cust}{d}2024-02-{day:02}{d}{}{d}{}{end}", quote(&amount), quote(&product));
                want.push((cust.clone(), *day, *cents, product));
            }
            if unclosed_last {
                file += &format!("zz{d}2024-02-01{d}1{d}\"never closed\n");
            }
            let opts = LogOptions { detect_extras: true, keep_lines: true, ..LogOptions::default() };
            let (log, x, report) = winback_ingest::transactions::read_log_full(file.as_bytes(), &opts)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{file:?}")))?;
            prop_assert_eq!(report.read + report.rejected.len(), report.rows);
            prop_assert_eq!(report.rows, rows.len() + usize::from(unclosed_last));
            prop_assert_eq!(report.rejected.len(), usize::from(unclosed_last), "{:?}\n{:?}", report.rejected, file);
            let amounts = log.amount.clone().unwrap_or_default();
            let product = x.product.as_ref().expect("product column");
            for (i, (cust, day, cents, prod)) in want.iter().enumerate() {
                prop_assert_eq!(&log.ids[log.customer[i] as usize], cust.as_str());
                prop_assert_eq!(log.day[i], winback_domain::period::day_number(super::d(2024, 2, *day)));
                prop_assert!((amounts[i] - *cents as f64 / 100.0).abs() < 1e-6, "{} vs {}", amounts[i], cents);
                prop_assert_eq!(product.get(i), Some(prod.as_str()), "{:?}", file);
            }
            if let Err(e) = same_in_blocks(file.as_bytes(), &opts) {
                prop_assert!(false, "{}", e);
            }
        }

    }
}

/// A Shopify orders export joined to an overlapping one (here, to itself): the
/// second copy of each order is skipped by a stated rule, so nothing counts
/// twice, and the header in between is skipped too.
#[test]
fn a_shopify_export_joined_to_itself_counts_each_order_once() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/exports/shopify_orders.csv");
    let once = std::fs::read(path).unwrap();
    let mut twice = once.clone();
    twice.extend_from_slice(&once);
    let (log1, r1) = read_log(&once, &LogOptions::default()).unwrap();
    let (log2, r2) = read_log(&twice, &LogOptions::default()).unwrap();
    assert_eq!((log2.customer, log2.day, log2.amount), (log1.customer, log1.day, log1.amount));
    // (the fixture's #0999 line lacks its order's fields: rejected once, then
    // taken for a line item of it)
    let orders = r1.rows - r1.folded - 1;
    let again = r2.skipped.iter().filter(|s| s.reason.contains("is in the file twice")).count();
    assert_eq!(again, orders, "{:?}", r2.skipped);
    assert_eq!(r2.skipped.iter().filter(|s| s.reason == winback_ingest::HEADER_AGAIN).count(), 1);
    assert_eq!(r2.folded, 2 * r1.folded + 1);
    assert_eq!(r2.rejected.len(), r1.rejected.len());
    assert_eq!(r2.rows, 2 * r1.rows + 1);
}

/// Lines that end in a delimiter (some software ends every line so), with or
/// without the header doing the same: the empty last field is not a value.
#[test]
fn lines_ending_in_a_delimiter_are_read() {
    for file in [
        &b"customer,date,amount\na,2024-01-02,5,\na,2024-02-02,6,\nb,2024-02-03,7\n"[..],
        &b"customer,date,amount,\na,2024-01-02,5,\na,2024-02-02,6\nb,2024-02-03,7,\n"[..],
        &b"customer;date;amount;\r\na;2024-01-02;\"5\";\r\na;2024-02-02;6;\r\nb;2024-02-03;7\r\n"[..],
    ] {
        let (log, report) = read_log(file, &LogOptions::default()).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(log.amount.as_deref(), Some(&[5.0, 6.0, 7.0][..]));
    }
    // a last field with a value is still one field too many
    let (_, report) =
        read_log(b"customer,date,amount\na,2024-01-02,5,x\nb,2024-01-02,5\n", &LogOptions::default()).unwrap();
    assert_eq!(report.rejected.len(), 1);
    let p =
        winback_ingest::people::read_customers(b"email,name,\nann@x.com,Ann,\nbob@y.com,Bob\n", &Default::default())
            .unwrap();
    assert_eq!((p.rows.len(), p.rejected.len()), (2, 0));
    let t = read_rfm(b"id,frequency,recency,T,\n1,2,30,40,\n2,0,0,40\n").unwrap();
    assert_eq!((t.rows, t.rejected.len()), (2, 0));
}

/// WooCommerce and Etsy exports (one line per item) joined to themselves:
/// every line of the second copy is a copy of the first's, skipped by that
/// rule; the log is the same as from one copy.
#[test]
fn line_item_exports_joined_to_themselves_count_each_order_once() {
    for name in ["woocommerce_orders.csv", "etsy_sold_orders.tsv"] {
        let path = format!("{}/../../tests/data/exports/{name}", env!("CARGO_MANIFEST_DIR"));
        let once = std::fs::read(&path).unwrap();
        let mut twice = once.clone();
        twice.extend_from_slice(&once);
        let (log1, r1) = read_log(&once, &LogOptions::default()).unwrap();
        let (log2, r2) = read_log(&twice, &LogOptions::default()).unwrap();
        assert_eq!((log2.customer, log2.day, log2.amount), (log1.customer, log1.day, log1.amount), "{name}");
        let copies = r2.skipped.iter().filter(|s| s.reason.contains("is in the file twice")).count();
        // the second copy adds no line item, no import: its lines are copies
        // (or fall to the same rules as in the first)
        assert_eq!(r2.folded, r1.folded, "{name}: {:?}", r2.skipped);
        assert_eq!(r2.imported_lines, r1.imported_lines, "{name}");
        assert!(copies >= r1.imported_lines.unwrap_or(0) + r1.folded, "{name}: {copies}");
        assert_eq!(r2.rows, 2 * r1.rows + 1, "{name}");
    }
}

/// Exports from shop software set up in German, French, Spanish, Italian or
/// Dutch name their columns so: customer, date and amount are found by those
/// names too (after the English ones), with the decimal commas they come with.
#[test]
fn headers_in_other_languages_are_recognised() {
    for file in [
        &b"Kundennummer;Bestelldatum;Gesamtsumme\nk1;01.02.2024;1.234,50\nk1;15.03.2024;99,90\n"[..],
        &b"Client;Date de commande;Montant TTC\nk1;01/02/2024;1 234,50\nk1;15/03/2024;99,90\n"[..],
        &b"Cliente;Fecha;Importe\nk1;2024-02-01;1234,50\nk1;2024-03-15;99,90\n"[..],
        &b"Klantnummer;Besteldatum;Bedrag\nk1;2024-02-01;1234,50\nk1;2024-03-15;99,90\n"[..],
    ] {
        let (log, report) = read_log(file, &LogOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(log.amount.as_deref(), Some(&[1234.5, 99.9][..]), "{}", report.mapping);
    }
    let p = winback_ingest::people::read_customers(
        "Kundennummer;Vorname;Nachname;E-Mail\nk1;Jörg;Müller;j@x.de\n".as_bytes(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(p.rows[0].external_id, "k1");
    assert_eq!((p.rows[0].name.as_deref(), p.rows[0].email.as_deref()), (Some("Jörg Müller"), Some("j@x.de")));
    let e = winback_ingest::people::read_events(b"Kunde;Datum;Art\nk1;2024-01-05;Beschwerde\n", &Default::default())
        .unwrap();
    assert_eq!((e.rows.len(), e.rows[0].customer.as_str(), e.rows[0].kind.as_str()), (1, "k1", "beschwerde"));
}
