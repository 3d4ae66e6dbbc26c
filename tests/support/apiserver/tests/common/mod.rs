//! A minimal blocking HTTP/1.1 client, so the server is tested on the wire
//! without a second HTTP stack.

// Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub fn send(
    url: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&str>,
    token: Option<&str>,
) -> Reply {
    let address = url
        .strip_prefix("http://")
        .expect("test server URL is http");
    let mut stream = TcpStream::connect(address).expect("connect to test server");
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        request += &format!("Content-Type: {content_type}\r\n");
    }
    if let Some(token) = token {
        request += &format!("Authorization: Bearer {token}\r\n");
    }
    request += "\r\n";
    request += body;
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    parse(&String::from_utf8(raw).expect("UTF-8 answer"))
}

fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").expect("HTTP head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).expect("JSON body")
    };
    Reply { status, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out += &after[..size];
        rest = &after[size + 2..];
    }
    out
}

pub fn get(url: &str, path: &str) -> Reply {
    send(url, "GET", path, None, None, None)
}

pub fn post(url: &str, path: &str, body: &Value) -> Reply {
    send(
        url,
        "POST",
        path,
        Some("application/json"),
        Some(&body.to_string()),
        None,
    )
}

pub fn put(url: &str, path: &str, body: &Value) -> Reply {
    send(
        url,
        "PUT",
        path,
        Some("application/json"),
        Some(&body.to_string()),
        None,
    )
}

pub fn patch(url: &str, path: &str, content_type: &str, body: &Value) -> Reply {
    send(
        url,
        "PATCH",
        path,
        Some(content_type),
        Some(&body.to_string()),
        None,
    )
}

pub fn delete(url: &str, path: &str) -> Reply {
    send(url, "DELETE", path, None, None, None)
}

/// Asserts a `metav1.Status` failure with this code and reason.
#[track_caller]
pub fn assert_status(reply: &Reply, code: u16, reason: &str) {
    assert_eq!(reply.status, code, "{}", reply.body);
    assert_eq!(reply.body["kind"], "Status", "{}", reply.body);
    assert_eq!(reply.body["apiVersion"], "v1");
    assert_eq!(reply.body["status"], "Failure");
    assert_eq!(reply.body["code"], code);
    assert_eq!(reply.body["reason"], reason, "{}", reply.body);
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.body
    );
}
