//! Keeping the shim small while it idles. Creating a container runs a lot of the onebin
//! binary's code (libcontainer, spec building, cgroups), and every page of it stays mapped in
//! the shim afterwards although the idle loop (poll, copy logs, reap) needs a few. Once
//! requests have stopped for a moment, the shim drops its mappings of clean file-backed pages:
//! they remain in the page cache, shared with the agent, and come back on a minor fault if
//! ever touched again. Only mappings without private copies (`Anonymous: 0 kB`) and without
//! write permission are dropped, so no relocated or written data can be lost.

use std::io::{BufRead, BufReader};

/// One mapping that may be dropped: start and length in bytes.
#[derive(Debug, PartialEq, Eq)]
struct Clean {
    start: usize,
    len: usize,
}

/// Drops the clean file-backed pages of the shim's read-only mappings. Errors are ignored:
/// this only saves memory.
pub fn release_clean_pages() {
    let Ok(file) = std::fs::File::open("/proc/self/smaps") else { return };
    for mapping in clean_mappings(BufReader::new(file)) {
        // SAFETY: the range is a whole read-only, file-backed mapping without private copies;
        // MADV_DONTNEED only unmaps its pages, which fault back in from the file unchanged.
        unsafe {
            libc::madvise(mapping.start as *mut libc::c_void, mapping.len, libc::MADV_DONTNEED);
        }
    }
}

/// Parses smaps: file-backed mappings without `w` permission whose `Anonymous` is zero.
fn clean_mappings(smaps: impl BufRead) -> Vec<Clean> {
    let mut found = Vec::new();
    let mut current: Option<Clean> = None;
    for line in smaps.lines().map_while(Result::ok) {
        if let Some(header) = mapping_header(&line) {
            current = header;
            continue;
        }
        if let (Some(rest), Some(_)) = (line.strip_prefix("Anonymous:"), &current) {
            let private_kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().unwrap_or(u64::MAX);
            if let (0, Some(clean)) = (private_kb, current.take()) {
                found.push(clean);
            }
            current = None;
        }
    }
    found
}

/// For a mapping header line, `Some(candidate)` (None when it must be kept); `None` for
/// the other smaps lines.
fn mapping_header(line: &str) -> Option<Option<Clean>> {
    let mut fields = line.split_whitespace();
    let range = fields.next()?;
    let (start, end) = range.split_once('-')?;
    let (start, end) = (usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?);
    let perms = fields.next()?;
    if perms.len() != 4 {
        return None;
    }
    let (_offset, _device, inode) = (fields.next()?, fields.next()?, fields.next()?);
    let path = fields.next().unwrap_or_default();
    let file_backed = inode != "0" && path.starts_with('/');
    let keep = !file_backed || perms.contains('w') || !perms.starts_with('r') || end <= start;
    Some((!keep).then_some(Clean { start, len: end - start }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0400000 r--p 00000000 fd:01 1234 /usr/local/bin/onebin
Size:               4096 kB
Anonymous:             0 kB
55d0a0400000-55d0a0900000 r-xp 00400000 fd:01 1234 /usr/local/bin/onebin
Size:               5120 kB
Anonymous:             0 kB
55d0a0900000-55d0a0980000 r--p 00900000 fd:01 1234 /usr/local/bin/onebin
Size:                512 kB
Anonymous:           560 kB
55d0a0980000-55d0a0990000 rw-p 00980000 fd:01 1234 /usr/local/bin/onebin
Size:                 64 kB
Anonymous:            64 kB
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 [heap]
Size:                132 kB
Anonymous:             8 kB
7ffd00000000-7ffd00021000 r--p 00000000 00:00 0 [vvar]
Size:                132 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_file_mappings_are_released() {
        let found = clean_mappings(SMAPS.as_bytes());
        assert_eq!(
            found,
            vec![Clean { start: 0x55d0a0000000, len: 0x400000 }, Clean { start: 0x55d0a0400000, len: 0x500000 },],
            "relocated data, writable data, the heap and kernel mappings stay"
        );
    }

    #[test]
    fn releasing_our_own_pages_lowers_the_resident_file_pages() {
        let rss_file = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("RssFile:")).unwrap().to_string();
            line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
        };
        let before = rss_file();
        release_clean_pages();
        let after = rss_file();
        eprintln!("RssFile {before} kB -> {after} kB");
        assert!(after < before, "RssFile {before} kB -> {after} kB");
    }
}
