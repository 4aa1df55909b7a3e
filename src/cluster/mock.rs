//! A mock API server for the middle test tier, as kube-rs tests its own client
//! (`kube/src/mock_tests.rs`): `tower_test::mock::pair` stands in for the HTTP connection and
//! `kube::Client::new` talks to it. Every request is recorded (method, path, query, content
//! type, body) and answered by the test's `route`, so tests assert request shapes, patch
//! bodies and retries in milliseconds, with no testbed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};

use super::Target;

/// One request as the mock server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Recorded {
    /// `GET /api/v1/nodes?resourceVersion=0`: method, path and the query in key order.
    pub fn line(&self) -> String {
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, query.join("&"))
        }
    }
}

/// The requests seen so far.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Recorded>>>);

impl Log {
    pub fn requests(&self) -> Vec<Recorded> {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// [`Recorded::line`] of every request, sorted (concurrent requests come in any order).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.requests().iter().map(Recorded::line).collect();
        lines.sort();
        lines
    }
}

/// An answer: the HTTP status and the JSON body.
pub type Answer = (u16, Value);

/// A target whose API server is `route`, and the log of what it was asked.
pub fn serve(mut route: impl FnMut(&Recorded) -> Answer + Send + 'static) -> (Target, Log) {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let log = Log::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let recorded = record(request).await;
            let (status, body) = route(&recorded);
            if let Ok(mut all) = seen.0.lock() {
                all.push(recorded);
            }
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let response = Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(bytes));
            match response {
                Ok(r) => send.send_response(r),
                Err(_) => break,
            }
        }
    });
    let client = kube::Client::new(service, "default");
    (Target::new(client, "default", "https://mock"), log)
}

async fn record(request: Request<Body>) -> Recorded {
    let (parts, body) = request.into_parts();
    let query = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (decode(k), decode(v)))
                .collect()
        })
        .unwrap_or_default();
    let bytes = body.collect_bytes().await.unwrap_or_default();
    Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query,
        content_type: parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// Percent-decoding of a query part (`%2C` → `,`, `+` → space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A list answer of `items`.
pub fn list(items: Vec<Value>) -> Answer {
    (
        200,
        json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}),
    )
}

/// A failure answer, as the API server sends it (`metav1.Status`).
pub fn status(code: u16, reason: &str, message: &str) -> Answer {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

/// What a test's route does not care about: an empty list for a GET of a collection, 404 for
/// anything else.
pub fn fallback(request: &Recorded) -> Answer {
    let collection = [
        "pods",
        "nodes",
        "daemonsets",
        "controllerrevisions",
        "events",
        "limitranges",
        "runtimeclasses",
        "priorityclasses",
        "serviceaccounts",
        "namespaces",
        "resourcequotas",
        "poddisruptionbudgets",
    ];
    let last = request.path.rsplit('/').next().unwrap_or("");
    if request.method == "GET" && collection.contains(&last) {
        list(Vec::new())
    } else {
        status(404, "NotFound", &format!("{} not found", request.path))
    }
}
