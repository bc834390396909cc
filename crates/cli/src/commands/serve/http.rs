//! The HTTP side of `az serve`: a fixed pool of threads taking requests from
//! tiny_http, the routes, JSON replies and errors, and the search streamed as
//! newline-delimited JSON in HTTP chunks. A request that fails gets a 4xx with
//! a message; one that panics gets a 500 and the thread serves on.

use super::api::{self, Refused, State};
use az_game::Board;
use serde_json::{Value, json};
use std::io::{Read, Write};
use tiny_http::{Header, Method, Request, Response, Server};

/// The page, built into the binary.
const PAGE: &str = include_str!("page.html");

/// Largest request body read.
const MAX_BODY: usize = 1 << 20;

/// Serves requests on `threads` threads until the process ends.
pub fn serve<G: Board>(server: &Server, state: &State, threads: usize) {
    std::thread::scope(|s| {
        for i in 0..threads {
            std::thread::Builder::new()
                .name(format!("az-serve-{i}"))
                .spawn_scoped(s, || {
                    while let Ok(request) = server.recv() {
                        handle::<G>(request, state);
                    }
                })
                .expect("spawning a server thread");
        }
    });
}

fn handle<G: Board>(mut request: Request, state: &State) {
    let route = (request.method().clone(), path(request.url()).to_owned());
    let body = match read_body(&mut request) {
        Ok(b) => b,
        Err(refused) => return reply_error(request, &refused),
    };
    if route.0 == Method::Post && route.1 == "/api/search" {
        return search::<G>(request, state, &body);
    }
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        respond::<G>(&route.0, &route.1, &body, state)
    }))
    .unwrap_or_else(|_| Err(Refused(500, "the server failed on this request".to_owned())));
    match answer {
        Ok(Reply::Page) => {
            let _ = request.respond(
                Response::from_string(PAGE)
                    .with_header(header("Content-Type", "text/html; charset=utf-8")),
            );
        }
        Ok(Reply::Json(v)) => reply_json(request, 200, &v),
        Err(refused) => reply_error(request, &refused),
    }
}

enum Reply {
    Page,
    Json(Value),
}

fn respond<G: Board>(
    method: &Method,
    path: &str,
    body: &[u8],
    state: &State,
) -> Result<Reply, Refused> {
    match (method, path) {
        (Method::Get, "/" | "/index.html") => Ok(Reply::Page),
        (Method::Get, "/api/info") => Ok(Reply::Json(api::info::<G>(state))),
        (Method::Get, "/api/run") => Ok(Reply::Json(api::run::<G>(state))),
        (Method::Post, "/api/position") => {
            let r = api::request::<G>(body)?;
            Ok(Reply::Json(api::position(&r)))
        }
        (_, "/" | "/index.html" | "/api/info" | "/api/run") => Err(Refused(
            405,
            format!("{method} {path}: only GET is served here"),
        )),
        (_, "/api/position" | "/api/search") => Err(Refused(
            405,
            format!("{method} {path}: only POST with a JSON body is served here"),
        )),
        _ => Err(Refused(
            404,
            format!(
                "{method} {path}: no such page (GET /, /api/info, /api/run; POST /api/position, /api/search)"
            ),
        )),
    }
}

/// `POST /api/search`: snapshots as they come, one JSON object per line, each
/// its own HTTP chunk; refused before the first byte as any other request.
fn search<G: Board>(request: Request, state: &State, body: &[u8]) {
    let r = match api::request::<G>(body).and_then(|r| api::searchable(&r).map(|()| r)) {
        Ok(r) => r,
        Err(refused) => return reply_error(request, &refused),
    };
    let mut out = request.into_writer();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\
                Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n";
    if out
        .write_all(head.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    let mut chunk = |v: &Value| -> bool {
        let line = format!("{v}\n");
        write!(out, "{:x}\r\n{line}\r\n", line.len())
            .and_then(|()| out.flush())
            .is_ok()
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        api::search::<G>(state, &r, &mut chunk)
    }));
    let failed = match result {
        Ok(Ok(())) => None,
        Ok(Err(Refused(_, m))) => Some(m),
        Err(_) => Some("the server failed on this search".to_owned()),
    };
    if let Some(message) = failed {
        chunk(&json!({"error": message, "done": true}));
    }
    let _ = out.write_all(b"0\r\n\r\n").and_then(|()| out.flush());
}

fn path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn read_body(request: &mut Request) -> Result<Vec<u8>, Refused> {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Refused(413, format!("the body is over {MAX_BODY} bytes")));
    }
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| Refused(400, format!("reading the body: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(Refused(413, format!("the body is over {MAX_BODY} bytes")));
    }
    Ok(body)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn reply_json(request: Request, status: u16, v: &Value) {
    let response = Response::from_string(v.to_string())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
        .with_header(header("Cache-Control", "no-store"));
    let _ = request.respond(response);
}

fn reply_error(request: Request, refused: &Refused) {
    reply_json(request, refused.0, &json!({"error": refused.1}));
}
