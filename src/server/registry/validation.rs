//! Name and label syntax rules shared by every kind (Kubernetes' RFC 1123 names, qualified
//! names for label keys, label values).

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const QUALIFIED_NAME_MAX: usize = 63;
const LABEL_VALUE_MAX: usize = 63;

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// An RFC 1123 label: what namespaces, services and container names must be.
pub fn dns1123_label(name: &str) -> Result<(), String> {
    if name.len() > DNS1123_LABEL_MAX {
        return Err(format!("must be no more than {DNS1123_LABEL_MAX} characters"));
    }
    if name.is_empty()
        || !name.chars().all(|c| lower_alnum(c) || c == '-')
        || !name.starts_with(lower_alnum)
        || !name.ends_with(lower_alnum)
    {
        return Err("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')".into());
    }
    Ok(())
}

/// An RFC 1123 subdomain: what most object names must be.
pub fn dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!("must be no more than {DNS1123_SUBDOMAIN_MAX} characters"));
    }
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| lower_alnum(c) || c == '-')
                && part.starts_with(lower_alnum)
                && part.ends_with(lower_alnum)
        });
    if !ok {
        return Err("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')".into());
    }
    Ok(())
}

/// A name usable as one URL path segment (the rule for kinds without a stricter one).
pub fn path_segment_name(name: &str) -> Result<(), String> {
    if name == "." || name == ".." {
        return Err(format!("may not be '{name}'"));
    }
    if name.contains('/') || name.contains('%') {
        return Err("may not contain '/' or '%'".into());
    }
    if name.is_empty() {
        return Err("may not be empty".into());
    }
    Ok(())
}

fn name_part(part: &str, max: usize, what: &str) -> Result<(), String> {
    if part.len() > max {
        return Err(format!("{what} must be no more than {max} characters"));
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if part.is_empty()
        || !part.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        || !part.starts_with(alnum)
        || !part.ends_with(alnum)
    {
        return Err(format!(
            "{what} must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name' or '123-abc')"
        ));
    }
    Ok(())
}

/// A qualified name (`prefix/name` or `name`): label and annotation keys.
pub fn qualified_name(key: &str) -> Result<(), String> {
    match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() {
                return Err("prefix part must be non-empty".into());
            }
            dns1123_subdomain(prefix).map_err(|why| format!("prefix part {why}"))?;
            name_part(name, QUALIFIED_NAME_MAX, "name part")
        }
        None => name_part(key, QUALIFIED_NAME_MAX, "name part"),
    }
}

/// A label value: empty, or a short name part.
pub fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    name_part(value, LABEL_VALUE_MAX, "a valid label")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("my-app.example").is_ok());
        assert!(dns1123_subdomain("UPPER_case").is_err());
        assert!(dns1123_subdomain("-lead").is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("a b").is_err());
        assert!(path_segment_name("a:b").is_ok());
        assert!(path_segment_name("..").is_err());
    }
}
