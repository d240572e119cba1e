//! The spec's path templates matched against request paths: the methods a path serves (the
//! `Allow` header a 405 must carry) and the names of its parameters. poem-openapi reports a path
//! parameter it cannot parse by its position in the route (`param0`, `param1`, …); a client must
//! read the name the API gives it (`token`, `chat`, `number`), in `field` and in `detail`.

use poem::{
    http::{header, HeaderValue, StatusCode},
    Response,
};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A fixed segment, e.g. `chats`.
    Fixed(String),
    /// A parameter, by its name in the spec, e.g. `token`.
    Param(String),
}

/// Every path template of the spec with the methods it serves.
pub(super) struct Paths(Vec<(Vec<Segment>, String)>);

impl Paths {
    /// The templates of an OpenAPI document.
    pub(super) fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        Paths(
            paths
                .into_iter()
                .map(|(template, ops)| {
                    let segments = template.trim_matches('/').split('/').map(segment).collect();
                    let methods: Vec<String> = ops
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(m, _)| m.to_uppercase())
                        .collect();
                    (segments, methods.join(", "))
                })
                .collect(),
        )
    }

    /// The template `path` matches, with its methods.
    fn matching(&self, path: &str) -> Option<&(Vec<Segment>, String)> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.0.iter().find(|(template, _)| {
            template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| match t {
                    Segment::Fixed(fixed) => fixed == p,
                    Segment::Param(_) => true,
                })
        })
    }

    /// The `Allow` header for a 405 on `path` (RFC 9110 requires one).
    pub(super) fn allow(&self, path: &str) -> Option<HeaderValue> {
        self.matching(path)
            .and_then(|(_, methods)| HeaderValue::from_str(methods).ok())
    }

    /// The name of the `index`-th parameter of the template `path` matches.
    fn param_name(&self, path: &str, index: usize) -> Option<&str> {
        let (template, _) = self.matching(path)?;
        template
            .iter()
            .filter_map(|s| match s {
                Segment::Param(name) => Some(name.as_str()),
                Segment::Fixed(_) => None,
            })
            .nth(index)
    }

    /// A 400 problem that names a path parameter by position (`paramN`), rewritten to name it as
    /// the API does; any other response as it is.
    pub(super) async fn name_parameters(&self, path: &str, mut response: Response) -> Response {
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
        if response.status() != StatusCode::BAD_REQUEST || !is_problem {
            return response;
        }
        let Ok(bytes) = response.take_body().into_bytes().await else {
            return response;
        };
        let mut problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let positional = problem["field"]
            .as_str()
            .and_then(|f| f.strip_prefix("param")?.parse::<usize>().ok());
        if let Some(name) = positional.and_then(|index| self.param_name(path, index)) {
            let detail = problem["detail"].as_str().unwrap_or_default().replace(
                &format!("`{}`", problem["field"].as_str().unwrap_or_default()),
                &format!("`{name}`"),
            );
            problem["detail"] = detail.into();
            problem["field"] = name.into();
            response.set_body(problem.to_string());
        } else {
            response.set_body(bytes);
        }
        response
    }
}

fn segment(s: &str) -> Segment {
    match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) => Segment::Param(name.to_owned()),
        None => Segment::Fixed(s.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::Paths;

    #[test]
    fn a_path_finds_its_template_and_its_parameters_names() {
        let spec = r#"{"paths": {
            "/api/applications/{token}/chats/{chat}/messages/{number}": {"get": {}, "put": {}},
            "/api/applications/{token}/chats": {"post": {}}
        }}"#;
        let paths = Paths::from_spec(spec);
        let path = "/api/applications/x/chats/2/messages/3";
        assert_eq!(paths.allow(path).unwrap(), "GET, PUT");
        assert_eq!(paths.param_name(path, 0), Some("token"));
        assert_eq!(paths.param_name(path, 2), Some("number"));
        assert_eq!(paths.param_name(path, 3), None);
        assert_eq!(paths.param_name("/api/other", 0), None);
    }
}
