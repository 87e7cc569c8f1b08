//! What the web server keeps: accounts, sessions and the exit survey.
//! Secrets are stored only as SHA-256 hashes (the caller hashes them): a copy
//! of the store does not let anyone sign in or answer for a customer.

use serde::Serialize;
use winback_domain::reasons::NewReason;

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{Result, StoreError};

/// Someone who signs in to the web app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    /// "owner" or "staff".
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A user to add; `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub role: String,
    pub password_hash: String,
}

/// Whose survey a link opens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyTarget {
    pub customer_id: i64,
    pub external_id: String,
    pub name: Option<String>,
    pub campaign_id: Option<i64>,
    pub response: Option<SurveyAnswer>,
}

/// A stored survey answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyAnswer {
    /// The answers as JSON, as the application layer wrote them.
    pub answers: String,
    /// "yes", "maybe" or "no".
    pub come_back: String,
    /// Unix seconds of the first answer and the latest edit.
    pub first_at: i64,
    pub updated_at: i64,
}

/// An answer to save, with the reasons it becomes (replacing the reasons an
/// earlier answer on the same link became).
#[derive(Debug, Clone)]
pub struct SurveySave<'a> {
    pub token_hash: &'a str,
    pub customer_id: i64,
    pub campaign_id: Option<i64>,
    pub answers: &'a str,
    pub come_back: &'a str,
    pub now: i64,
    pub reasons: &'a [NewReason],
}

/// One survey answer, for campaign reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyResponse {
    pub customer_id: i64,
    pub campaign_id: Option<i64>,
    pub come_back: String,
    pub first_at: i64,
}

/// Accounts and sessions.
pub trait Accounts {
    /// Add a user; an email in use is [`StoreError::Conflict`].
    fn add_user(&mut self, u: &NewUser) -> Result<i64>;
    fn users(&mut self) -> Result<Vec<User>>;
    /// Disable (or enable) a user; disabling ends their sessions.
    fn set_user_disabled(&mut self, email: &str, disabled: bool) -> Result<()>;
    /// A user and their password hash, by email.
    fn user_for_login(&mut self, email: &str) -> Result<Option<(User, String)>>;
    /// Record a session (and drop expired ones).
    fn start_session(&mut self, id_hash: &str, user_id: i64, now: i64, expires_at: i64) -> Result<()>;
    /// The enabled user of an unexpired session.
    fn session_user(&mut self, id_hash: &str, now: i64) -> Result<Option<User>>;
    fn end_session(&mut self, id_hash: &str) -> Result<()>;
    /// End every session of a user ("sign out everywhere"); returns how many.
    fn end_sessions(&mut self, user_id: i64) -> Result<usize>;
}

/// The exit survey.
pub trait Surveys {
    /// A personal link for a customer (by external id); returns their id.
    fn add_survey_link(&mut self, token_hash: &str, customer: &str, campaign_id: Option<i64>) -> Result<i64>;
    /// The customer a link is for: a personal link by its hash, else a
    /// campaign member by their member token.
    fn survey_target(&mut self, token_hash: &str, member_token: &str) -> Result<Option<SurveyTarget>>;
    /// Save an answer and its reasons in one transaction; returns the reasons' ids.
    fn save_survey(&mut self, s: &SurveySave) -> Result<Vec<i64>>;
    fn survey_responses(&mut self) -> Result<Vec<SurveyResponse>>;
}

const INSERT_USER: &str =
    "INSERT INTO users (email, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, FALSE, $4) RETURNING id";
const USER_COLS: &str = "u.id, u.email, u.role, u.disabled, u.created_at";
// SQLite numbers `$N` parameters by first appearance: keep them in order.
const SET_DISABLED: &str = "UPDATE users SET disabled = $1 WHERE email = $2 RETURNING id";
const END_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
const START_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const END_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";
const INSERT_LINK: &str =
    "INSERT INTO survey_links (token_hash, customer_id, campaign_id, created_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (token_hash) DO NOTHING";
const LINK_TARGET: &str = "SELECT l.customer_id, c.external_id, c.name, l.campaign_id FROM survey_links l
    JOIN customers c ON c.id = l.customer_id WHERE l.token_hash = $1";
const MEMBER_TARGET: &str = "SELECT m.customer_id, c.external_id, c.name, m.campaign_id FROM campaign_members m
    JOIN customers c ON c.id = m.customer_id
    WHERE m.unsubscribe_token = $1 OR (m.unsubscribe_token = $2 AND length(m.unsubscribe_token) < 64)";
const RESPONSE: &str =
    "SELECT answers, come_back, first_at, updated_at, reason_ids FROM survey_responses WHERE token_hash = $1";
const UPSERT_RESPONSE: &str = "INSERT INTO survey_responses
    (token_hash, customer_id, campaign_id, answers, come_back, first_at, updated_at, reason_ids)
    VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
    ON CONFLICT (token_hash) DO UPDATE SET answers = excluded.answers, come_back = excluded.come_back,
    updated_at = excluded.updated_at, reason_ids = excluded.reason_ids";
const DELETE_SURVEY_REASON: &str = "DELETE FROM reasons WHERE id = $1 AND source = 'survey'";
const RESPONSES: &str =
    "SELECT customer_id, campaign_id, come_back, first_at FROM survey_responses ORDER BY first_at, token_hash";

fn users_sql(filter: &str) -> String {
    format!("SELECT {USER_COLS} FROM users u {filter} ORDER BY u.id")
}

fn session_sql() -> String {
    format!(
        "SELECT {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
    )
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn ids_of(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

fn no_user(email: &str) -> StoreError {
    StoreError::NotFound(format!("no user {email}; see `winback user list`"))
}

fn unknown(customer: &str) -> StoreError {
    StoreError::UnknownCustomer(format!("unknown customer '{customer}'"))
}

fn email_taken(email: &str) -> StoreError {
    StoreError::Conflict(format!("a user {email} exists already"))
}

mod lite {
    use rusqlite::{params, OptionalExtension, Row};

    use super::*;

    fn user(r: &Row) -> rusqlite::Result<User> {
        Ok(User { id: r.get(0)?, email: r.get(1)?, role: r.get(2)?, disabled: r.get(3)?, created_at: r.get(4)? })
    }

    fn target(r: &Row) -> rusqlite::Result<SurveyTarget> {
        Ok(SurveyTarget {
            customer_id: r.get(0)?,
            external_id: r.get(1)?,
            name: r.get(2)?,
            campaign_id: r.get(3)?,
            response: None,
        })
    }

    impl Accounts for SqliteStore {
        fn add_user(&mut self, u: &NewUser) -> Result<i64> {
            let r = self.conn.query_row(
                INSERT_USER,
                params![u.email, u.role, u.password_hash, crate::migrations::now()],
                |r| r.get(0),
            );
            match r {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(email_taken(&u.email))
                }
                other => Ok(other?),
            }
        }

        fn users(&mut self) -> Result<Vec<User>> {
            let mut st = self.conn.prepare(&users_sql(""))?;
            let rows = st.query_map([], user)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        }

        fn set_user_disabled(&mut self, email: &str, disabled: bool) -> Result<()> {
            let tx = self.conn.transaction()?;
            let id: Option<i64> = tx.query_row(SET_DISABLED, params![disabled, email], |r| r.get(0)).optional()?;
            let id = id.ok_or_else(|| no_user(email))?;
            if disabled {
                tx.execute(END_SESSIONS, [id])?;
            }
            tx.commit()?;
            Ok(())
        }

        fn user_for_login(&mut self, email: &str) -> Result<Option<(User, String)>> {
            let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1");
            Ok(self.conn.query_row(&sql, [email], |r| Ok((user(r)?, r.get(5)?))).optional()?)
        }

        fn start_session(&mut self, id_hash: &str, user_id: i64, now: i64, expires_at: i64) -> Result<()> {
            let tx = self.conn.transaction()?;
            tx.execute(PURGE_SESSIONS, [now])?;
            tx.execute(START_SESSION, params![id_hash, user_id, now, expires_at])?;
            tx.commit()?;
            Ok(())
        }

        fn session_user(&mut self, id_hash: &str, now: i64) -> Result<Option<User>> {
            Ok(self.conn.prepare_cached(&session_sql())?.query_row(params![id_hash, now], user).optional()?)
        }

        fn end_session(&mut self, id_hash: &str) -> Result<()> {
            self.conn.execute(END_SESSION, [id_hash])?;
            Ok(())
        }

        fn end_sessions(&mut self, user_id: i64) -> Result<usize> {
            Ok(self.conn.execute(END_SESSIONS, [user_id])?)
        }
    }

    impl Surveys for SqliteStore {
        fn add_survey_link(&mut self, token_hash: &str, customer: &str, campaign_id: Option<i64>) -> Result<i64> {
            let tx = self.conn.transaction()?;
            let id: i64 = tx
                .query_row(crate::sql::CUSTOMER_ID, [customer], |r| r.get(0))
                .optional()?
                .ok_or_else(|| unknown(customer))?;
            tx.execute(INSERT_LINK, params![token_hash, id, campaign_id, crate::migrations::now()])?;
            tx.commit()?;
            Ok(id)
        }

        fn survey_target(&mut self, token_hash: &str, member_token: &str) -> Result<Option<SurveyTarget>> {
            let mut t = self.conn.query_row(LINK_TARGET, [token_hash], target).optional()?;
            if t.is_none() {
                let h = crate::digest(member_token);
                t = self.conn.query_row(MEMBER_TARGET, [h.as_str(), member_token], target).optional()?;
            }
            let Some(mut t) = t else { return Ok(None) };
            t.response = self
                .conn
                .query_row(RESPONSE, [token_hash], |r| {
                    Ok(SurveyAnswer {
                        answers: r.get(0)?,
                        come_back: r.get(1)?,
                        first_at: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                })
                .optional()?;
            Ok(Some(t))
        }

        fn save_survey(&mut self, s: &SurveySave) -> Result<Vec<i64>> {
            // IMMEDIATE: two answers on one link at once are saved one after the other
            let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(INSERT_LINK, params![s.token_hash, s.customer_id, s.campaign_id, crate::migrations::now()])?;
            let old: Option<String> = tx.query_row(RESPONSE, [s.token_hash], |r| r.get(4)).optional()?;
            for id in ids_of(old.as_deref().unwrap_or("")) {
                tx.execute(DELETE_SURVEY_REASON, [id])?;
            }
            let out = crate::sqlite::insert_reasons(&tx, s.reasons)?;
            tx.execute(
                UPSERT_RESPONSE,
                params![s.token_hash, s.customer_id, s.campaign_id, s.answers, s.come_back, s.now, ids_text(&out.ids)],
            )?;
            tx.commit()?;
            Ok(out.ids)
        }

        fn survey_responses(&mut self) -> Result<Vec<SurveyResponse>> {
            let mut st = self.conn.prepare(RESPONSES)?;
            let rows = st
                .query_map([], |r| {
                    Ok(SurveyResponse {
                        customer_id: r.get(0)?,
                        campaign_id: r.get(1)?,
                        come_back: r.get(2)?,
                        first_at: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        }
    }
}

mod pg {
    use postgres::Row;

    use super::*;

    fn user(r: &Row) -> Result<User> {
        Ok(User {
            id: r.try_get(0)?,
            email: r.try_get(1)?,
            role: r.try_get(2)?,
            disabled: r.try_get(3)?,
            created_at: r.try_get(4)?,
        })
    }

    fn target(r: &Row) -> Result<SurveyTarget> {
        Ok(SurveyTarget {
            customer_id: r.try_get(0)?,
            external_id: r.try_get(1)?,
            name: r.try_get(2)?,
            campaign_id: r.try_get(3)?,
            response: None,
        })
    }

    fn unique_violation(e: &postgres::Error) -> bool {
        e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
    }

    impl Accounts for PgStore {
        fn add_user(&mut self, u: &NewUser) -> Result<i64> {
            match self.client.query_one(INSERT_USER, &[&u.email, &u.role, &u.password_hash, &crate::migrations::now()])
            {
                Ok(r) => Ok(r.try_get(0)?),
                Err(e) if unique_violation(&e) => Err(email_taken(&u.email)),
                Err(e) => Err(e.into()),
            }
        }

        fn users(&mut self) -> Result<Vec<User>> {
            self.client.query(&users_sql(""), &[])?.iter().map(user).collect()
        }

        fn set_user_disabled(&mut self, email: &str, disabled: bool) -> Result<()> {
            let mut tx = self.client.transaction()?;
            let row = tx.query_opt(SET_DISABLED, &[&disabled, &email])?.ok_or_else(|| no_user(email))?;
            let id: i64 = row.try_get(0)?;
            if disabled {
                tx.execute(END_SESSIONS, &[&id])?;
            }
            tx.commit()?;
            Ok(())
        }

        fn user_for_login(&mut self, email: &str) -> Result<Option<(User, String)>> {
            let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1");
            match self.client.query_opt(&sql, &[&email])? {
                Some(r) => Ok(Some((user(&r)?, r.try_get(5)?))),
                None => Ok(None),
            }
        }

        fn start_session(&mut self, id_hash: &str, user_id: i64, now: i64, expires_at: i64) -> Result<()> {
            let mut tx = self.client.transaction()?;
            tx.execute(PURGE_SESSIONS, &[&now])?;
            tx.execute(START_SESSION, &[&id_hash, &user_id, &now, &expires_at])?;
            tx.commit()?;
            Ok(())
        }

        fn session_user(&mut self, id_hash: &str, now: i64) -> Result<Option<User>> {
            self.client.query_opt(&session_sql(), &[&id_hash, &now])?.as_ref().map(user).transpose()
        }

        fn end_session(&mut self, id_hash: &str) -> Result<()> {
            self.client.execute(END_SESSION, &[&id_hash])?;
            Ok(())
        }

        fn end_sessions(&mut self, user_id: i64) -> Result<usize> {
            Ok(usize::try_from(self.client.execute(END_SESSIONS, &[&user_id])?).unwrap_or(usize::MAX))
        }
    }

    impl Surveys for PgStore {
        fn add_survey_link(&mut self, token_hash: &str, customer: &str, campaign_id: Option<i64>) -> Result<i64> {
            let mut tx = self.client.transaction()?;
            let id: i64 =
                tx.query_opt(crate::sql::CUSTOMER_ID, &[&customer])?.ok_or_else(|| unknown(customer))?.try_get(0)?;
            tx.execute(INSERT_LINK, &[&token_hash, &id, &campaign_id, &crate::migrations::now()])?;
            tx.commit()?;
            Ok(id)
        }

        fn survey_target(&mut self, token_hash: &str, member_token: &str) -> Result<Option<SurveyTarget>> {
            let mut t = self.client.query_opt(LINK_TARGET, &[&token_hash])?.as_ref().map(target).transpose()?;
            if t.is_none() {
                let h = crate::digest(member_token);
                t = self.client.query_opt(MEMBER_TARGET, &[&h, &member_token])?.as_ref().map(target).transpose()?;
            }
            let Some(mut t) = t else { return Ok(None) };
            if let Some(r) = self.client.query_opt(RESPONSE, &[&token_hash])? {
                t.response = Some(SurveyAnswer {
                    answers: r.try_get(0)?,
                    come_back: r.try_get(1)?,
                    first_at: r.try_get(2)?,
                    updated_at: r.try_get(3)?,
                });
            }
            Ok(Some(t))
        }

        fn save_survey(&mut self, s: &SurveySave) -> Result<Vec<i64>> {
            let mut tx = self.client.transaction()?;
            tx.execute(INSERT_LINK, &[&s.token_hash, &s.customer_id, &s.campaign_id, &crate::migrations::now()])?;
            // the link's row locked: two answers on one link at once are saved one after the other
            tx.query_one("SELECT token_hash FROM survey_links WHERE token_hash = $1 FOR UPDATE", &[&s.token_hash])?;
            let old: Option<String> = match tx.query_opt(RESPONSE, &[&s.token_hash])? {
                Some(r) => Some(r.try_get(4)?),
                None => None,
            };
            for id in ids_of(old.as_deref().unwrap_or("")) {
                tx.execute(DELETE_SURVEY_REASON, &[&id])?;
            }
            let out = crate::postgres::insert_reasons(&mut tx, s.reasons)?;
            tx.execute(
                UPSERT_RESPONSE,
                &[&s.token_hash, &s.customer_id, &s.campaign_id, &s.answers, &s.come_back, &s.now, &ids_text(&out.ids)],
            )?;
            tx.commit()?;
            Ok(out.ids)
        }

        fn survey_responses(&mut self) -> Result<Vec<SurveyResponse>> {
            self.client
                .query(RESPONSES, &[])?
                .iter()
                .map(|r| {
                    Ok(SurveyResponse {
                        customer_id: r.try_get(0)?,
                        campaign_id: r.try_get(1)?,
                        come_back: r.try_get(2)?,
                        first_at: r.try_get(3)?,
                    })
                })
                .collect()
        }
    }
}
