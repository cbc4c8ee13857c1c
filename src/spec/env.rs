//! `${VAR}` and `${VAR:-default}` in source paths (LANGUAGE.md §2a): one spec
//! runs over another data folder (`KPI_DATA=/data/2025 kpi eval`), and
//! connection secrets stay out of git.

/// Where passwords are written in `text` (byte ranges): after the user of
/// a URI (`postgresql://kpi:secret@host`) and as a URI's `password=…`
/// parameter. A `${VAR}` in their place is no password.
pub fn password_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    const END: &[char] = &[
        ' ', '\t', '\n', '\r', '\'', '"', '}', ',', '&', '#', ';', '/', '?',
    ];
    let written = |r: &std::ops::Range<usize>| !r.is_empty() && !text[r.clone()].starts_with("${");
    let mut out = Vec::new();
    for (at, _) in text.match_indices("://") {
        let rest = &text[at + 3..];
        let Some(userinfo) = rest
            .find(|c| END.contains(&c) || c == '@')
            .filter(|&k| rest[k..].starts_with('@'))
        else {
            continue;
        };
        if let Some(colon) = rest[..userinfo].find(':') {
            out.push(at + 3 + colon + 1..at + 3 + userinfo);
        }
    }
    // ASCII lower case keeps every byte where it is.
    let lower = text.to_ascii_lowercase();
    for (at, key) in lower.match_indices("password=") {
        let start = at + key.len();
        let len = text[start..]
            .find(|c| END.contains(&c))
            .unwrap_or(text.len() - start);
        out.push(start..start + len);
    }
    out.retain(written);
    out
}

/// Whether a connection option holds a secret by its name (`password`,
/// `auth_token`, `client_secret`, `private_key`…).
pub fn is_secret_option(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "private_key"]
        .iter()
        .any(|s| key.contains(s))
}

/// `text` with every password [`password_spans`] finds blanked byte for
/// byte (`postgresql://kpi:******@host`): a source line quoted in a
/// message keeps its columns and shows no secret.
pub fn hide_passwords(text: &str) -> String {
    let spans = password_spans(text);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut bytes = text.as_bytes().to_vec();
    for r in spans {
        bytes[r].fill(b'*');
    }
    // Whole characters were blanked (the spans end at ASCII bytes), so
    // this is text; should it not be, the text is not shown at all.
    String::from_utf8(bytes).unwrap_or_default()
}

/// What stopped an expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// `${NAME}` with no default, and `NAME` is not set.
    Unset(String),
    /// `${` without its `}`, or a name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    Malformed,
}

/// Expands `${NAME}` and `${NAME:-default}` in `text`, reading names with
/// `var` (the environment, or a table in tests). A variable set to the
/// empty string takes the default, as in the shell.
pub fn expand(text: &str, var: impl Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let inner_start = at + 2;
        let close = rest[inner_start..].find('}').ok_or(ExpandError::Malformed)?;
        let inner = &rest[inner_start..inner_start + close];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if !is_name(name) {
            return Err(ExpandError::Malformed);
        }
        match (var(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => return Err(ExpandError::Unset(name.to_string())),
        }
        rest = &rest[inner_start + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands `text` from the process environment.
pub fn expand_env(text: &str) -> Result<String, ExpandError> {
    expand(text, |n| std::env::var(n).ok())
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{hide_passwords, password_spans};

    /// Passwords after a URI's user and in `password=`, blanked byte for
    /// byte; variables, users and hosts kept.
    #[test]
    fn passwords_written_in_uris_are_found_and_hidden() {
        let cases = [
            (
                "uri: 'postgresql://kpi:Sup3r@host:5432/db'",
                "uri: 'postgresql://kpi:*****@host:5432/db'",
            ),
            (
                "postgresql://kpi@host/db?password=An0ther&sslmode=require",
                "postgresql://kpi@host/db?password=*******&sslmode=require",
            ),
            (
                "{uri: \"snowflake://me:p%40ss@acct/db\"}",
                "{uri: \"snowflake://me:******@acct/db\"}",
            ),
            (
                "uri: postgresql://kpi:${PGPASSWORD}@host/db",
                "uri: postgresql://kpi:${PGPASSWORD}@host/db",
            ),
            (
                "source: s3://bucket/a@b.parquet",
                "source: s3://bucket/a@b.parquet",
            ),
            ("uri: postgresql://kpi@host/db", "uri: postgresql://kpi@host/db"),
            ("x://u:é€@h", "x://u:*****@h"),
        ];
        for (text, hidden) in cases {
            assert_eq!(hide_passwords(text), hidden, "{text}");
        }
        assert!(password_spans("sc://localhost:15002").is_empty());
    }
    use super::*;

    fn vars(n: &str) -> Option<String> {
        match n {
            "KPI_DATA" => Some("/data/2025".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_and_default_variables() {
        assert_eq!(
            expand("${KPI_DATA}/deals.csv", vars),
            Ok("/data/2025/deals.csv".into())
        );
        assert_eq!(expand("${NOPE:-../data}/d.csv", vars), Ok("../data/d.csv".into()));
        assert_eq!(
            expand("${KPI_DATA:-x}/d.csv", vars),
            Ok("/data/2025/d.csv".into())
        );
        assert_eq!(expand("${EMPTY:-fallback}", vars), Ok("fallback".into()));
        assert_eq!(expand("${NOPE:-}d.csv", vars), Ok("d.csv".into()));
        assert_eq!(expand("plain/$HOME/d.csv", vars), Ok("plain/$HOME/d.csv".into()));
        assert_eq!(
            expand("a${KPI_DATA}b${KPI_DATA}", vars),
            Ok("a/data/2025b/data/2025".into())
        );
    }

    #[test]
    fn refuses_unset_and_malformed() {
        assert_eq!(
            expand("${NOPE}/d.csv", vars),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert_eq!(expand("${KPI_DATA", vars), Err(ExpandError::Malformed));
        assert_eq!(expand("${1X}", vars), Err(ExpandError::Malformed));
        assert_eq!(expand("${}", vars), Err(ExpandError::Malformed));
    }
}
