//! Content negotiation: which representation a client accepts (JSON, YAML, a server-side
//! Table, partial metadata, aggregated discovery) and how its request body is encoded.

use serde_json::Value;

use crate::server::api_error::ApiError;

/// Largest request body accepted (as the upstream API server).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    /// `as=Table` in `meta.k8s.io` v1 or v1beta1.
    Table,
    /// `as=PartialObjectMetadata` / `PartialObjectMetadataList`.
    PartialMetadata,
    /// `as=APIGroupDiscoveryList` in `apidiscovery.k8s.io` v2 (or v2beta1).
    AggregatedDiscovery {
        beta: bool,
    },
}

struct MediaType<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> MediaType<'a> {
    fn parse(text: &'a str) -> Self {
        let mut parts = text.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default();
        let params =
            parts.filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim(), v.trim().trim_matches('"'))).collect();
        Self { essence, params }
    }

    fn param(&self, name: &str) -> Option<&'a str> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// The first representation in `accept` this server can produce, in the client's order.
pub fn output(accept: Option<&str>) -> Result<Output, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return Ok(Output::Json) };
    for entry in accept.split(',') {
        let media = MediaType::parse(entry);
        let json_like = matches!(media.essence, "application/json" | "application/*" | "*/*" | "application/json-seq");
        let yaml = media.essence == "application/yaml";
        if !json_like && !yaml {
            continue;
        }
        match (media.param("as"), media.param("g"), media.param("v")) {
            (None, _, _) if yaml => return Ok(Output::Yaml),
            (None, _, _) => return Ok(Output::Json),
            (Some("Table"), Some("meta.k8s.io"), Some("v1" | "v1beta1")) if json_like => return Ok(Output::Table),
            (
                Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                Some("meta.k8s.io"),
                Some("v1" | "v1beta1"),
            ) if json_like => return Ok(Output::PartialMetadata),
            (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some(v @ ("v2" | "v2beta1"))) if json_like => {
                return Ok(Output::AggregatedDiscovery { beta: v == "v2beta1" })
            }
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable(format!("only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io; got {accept:?}")))
}

/// Decodes a request body sent as JSON, YAML or Kubernetes protobuf.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let essence = content_type.map(|c| MediaType::parse(c).essence).unwrap_or("application/json");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match essence {
        "application/json" | "" | "*/*" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}"))),
        "application/yaml" | "application/x-yaml" | "text/yaml" => serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid YAML: {e}"))),
        super::protobuf::MEDIA_TYPE => super::protobuf::decode(body),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_headers() {
        let get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(output(Some(get)).unwrap(), Output::Table);
        let discovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(output(Some(discovery)).unwrap(), Output::AggregatedDiscovery { beta: false });
        assert_eq!(output(Some("application/vnd.kubernetes.protobuf, */*")).unwrap(), Output::Json);
        assert_eq!(output(None).unwrap(), Output::Json);
        assert_eq!(output(Some("application/yaml")).unwrap(), Output::Yaml);
        assert_eq!(output(Some("application/vnd.kubernetes.protobuf")).unwrap_err().code, 406);
    }

    #[test]
    fn bodies() {
        assert_eq!(decode_body(Some("application/yaml"), b"a: 1").unwrap()["a"], 1);
        assert_eq!(decode_body(None, b"{").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("application/vnd.kubernetes.protobuf"), b"x").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("application/cbor"), b"x").unwrap_err().code, 415);
        assert_eq!(decode_body(None, b"  ").unwrap_err().code, 400);
    }
}
