//! Every YAML read and write of the crate goes through here, so the YAML library can be swapped
//! in one place.

use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml::to_string(value).map_err(|e| e.to_string())
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// A document of a multi-document stream, with the line it starts on (1-based).
#[derive(Debug)]
pub struct Document {
    pub line: usize,
    pub value: serde_json::Value,
}

/// Why a stream could not be read, and where.
#[derive(Debug)]
pub struct StreamError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// Splits a YAML (or JSON, which is YAML) stream into documents. Empty documents are skipped;
/// duplicate keys, tabs in indentation and similar are errors with a line number.
pub fn documents(text: &str) -> Result<Vec<Document>, StreamError> {
    let starts = document_starts(text);
    let mut out = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let start = starts.get(i).copied().unwrap_or(1);
        // Through the YAML library's own value first: it rejects duplicate keys.
        let yaml = serde_yaml::Value::deserialize(de).map_err(|e| StreamError {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        let value = serde_json::to_value(&yaml).map_err(|e| StreamError {
            line: Some(start),
            message: format!("not representable as JSON: {e}"),
        })?;
        if !value.is_null() {
            out.push(Document { line: start, value });
        }
    }
    Ok(out)
}

/// Lines on which documents start: line 1, and the line after each `---` separator.
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if (line == "---" || line.starts_with("--- ")) && i > 0 {
            starts.push(i + 2);
        }
    }
    if text
        .lines()
        .next()
        .is_some_and(|l| l == "---" || l.starts_with("--- "))
    {
        starts[0] = 2;
        starts.remove(1.min(starts.len() - 1));
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_with_lines() {
        let docs = documents("a: 1\n---\nb: 2\n---\n---\nc: 3\n").unwrap();
        let lines: Vec<usize> = docs.iter().map(|d| d.line).collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(lines[0], 1);
        assert_eq!(lines[1], 3);
    }

    #[test]
    fn errors_carry_a_line() {
        let e = documents("a: 1\nb: [\n").unwrap_err();
        assert!(e.line.is_some(), "{}", e.message);
        let dup = documents("a: 1\na: 2\n").unwrap_err();
        assert!(dup.message.contains("duplicate"), "{}", dup.message);
    }

    #[test]
    fn json_is_yaml() {
        let docs = documents("{\"kind\": \"DaemonSet\"}").unwrap();
        assert_eq!(docs[0].value["kind"], "DaemonSet");
    }
}
