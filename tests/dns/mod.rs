//! Helpers for the dns_* tests: asking a DNS server questions with the real `dig`.

#![allow(dead_code)]

use std::process::Command;

/// A reply as dig prints it: the status and flags line, and the records of each section.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: String,
    pub flags: Vec<String>,
    /// `(name, type, data)` of the answer section.
    pub answers: Vec<(String, String, String)>,
    pub authorities: Vec<(String, String, String)>,
    pub additionals: Vec<(String, String, String)>,
    pub text: String,
}

impl Reply {
    /// The answers' data of one record type, sorted.
    pub fn data(&self, record_type: &str) -> Vec<String> {
        let mut data: Vec<String> =
            self.answers.iter().filter(|(_, t, _)| t == record_type).map(|(_, _, d)| d.clone()).collect();
        data.sort();
        data
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// Asks `server` (an address, optionally with `port`) about `name` with `extra` dig options;
/// panics when dig gets no reply at all.
pub fn dig(server: &str, port: u16, name: &str, record_type: &str, extra: &[&str]) -> Reply {
    let output = Command::new("dig")
        .arg(format!("@{server}"))
        .args(["-p", &port.to_string(), "+time=3", "+tries=1", "+nocookie", "+nocmd", "+nostats"])
        .args(extra)
        .args([name, record_type])
        .output()
        .expect("running dig (Debian package dnsutils)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "dig {name} {record_type} @{server}#{port} failed:\n{text}");
    parse(&text)
}

fn parse(text: &str) -> Reply {
    let mut reply = Reply {
        status: String::new(),
        flags: Vec::new(),
        answers: Vec::new(),
        authorities: Vec::new(),
        additionals: Vec::new(),
        text: text.to_string(),
    };
    let mut section = "";
    for line in text.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            reply.status = rest.split(',').next().unwrap_or_default().to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags: ") {
            reply.flags = rest.split(';').next().unwrap_or_default().split_whitespace().map(String::from).collect();
        } else if line.starts_with(";; ANSWER SECTION") {
            section = "answer";
        } else if line.starts_with(";; AUTHORITY SECTION") {
            section = "authority";
        } else if line.starts_with(";; ADDITIONAL SECTION") {
            section = "additional";
        } else if line.trim().is_empty() || line.starts_with(';') {
            if line.trim().is_empty() {
                section = "";
            }
        } else {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() >= 5 {
                let record = (fields[0].to_string(), fields[3].to_string(), fields[4..].join(" "));
                match section {
                    "answer" => reply.answers.push(record),
                    "authority" => reply.authorities.push(record),
                    "additional" => reply.additionals.push(record),
                    _ => {}
                }
            }
        }
    }
    reply
}
