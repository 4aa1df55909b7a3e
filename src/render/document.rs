//! Machine-readable output: every document carries `apiVersion: kubectl-ds/v1alpha1` and a
//! `kind`, and its fields are documented in docs/documents.md, so scripts can depend on them.

use serde::Serialize;

use super::OutputFormat;

pub const API_VERSION: &str = "kubectl-ds/v1alpha1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a, T: Serialize> {
    api_version: &'static str,
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Serialises `body` as a versioned document of `kind` in JSON or YAML.
pub fn render<T: Serialize>(format: OutputFormat, kind: &str, body: &T) -> Result<String, String> {
    let doc = Document {
        api_version: API_VERSION,
        kind,
        body,
    };
    match format {
        OutputFormat::Yaml => crate::yaml::to_string(&doc),
        _ => serde_json::to_string_pretty(&doc)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| e.to_string()),
    }
}
