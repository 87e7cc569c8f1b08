//! `winback serve`: the unsubscribe route, and `winback unsubscribe TOKEN`.
//! A deliberately small HTTP/1.1 server on std: one request per connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, Result};

use crate::output::emit;
use winback_app::campaigns::today;

pub fn unsubscribe(db: &str, token: &str, channel: &str) -> Result<()> {
    match super::store::open(db)?.opt_out(token, channel, today(), "command line")? {
        Some(id) => emit(&format!("opted out of {channel} (customer #{id})\n")),
        None => anyhow::bail!("no campaign member has the token '{token}'"),
    }
}

pub fn run(db: &str, listen: &str) -> Result<()> {
    let listener = TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("winback serve: listening on http://{} (GET /unsubscribe/TOKEN, GET /health)", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(e) = handle(db, stream) {
            tracing::warn!("request failed: {e:#}");
        }
    }
    Ok(())
}

fn handle(db: &str, mut stream: TcpStream) -> Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // drain the headers
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = match (method, path.strip_prefix("/unsubscribe/")) {
        ("GET" | "POST", Some(token)) if !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric()) => {
            match super::store::open(db)?.opt_out(token, "email", today(), "unsubscribe link")? {
                Some(_) => (
                    "200 OK",
                    "<h1>You are unsubscribed</h1><p>We will not email you again about this. Sorry to see you go.</p>",
                ),
                None => ("404 Not Found", "<h1>Unknown link</h1><p>This unsubscribe link is not known.</p>"),
            }
        }
        ("GET", None) if path == "/health" => ("200 OK", "ok"),
        _ => ("404 Not Found", "<h1>Not found</h1>"),
    };
    let page = format!("<!doctype html><meta charset=\"utf-8\"><title>winback</title>{body}\n");
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    )?;
    Ok(())
}
