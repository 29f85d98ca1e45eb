//! The config file: every flag of a subcommand can be set as a key in a YAML file.
//!
//! Precedence is flag > environment (`ONEBIN_*`) > file > default. The file is turned into
//! flags inserted right after the subcommand, so clap's usual last-one-wins handling lets the
//! command line override it; keys whose environment variable is set are skipped so that the
//! environment beats the file too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub const DEFAULT_CONFIG_FILE: &str = "/etc/onebin/config.yaml";
pub const DEFAULT_KUBECONFIG: &str = "/etc/onebin/onebin.yaml";

/// Returns `args` with the config file's keys spliced in as flags after the `server` or
/// `agent` subcommand.
pub fn args_with_config_file(args: Vec<OsString>) -> Result<Vec<OsString>> {
    let Some(subcommand_at) = args.iter().skip(1).position(|a| !a.to_string_lossy().starts_with('-')) else {
        return Ok(args);
    };
    let subcommand_at = subcommand_at + 1;
    // Only the long-running roles read the file; node-local commands (`images`, `ps`, …)
    // have other flags and must not trip over server settings.
    if !matches!(args[subcommand_at].to_str(), Some("server" | "agent")) {
        return Ok(args);
    }
    let (path, explicit) = config_path(&args);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(args),
        Err(err) => return Err(err).with_context(|| format!("reading config file {}", path.display())),
    };
    let flags = file_flags(&text, &args).with_context(|| format!("in config file {}", path.display()))?;
    let mut out = args[..=subcommand_at].to_vec();
    out.extend(flags.into_iter().map(OsString::from));
    out.extend_from_slice(&args[subcommand_at + 1..]);
    Ok(out)
}

/// The config file named by `--config`/`-c`, `ONEBIN_CONFIG_FILE` or the default; the flag says
/// whether the user named it (then it must exist).
fn config_path(args: &[OsString]) -> (PathBuf, bool) {
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        // Past `--` come a container's arguments (`onebin exec ID -- sh -c …`), not ours.
        if arg == "--" {
            break;
        }
        if let Some(value) = arg.strip_prefix("--config=") {
            return (PathBuf::from(value), true);
        }
        if arg == "--config" || arg == "-c" {
            if let Some(value) = iter.next() {
                return (PathBuf::from(value), true);
            }
        }
    }
    match std::env::var_os("ONEBIN_CONFIG_FILE") {
        Some(path) => (PathBuf::from(path), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    }
}

fn file_flags(text: &str, args: &[OsString]) -> Result<Vec<String>> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).context("not valid YAML")?;
    let map = match doc {
        serde_yaml::Value::Null => return Ok(Vec::new()),
        serde_yaml::Value::Mapping(map) => map,
        _ => bail!("the top level must be a mapping of flag names to values"),
    };
    let mut flags = Vec::new();
    for (key, value) in map {
        let Some(key) = key.as_str() else { bail!("keys must be flag names (strings)") };
        let key = key.trim_start_matches('-');
        if key == "config" || overridden(key, args) {
            continue;
        }
        match value {
            serde_yaml::Value::Bool(true) => flags.push(format!("--{key}")),
            serde_yaml::Value::Bool(false) | serde_yaml::Value::Null => {}
            serde_yaml::Value::Sequence(items) => {
                for item in items {
                    flags.push(format!("--{key}={}", scalar(key, &item)?));
                }
            }
            other => flags.push(format!("--{key}={}", scalar(key, &other)?)),
        }
    }
    Ok(flags)
}

/// A key yields to the command line (`--key`) and to its environment variable.
fn overridden(key: &str, args: &[OsString]) -> bool {
    let env = format!("ONEBIN_{}", key.to_uppercase().replace('-', "_"));
    let flag = format!("--{key}");
    std::env::var_os(env).is_some()
        || args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == flag || a.starts_with(&format!("{flag}="))
        })
}

fn scalar(key: &str, value: &serde_yaml::Value) -> Result<String> {
    Ok(match value {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        _ => bail!("value of `{key}` must be a string, number, boolean or a list of them"),
    })
}

/// Creates `path`'s parent directories.
pub fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn file_values_become_flags_after_the_subcommand() {
        let flags =
            file_flags("node-name: a\ntls-san: [x, y]\ndisable-agent: true\nport: 7\n", &os(&["onebin", "server"]))
                .unwrap();
        assert_eq!(flags, ["--node-name=a", "--tls-san=x", "--tls-san=y", "--disable-agent", "--port=7"]);
    }

    #[test]
    fn command_line_flags_win_over_the_file() {
        let flags = file_flags("node-name: a\n", &os(&["onebin", "server", "--node-name=b"])).unwrap();
        assert!(flags.is_empty());
    }

    #[test]
    fn only_server_and_agent_read_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, "node-name: a\n").unwrap();
        let config = format!("--config={}", file.display());
        let server = args_with_config_file(os(&["onebin", "server", &config])).unwrap();
        assert!(server.contains(&OsString::from("--node-name=a")));
        let images = args_with_config_file(os(&["onebin", "images", "ls", &config])).unwrap();
        assert!(!images.contains(&OsString::from("--node-name=a")));
    }

    #[test]
    fn a_non_mapping_file_is_rejected() {
        assert!(file_flags("- a\n- b\n", &os(&["onebin", "server"])).is_err());
    }
}
