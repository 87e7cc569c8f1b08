//! Server-rendered pages: templates and the stylesheet are compiled into the
//! binary; minijinja escapes every value in `.html` templates.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("survey.html", include_str!("../templates/survey.html")),
    ("unsubscribe.html", include_str!("../templates/unsubscribe.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("nav.html", include_str!("../templates/nav.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("customers.html", include_str!("../templates/customers.html")),
    ("customer.html", include_str!("../templates/customer.html")),
    ("causes.html", include_str!("../templates/causes.html")),
    ("campaigns.html", include_str!("../templates/campaigns.html")),
    ("campaign.html", include_str!("../templates/campaign.html")),
    ("campaign_new.html", include_str!("../templates/campaign_new.html")),
    ("campaign_preview.html", include_str!("../templates/campaign_preview.html")),
    ("job.html", include_str!("../templates/job.html")),
    ("reports.html", include_str!("../templates/reports.html")),
    ("backtest.html", include_str!("../templates/backtest.html")),
    ("thresholds.html", include_str!("../templates/thresholds.html")),
    ("followup_form.html", include_str!("../templates/followup_form.html")),
    ("playbook.html", include_str!("../templates/playbook.html")),
    ("data.html", include_str!("../templates/data.html")),
    ("data_preview.html", include_str!("../templates/data_preview.html")),
    ("users.html", include_str!("../templates/users.html")),
];

const STYLE: &str = include_str!("../static/style.css");

pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> Pages {
        Pages { env: env() }
    }

    /// Render `name` with `ctx`; a template error is a bug, logged and
    /// answered with a plain 500 page.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(s) => Html(s).into_response(),
            Err(e) => {
                tracing::error!("template {name}: {e:#}");
                let page = fallback("Something went wrong", "Sorry, this page could not be shown.");
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
            }
        }
    }
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, text) in TEMPLATES {
        if let Err(e) = env.add_template(name, text) {
            // templates are compiled in: a broken one fails every test
            tracing::error!("template {name}: {e:#}");
        }
    }
    env
}

fn fallback(title: &str, text: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{}</title><h1>{}</h1><p>{}</p></html>",
        esc(title),
        esc(title),
        esc(text)
    )
}

/// An error page (used where no state is at hand).
pub fn render_error(title: &str, text: &str) -> Html<String> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    let env = ENV.get_or_init(env);
    match env.get_template("message.html").and_then(|t| t.render(minijinja::context! { title, text, error => true })) {
        Ok(s) => Html(s),
        Err(_) => Html(fallback(title, text)),
    }
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLE)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        let page = render_error("Oops <b>", "a & b");
        assert!(page.0.contains("Oops &lt;b&gt;") && page.0.contains("a &amp; b"), "{}", page.0);
        assert!(page.0.contains("/static/style.css"), "the real template, not the fallback");
    }
}
