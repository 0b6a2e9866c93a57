//! Query strings, parsed like Go's `url.ParseQuery` (repeated keys kept in order, flags without a
//! value map to `""`, `+` and `%20` both mean a space).

use core::fmt;

use super::path::{DecodeError, escape_query_component, percent_decode};

/// Why a query string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// A key or value has a bad `%` escape or is not UTF-8.
    Decode(DecodeError),
    /// `;` as a separator, which Go rejects since 1.17 (it enabled cache-poisoning tricks).
    Semicolon,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Decode(e) => write!(f, "invalid query string: {e}"),
            QueryError::Semicolon => f.write_str("invalid semicolon separator in query"),
        }
    }
}

impl std::error::Error for QueryError {}

/// A parsed query string: `(key, value)` pairs in request order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the part of a request target after `?` (without the `?`).
    pub fn parse(raw: &str) -> Result<Query, QueryError> {
        let mut pairs = Vec::new();
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            if part.contains(';') {
                return Err(QueryError::Semicolon);
            }
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = percent_decode(key, true).map_err(QueryError::Decode)?;
            let value = percent_decode(value, true).map_err(QueryError::Decode)?;
            pairs.push((key, value));
        }
        Ok(Query { pairs })
    }

    /// The first value of `key` (`""` for a bare flag), if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.all(key).next()
    }

    /// Whether `key` appears at all (Consul's presence-based flags: `?recurse`, `?raw`, ...).
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// Every value of `key`, in request order.
    pub fn all<'a, 'k>(&'a self, key: &'k str) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs in request order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Re-encodes like Go's `url.Values.Encode`: keys sorted, values of one key in request order.
    pub fn encode(&self) -> String {
        let mut sorted: Vec<&(String, String)> = self.pairs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        for (key, value) in sorted {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&escape_query_component(key));
            out.push('=');
            out.push_str(&escape_query_component(value));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &Query) -> Vec<(&str, &str)> {
        q.pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn flags_without_values_are_present_with_empty_value() {
        let q = Query::parse("recurse&keys=&separator=/").unwrap();
        assert!(q.has("recurse"));
        assert_eq!(q.get("recurse"), Some(""));
        assert_eq!(q.get("keys"), Some(""));
        assert_eq!(q.get("separator"), Some("/"));
        assert!(!q.has("raw"));
        assert_eq!(q.get("raw"), None);
    }

    #[test]
    fn repeated_keys_keep_request_order() {
        let q = Query::parse("tag=b&x=1&tag=a").unwrap();
        assert_eq!(q.all("tag").collect::<Vec<_>>(), vec!["b", "a"]);
        assert_eq!(q.get("tag"), Some("b"));
    }

    #[test]
    fn plus_and_percent_20_both_decode_to_space() {
        let q = Query::parse("a+b=c%20d&e=f+g").unwrap();
        assert_eq!(pairs(&q), vec![("a b", "c d"), ("e", "f g")]);
    }

    #[test]
    fn empty_parts_are_skipped() {
        let q = Query::parse("&&a=1&&").unwrap();
        assert_eq!(pairs(&q), vec![("a", "1")]);
        assert_eq!(Query::parse("").unwrap(), Query::default());
    }

    #[test]
    fn only_the_first_equals_sign_splits() {
        let q = Query::parse("filter=a==b").unwrap();
        assert_eq!(q.get("filter"), Some("a==b"));
    }

    #[test]
    fn bad_escapes_and_semicolons_are_rejected() {
        assert_eq!(
            Query::parse("a=%zz"),
            Err(QueryError::Decode(DecodeError::BadEscape { at: 0 }))
        );
        assert_eq!(Query::parse("a=1;b=2"), Err(QueryError::Semicolon));
        assert_eq!(
            Query::parse("a=%C3"),
            Err(QueryError::Decode(DecodeError::NotUtf8))
        );
    }

    #[test]
    fn encode_sorts_keys_and_escapes_like_go() {
        let q = Query::parse("release=s&cas=0&acquire=a%20b").unwrap();
        assert_eq!(q.encode(), "acquire=a+b&cas=0&release=s");
        assert_eq!(Query::parse("recurse").unwrap().encode(), "recurse=");
    }
}
