//! A Kubernetes watch read as it arrives: one JSON event per line, split out of the response
//! body's frames.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::StatusCode;
use serde::Deserialize;

use crate::http::{Body, Conn};

/// One watch event line, with the parts of its object a benchmark reads.
#[derive(Deserialize)]
pub struct Event<'a, O> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub object: O,
}

pub struct Events {
    body: Incoming,
    pending: Vec<u8>,
}

impl Events {
    /// Sends the watch `request` on `conn` and waits for the server to accept it.
    pub async fn open(conn: &mut Conn, request: hyper::Request<Body>) -> Result<Self> {
        let response = conn.send(request).await.context("opening a watch")?;
        ensure!(response.status() == StatusCode::OK, "the watch answered {}", response.status());
        Ok(Self { body: response.into_body(), pending: Vec::new() })
    }

    /// The next event, as the line of JSON the server sent; `None` once the watch has ended.
    pub async fn next(&mut self) -> Result<Option<Bytes>> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).take(end).collect();
                return Ok(Some(Bytes::from(line)));
            }
            let Some(frame) = self.body.frame().await else { return Ok(None) };
            if let Ok(data) = frame?.into_data() {
                self.pending.extend_from_slice(&data);
            }
        }
    }
}
