//! The store contract: every method of [`Store`], in the order a shop uses
//! them, on SQLite and — when `WINBACK_TEST_PG` names a server — PostgreSQL,
//! with the same expectations (atuin's `db_story` is the model).

use winback_domain::campaign::{Arm, MemberState};
use winback_domain::causes::{CauseStatus, CauseUpdate, NewCause};
use winback_domain::customer::{CustomerRecord, EventRecord};
use winback_domain::import::{build_batch, ImportBatch, RowExtras};
use winback_domain::period::day_number;
use winback_domain::reasons::{NewReason, Scope, Source, Taxonomy};
use winback_ingest::transactions::{read_log, LogOptions};
use winback_store::*;

/// A fresh store per back end for test `name`.
fn stores(name: &str) -> Vec<(String, Box<dyn Store>)> {
    let mut out: Vec<(String, Box<dyn Store>)> = Vec::new();
    let dir = std::env::temp_dir().join(format!("winback-contract-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.db").display().to_string();
    out.push((path.clone(), open(&path).unwrap()));
    if let Ok(url) = std::env::var("WINBACK_TEST_PG") {
        let schema = format!("wbcontract_{name}_{}", std::process::id());
        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("WINBACK_TEST_PG reachable");
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let u = format!("{url}{sep}schema={schema}");
        out.push((u.clone(), open(&u).unwrap()));
    }
    out
}

fn day(s: &str) -> i32 {
    day_number(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn batch(csv: &str) -> ImportBatch {
    let (log, _) = read_log(csv.as_bytes(), &LogOptions::default()).unwrap();
    let lines: Vec<u32> = (2..).take(log.len()).collect();
    let mut x = RowExtras {
        lines: &lines,
        txn_id: None,
        cost: None,
        returned: None,
        channel: None,
        store: None,
        product: None,
    };
    build_batch(log, &mut x)
}

fn meta(kind: &'static str, rows: usize) -> ImportMeta {
    ImportMeta { kind, source: "test.csv".into(), rows, rejected: 0, duplicates_in_file: 0 }
}

fn customer(id: &str, email: &str) -> CustomerRecord {
    CustomerRecord {
        line: 2,
        external_id: id.into(),
        name: Some(format!("Name {id}")),
        email: Some(email.into()),
        consent_email: Some(true),
        ..Default::default()
    }
}

const LOG: &str = "customer_id,date,amount\nA,2025-01-05,10.00\nA,2025-02-05,20.00\nB,2025-01-10,5.50\nC,2025-03-01,7.25\nA,2025-03-05,-4.00\n";

#[test]
fn a_shop_through_the_store() {
    for (url, mut s) in stores("story") {
        let ctx = |what: &str| format!("[{url}] {what}");
        // migrations all applied on open
        let m = s.migration_status().unwrap();
        assert!(m.iter().all(|x| x.applied_at.is_some()), "{}", ctx("migrations"));
        let fp0 = s.fingerprint().unwrap();

        // transactions: imported once, duplicates the second time
        let o = s.import_transactions(batch(LOG), &meta("transactions", 5), &mut |_| {}).unwrap();
        assert_eq!((o.imported, o.customers_created), (5, 3), "{}", ctx("import"));
        let again = s.import_transactions(batch(LOG), &meta("transactions", 5), &mut |_| {}).unwrap();
        assert_eq!((again.imported, again.duplicate_lines.len()), (0, 5), "{}", ctx("reimport"));
        let log = s.transaction_log().unwrap();
        assert_eq!(log.log.len(), 4, "{}", ctx("the log holds purchases"));
        assert_eq!(log.returns, 1, "{}", ctx("and counts the return"));
        let fp1 = s.fingerprint().unwrap();
        assert_ne!(fp0, fp1, "{}", ctx("an import changes the fingerprint"));

        // customers: created, then updated by the same id
        let c = s
            .import_customers(&[customer("A", "a@example.com"), customer("D", "d@example.com")], &meta("customers", 2))
            .unwrap();
        assert_eq!(c.customers_created, 1, "{}", ctx("D is new"));
        let c = s.import_customers(&[customer("A", "new-a@example.com")], &meta("customers", 1)).unwrap();
        assert_eq!(c.customers_created, 0);
        let a = s.customer("A").unwrap().unwrap();
        assert_eq!(a.view.email.as_deref(), Some("new-a@example.com"), "{}", ctx("updated"));
        assert_eq!((a.view.transactions, a.view.returns), (2, 1), "{}", ctx("A's purchases and return"));
        assert!(s.customer("nobody").unwrap().is_none());

        // events, deduplicated by content
        let ev = EventRecord {
            line: 2,
            customer: "B".into(),
            day: day("2025-02-01"),
            kind: "complaint".into(),
            attributes: "{}".into(),
        };
        assert_eq!(s.import_events(std::slice::from_ref(&ev), &meta("events", 1)).unwrap().imported, 1);
        assert_eq!(s.import_events(&[ev], &meta("events", 1)).unwrap().imported, 0, "{}", ctx("event dedupe"));
        assert_eq!(s.events().unwrap().len(), 1);

        // an analysis run with scores
        let facts = s.customer_facts().unwrap();
        assert_eq!(facts.customers.len(), 4, "{}", ctx("facts for A B C D"));
        assert!(facts.run.is_none());
        let id_of = |ext: &str| facts.customers.iter().find(|f| f.external_id == ext).unwrap().id;
        let run = NewRun {
            model: "bgnbd".into(),
            params: "{}".into(),
            spend_params: None,
            log_likelihood: -12.5,
            customers: 3,
            converged: true,
            period: "day".into(),
            time_unit: "week".into(),
            observation_end: day("2025-03-31"),
            horizon: 52.0,
        };
        let scores: Vec<ScoreRow> = ["A", "B", "C"]
            .iter()
            .enumerate()
            .map(|(i, c)| ScoreRow {
                customer_id: id_of(c),
                frequency: i as i64,
                recency: 1.0,
                t: 12.0,
                monetary_value: 10.0,
                p_alive: 0.9 - 0.4 * i as f64,
                expected_purchases: 1.0,
                expected_spend: Some(10.0),
                lifetime_value: Some(20.0),
                value_at_stake: 10.0 * (i + 1) as f64,
            })
            .collect();
        let run_id = s.save_run(&run, &scores).unwrap();
        assert_eq!(s.runs().unwrap().last().unwrap().id, run_id);
        let rs = s.run_scores(run_id).unwrap();
        assert_eq!(rs.len(), 3);
        let below = s.customers(&CustomerQuery { alive_below: Some(0.6), ..Default::default() }).unwrap();
        assert_eq!(below.len(), 2, "{}", ctx("B (0.5) and C (0.1) below 0.6"));
        let facts = s.customer_facts().unwrap();
        assert_eq!(facts.run.as_ref().map(|r| r.id), Some(run_id));
        assert!(s.counts().unwrap().iter().any(|(t, n)| *t == "transactions" && *n == 5), "{:?}", s.counts().unwrap());

        // reasons: an unknown customer fails the whole batch, typed
        let t = Taxonomy::default();
        let reason = |c: &str, cat: &str| NewReason {
            line: 2,
            customer: c.into(),
            category: t.parse(cat).unwrap(),
            scope: Scope::Systemic,
            detail: Some("late".into()),
            suggestion: Some("use a better courier".into()),
            source: Source::Survey,
            day: day("2025-03-10"),
            recorded_by: "test".into(),
            cause: None,
            wont_return: false,
        };
        let err = s.add_reasons(&[reason("B", "delivery"), reason("ZZ", "price")]).unwrap_err();
        assert!(matches!(err, StoreError::UnknownCustomer(_)), "{}: {err:?}", ctx("unknown customer"));
        assert!(s.reasons().unwrap().is_empty(), "{}", ctx("nothing stored"));
        let r = s.add_reasons(&[reason("B", "delivery"), reason("C", "delivery")]).unwrap();
        assert_eq!(r.ids.len(), 2);
        let r = s.add_reasons(&[reason("B", "delivery")]).unwrap();
        assert_eq!(r.duplicate_lines, vec![2], "{}", ctx("a reason twice"));

        // a root cause links the unlinked reasons in its categories
        let (cause, linked) = s
            .add_cause(&NewCause {
                title: "Courier".into(),
                categories: vec![t.parse("delivery").unwrap()],
                scope: Scope::Systemic,
                status: CauseStatus::Open,
                fixed_on: None,
                announcement: None,
            })
            .unwrap();
        assert_eq!(linked, 2, "{}", ctx("linked"));
        let fp2 = s.fingerprint().unwrap();
        let (c, _) = s
            .update_cause(
                cause,
                &CauseUpdate {
                    status: Some(CauseStatus::Fixed),
                    fixed_on: Some(day("2025-03-20")),
                    announcement: Some("new courier".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(c.status, CauseStatus::Fixed);
        assert!(matches!(s.update_cause(999, &CauseUpdate::default()).unwrap_err(), StoreError::NotFound(_)));
        assert_eq!(s.causes().unwrap().len(), 1);
        assert!(s.reasons().unwrap().iter().all(|r| r.cause == Some(cause)));
        let _ = fp2;

        // a campaign: frozen whole, its name unique, members claimed once
        let members: Vec<NewMember> = ["B", "C"]
            .iter()
            .enumerate()
            .map(|(i, c)| NewMember {
                customer_id: id_of(c),
                arm: if i == 0 { Arm::Treatment } else { Arm::Control },
                tier: "top".into(),
                category: "delivery".into(),
                rule: "r".into(),
                strategy: "apology".into(),
                channel: "email".into(),
                coupon: None,
                unsubscribe_token: format!("token{i}"),
                value_if_won: 10.0,
                state: if i == 0 { MemberState::Pending } else { MemberState::Holdout },
            })
            .collect();
        let camp = NewCampaign {
            name: "spring".into(),
            start_day: day("2025-04-01"),
            target: "winback".into(),
            holdout: 0.5,
            seed: 1,
            window_days: 60,
            base_rate: 0.1,
            detectable_lift: 0.3,
            playbook: "x".into(),
            run_id: Some(run_id),
        };
        let cid = s.create_campaign(&camp, &members).unwrap();
        assert!(
            matches!(s.create_campaign(&camp, &members).unwrap_err(), StoreError::Conflict(_)),
            "{}",
            ctx("name in use")
        );
        assert_eq!(s.campaigns().unwrap().len(), 1);
        let b = id_of("B");
        assert!(s.claim(cid, b, day("2025-04-01"), "secret-b").unwrap());
        assert!(!s.claim(cid, b, day("2025-04-01"), "other").unwrap(), "{}", ctx("claimed once"));
        let stored = s.campaign_members(cid).unwrap().into_iter().find(|m| m.m.customer_id == b).unwrap();
        assert_eq!(stored.m.unsubscribe_token, digest("secret-b"), "{}", ctx("only the token's hash is kept"));
        s.mark(
            cid,
            b,
            &Mark {
                state: MemberState::Sent,
                day: Some(day("2025-04-01")),
                message_id: Some("<m>".into()),
                error: None,
            },
        )
        .unwrap();
        let ms = s.campaign_members(cid).unwrap();
        let mb = ms.iter().find(|m| m.external_id == "B").unwrap();
        assert_eq!((mb.m.state, mb.contacted_day), (MemberState::Sent, Some(day("2025-04-01"))));
        assert_eq!(s.contacted_since(day("2025-03-01")).unwrap(), vec![b]);
        assert_eq!(
            s.member_counts(cid).unwrap(),
            vec![("control".to_string(), "holdout".to_string(), 1), ("treatment".to_string(), "sent".to_string(), 1)],
            "{}",
            ctx("members counted by arm and state")
        );
        assert!(s.contacted_since(day("2025-05-01")).unwrap().is_empty());

        // opt-outs: unknown token none, known idempotent, consent withdrawn
        assert_eq!(s.opt_out("nope", "email", day("2025-04-02"), "link").unwrap(), None);
        assert_eq!(
            s.opt_out(&digest("secret-b"), "email", day("2025-04-02"), "link").unwrap(),
            None,
            "{}",
            ctx("the hash is no token")
        );
        assert_eq!(s.opt_out("secret-b", "email", day("2025-04-02"), "link").unwrap(), Some(b));
        assert_eq!(s.opt_out("secret-b", "email", day("2025-04-03"), "link").unwrap(), Some(b));
        assert_eq!(s.opt_outs().unwrap(), vec![(b, "email".to_string())]);
        let bf = s.customer_facts().unwrap().customers.into_iter().find(|f| f.id == b).unwrap();
        assert!(!bf.reachable("email"), "{}", ctx("consent withdrawn"));

        let mine = s.memberships("B").unwrap();
        assert_eq!(mine.len(), 1, "{}", ctx("B is in one campaign"));
        assert_eq!(
            (mine[0].campaign.as_str(), mine[0].arm.as_str(), mine[0].state.as_str()),
            ("spring", "treatment", "sent")
        );
        assert_eq!(mine[0].contacted_day, Some(day("2025-04-01")));
        assert!(s.memberships("A").unwrap().is_empty());

        // do-not-contact, by hand
        s.set_do_not_contact("B", true).unwrap();
        assert!(s.customer_facts().unwrap().customers.iter().find(|f| f.id == b).unwrap().do_not_contact);
        s.set_do_not_contact("B", false).unwrap();
        assert!(!s.customer_facts().unwrap().customers.iter().find(|f| f.id == b).unwrap().do_not_contact);
        assert!(matches!(s.set_do_not_contact("ZZ", true), Err(StoreError::UnknownCustomer(_))));

        // follow-ups
        let f = FollowupRow {
            campaign_id: cid,
            customer_id: b,
            offset_days: 14,
            done_day: day("2025-05-01"),
            satisfied: Some(true),
            score: Some(9),
            note: Some("happy".into()),
        };
        s.record_followup(&f).unwrap();
        let got = s.followups().unwrap();
        assert_eq!((got.len(), got[0].score, got[0].satisfied), (1, Some(9), Some(true)));

        // accounts: emails unique, sessions by hash, expiry, disabling ends them
        let owner = s
            .add_user(&NewUser {
                email: "o@shop.test".into(),
                role: "owner".into(),
                password_hash: "$argon2id$x".into(),
            })
            .unwrap();
        let dup = s.add_user(&NewUser { email: "o@shop.test".into(), role: "staff".into(), password_hash: "h".into() });
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{}: {dup:?}", ctx("email in use"));
        let (u, hash) = s.user_for_login("o@shop.test").unwrap().unwrap();
        assert_eq!((u.id, u.role.as_str(), u.disabled, hash.as_str()), (owner, "owner", false, "$argon2id$x"));
        assert!(s.user_for_login("nobody@shop.test").unwrap().is_none());
        s.start_session("h1", owner, 1_000, 2_000).unwrap();
        s.start_session("h2", owner, 1_000, 1_500).unwrap();
        assert_eq!(s.session_user("h1", 1_999).unwrap().map(|u| u.id), Some(owner));
        assert_eq!(s.session_user("h1", 2_000).unwrap(), None, "{}", ctx("expired"));
        assert_eq!(s.session_user("nope", 1_100).unwrap(), None);
        s.start_session("h3", owner, 1_600, 9_000).unwrap(); // purges h2, expired at 1_500
        assert_eq!(s.end_sessions(owner).unwrap(), 2, "{}", ctx("h1 and h3 left"));
        s.start_session("h4", owner, 1_700, 9_000).unwrap();
        s.end_session("h4").unwrap();
        assert_eq!(s.session_user("h4", 1_800).unwrap(), None);
        s.start_session("h5", owner, 1_700, 9_000).unwrap();
        s.set_user_disabled("o@shop.test", true).unwrap();
        assert_eq!(s.session_user("h5", 1_800).unwrap(), None, "{}", ctx("disabled"));
        assert!(s.users().unwrap()[0].disabled);
        assert!(matches!(s.set_user_disabled("x@y", true), Err(StoreError::NotFound(_))));

        // the survey: a personal link by hash, a member by token; one answer per
        // link whose reasons an edit replaces
        assert!(matches!(s.add_survey_link("lh", "ZZ", None), Err(StoreError::UnknownCustomer(_))));
        assert_eq!(s.add_survey_link("lh", "C", None).unwrap(), id_of("C"));
        let c_link = s.survey_target("lh", "lh").unwrap().unwrap();
        assert_eq!((c_link.external_id.as_str(), c_link.campaign_id, c_link.response.is_none()), ("C", None, true));
        let member = s.survey_target("hash-of-token0", "secret-b").unwrap().unwrap();
        assert_eq!((member.customer_id, member.campaign_id), (b, Some(cid)), "{}", ctx("member link"));
        assert!(s.survey_target("nope", "nope").unwrap().is_none());
        assert!(
            s.survey_target("nope", &digest("secret-b")).unwrap().is_none(),
            "{}",
            ctx("a stored hash opens nothing")
        );
        let before = s.reasons().unwrap().len();
        let said = |cat: &str, no: bool| NewReason {
            source: Source::Survey,
            detail: None,
            recorded_by: "survey".into(),
            wont_return: no,
            ..reason("B", cat)
        };
        let save = |s: &mut Box<dyn Store>, rs: &[NewReason], come_back: &str, now: i64| {
            s.save_survey(&SurveySave {
                token_hash: "hash-of-token0",
                customer_id: b,
                campaign_id: Some(cid),
                answers: "{}",
                come_back,
                now,
                reasons: rs,
            })
            .unwrap()
        };
        let ids = save(&mut s, &[said("price", false), said("competitor", false)], "maybe", 5_000);
        assert_eq!(ids.len(), 2);
        assert_eq!(s.reasons().unwrap().len(), before + 2);
        let ids2 = save(&mut s, &[said("price", true)], "no", 6_000);
        let all = s.reasons().unwrap();
        assert_eq!(all.len(), before + 1, "{}", ctx("an edit replaces the answer's reasons"));
        let r = all.iter().find(|r| r.id == ids2[0]).unwrap();
        assert!(r.wont_return && r.source == Source::Survey, "{}", ctx("read back"));
        // one customer's, from the index, as the filtered whole
        let theirs: Vec<_> = all.iter().filter(|x| x.customer == r.customer).cloned().collect();
        let ids = |v: &[winback_domain::reasons::Reason]| v.iter().map(|x| x.id).collect::<Vec<_>>();
        assert_eq!(ids(&s.reasons_of(Some(&r.customer)).unwrap()), ids(&theirs), "{}", ctx("one customer's reasons"));
        assert!(s.reasons_of(Some("nobody-at-all")).unwrap().is_empty());
        let again = s.survey_target("hash-of-token0", "secret-b").unwrap().unwrap().response.unwrap();
        assert_eq!((again.come_back.as_str(), again.first_at, again.updated_at), ("no", 5_000, 6_000));
        assert_eq!(
            s.survey_responses().unwrap(),
            vec![SurveyResponse { customer_id: b, campaign_id: Some(cid), come_back: "no".into(), first_at: 5_000 }]
        );

        // the cached assessment: saved whole, read back by filter and count
        let fp = s.fingerprint().unwrap();
        assert_ne!(fp, fp1, "{}", ctx("reasons, runs and opt-outs change the fingerprint"));
        assert!(s.assessment_cache().unwrap().is_none());
        let row = |c: &str, status: &str, decision: Option<&str>, held: bool, v: Option<f64>| AssessedRow {
            customer_id: id_of(c),
            external_id: c.into(),
            status: status.into(),
            decision: decision.map(Into::into),
            held,
            value_if_won: v,
            detail: format!("{{\"customer\":\"{c}\",\"tab\":\"a\\tb\"}}"),
            segment: (c != "D").then(|| if c == "B" { "Business".to_string() } else { "retail".to_string() }),
            tier: decision.map(|_| if c == "C" { "top".to_string() } else { "low".to_string() }),
            last_day: match c {
                "A" => Some(300),
                "B" => Some(200),
                "C" => Some(100),
                _ => None,
            },
        };
        // in display order: gone by value if won, then the rest
        let rows = vec![
            row("C", "lapsed", Some("keep_in_touch"), false, Some(80.0)),
            row("B", "lost", Some("win_back"), true, Some(50.0)),
            row("D", "lost", Some("walk_away"), false, Some(0.0)),
            row("A", "active", None, false, None),
        ];
        let info = CacheInfo { fingerprint: fp.clone(), as_of: day("2025-03-31"), horizon: "a year".into() };
        s.save_assessments(&info, &rows).unwrap();
        s.save_assessments(&info, &rows).unwrap(); // replaces, no conflict
        assert_eq!(s.assessment_cache().unwrap(), Some(info));
        let gone = s.assessed(&AssessedQuery { gone_only: true, ..Default::default() }).unwrap();
        let order: Vec<&str> = gone.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(order, ["C", "B", "D"], "{}", ctx("in the order saved"));
        assert_eq!(gone[0], rows[0], "{}", ctx("read back as written"));
        let held = s.assessed(&AssessedQuery { gone_only: true, held: Some(true), ..Default::default() }).unwrap();
        assert_eq!(held.len(), 1);
        let lost =
            s.assessed(&AssessedQuery { statuses: vec!["lost".into()], limit: Some(1), ..Default::default() }).unwrap();
        assert_eq!(lost.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["B"]);
        let one = s.assessed(&AssessedQuery { external_id: Some("A".into()), ..Default::default() }).unwrap();
        assert_eq!(one, vec![rows[3].clone()]);
        // segment (any case) and tier, and their counts
        let q = AssessedQuery { gone_only: true, segment: Some("business".into()), ..Default::default() };
        assert_eq!(s.assessed(&q).unwrap().iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["B"]);
        assert_eq!(s.assessed_count(&q).unwrap(), 1);
        let q = AssessedQuery { gone_only: true, tier: Some("low".into()), limit: Some(1), ..Default::default() };
        assert_eq!(s.assessed(&q).unwrap().len(), 1);
        assert_eq!(s.assessed_count(&q).unwrap(), 2, "{}", ctx("counted without the limit"));
        let q = AssessedQuery { segment: Some("RETAIL".into()), tier: Some("top".into()), ..Default::default() };
        assert_eq!(s.assessed_count(&q).unwrap(), 1);
        // by last purchase: most recent first, or longest gone first; no purchase last
        let mut by = |order| {
            let q = AssessedQuery { gone_only: true, order, ..Default::default() };
            s.assessed(&q).unwrap().iter().map(|r| r.external_id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(by(AssessedOrder::Recent), ["B", "C", "D"], "{}", ctx("recent first"));
        assert_eq!(by(AssessedOrder::Longest), ["C", "B", "D"], "{}", ctx("longest gone first"));
        let counts = s.assessed_counts().unwrap();
        assert_eq!(counts.iter().map(|c| c.3).sum::<i64>(), 3, "{}: {counts:?}", ctx("counts over the gone"));
        assert!(counts.contains(&("lost".into(), "win_back".into(), true, 1)));
        // product revenue needs products: none here
        assert!(s.product_revenue().unwrap().is_empty());
        if let Some(p) = url.strip_suffix("w.db") {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// Opening a store again neither re-migrates nor loses anything.
#[test]
fn reopening_keeps_everything() {
    for (url, mut s) in stores("reopen") {
        s.import_transactions(batch(LOG), &meta("transactions", 5), &mut |_| {}).unwrap();
        let fp = s.fingerprint().unwrap();
        drop(s);
        let mut again = open(&url).unwrap();
        assert_eq!(again.fingerprint().unwrap(), fp, "[{url}]");
        assert!(again.migration_status().unwrap().iter().all(|m| m.applied_at.is_some()));
    }
}

/// A pool lends at most `size` stores; the next request waits for one to come
/// back and is then served by it (no new connection, no re-migration).
#[test]
fn a_pool_lends_and_waits() {
    for (url, s) in stores("pool") {
        drop(s);
        let pool = Pool::new(&url, 2, std::time::Duration::from_secs(5)).unwrap();
        let mut a = pool.get().unwrap();
        let b = pool.get().unwrap();
        assert_eq!(pool.open_count(), 2, "[{url}]");
        a.import_transactions(batch(LOG), &meta("transactions", 5), &mut |_| {}).unwrap();
        let fp = a.fingerprint().unwrap();
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let t0 = std::time::Instant::now();
                let mut c = pool.get().unwrap();
                (t0.elapsed(), c.fingerprint().unwrap())
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(a);
        let (waited, seen) = waiter.join().unwrap();
        assert!(waited >= std::time::Duration::from_millis(250), "[{url}] waited {waited:?}");
        assert_eq!(seen, fp, "[{url}]");
        assert_eq!(pool.open_count(), 2, "[{url}] no third store opened");
        // all lent and none returned in time: a typed error, not a hang
        let short = Pool::new(&url, 1, std::time::Duration::from_millis(100)).unwrap();
        let held = short.get().unwrap();
        assert!(matches!(short.get(), Err(StoreError::Busy(_))), "[{url}]");
        drop((held, b));
    }
}
