//! The routes of an HTTP function, as a type: each function declares its routes once with
//! [`http_routes!`](crate::http_routes) (an enum whose variants carry the route keys), parses
//! API Gateway's `routeKey` into it once and matches it exhaustively.
//!
//! Invariants:
//! - A route key (`"<METHOD> <path template>"`) is written once, in its function's enum; the
//!   template declares the same keys for the same function, which each function's tests check
//!   with `template::http_routes` (feature `template`), both ways: a route the template sends
//!   that the code does not serve, and one the code serves that the template never sends, fail.
//! - A key the enum does not know is [`http::unknown_route`](crate::edge::http::unknown_route): the
//!   template and the code disagree, an internal error, never a client's 4xx.

use oms_domain::AppError;

/// The routes one function serves, one enum variant per route (declared by
/// [`http_routes!`](crate::http_routes)).
pub trait Routes: Sized + Copy + 'static {
    /// Every route, in declaration order.
    const ALL: &'static [Self];

    /// `"<METHOD> <path template>"`, as API Gateway's `routeKey` and the template's `HttpApi`
    /// event say it (e.g. `POST /v1/orders/{id}/cancel`).
    fn key(self) -> &'static str;

    /// The route of a `routeKey`.
    fn parse(route_key: &str) -> Result<Self, AppError> {
        Self::ALL
            .iter()
            .copied()
            .find(|route| route.key() == route_key)
            .ok_or_else(|| crate::edge::http::unknown_route(route_key))
    }
}

/// Declares a function's route enum and its [`Routes`] implementation:
///
/// ```
/// oms_aws::http_routes! {
///     /// The routes of a function.
///     pub enum Route {
///         /// One order.
///         GetOrder => "GET /v1/orders/{id}",
///     }
/// }
/// use oms_aws::edge::routes::Routes;
/// assert_eq!(Route::parse("GET /v1/orders/{id}").unwrap(), Route::GetOrder);
/// assert_eq!(Route::ALL.iter().map(|r| r.key()).collect::<Vec<_>>(), ["GET /v1/orders/{id}"]);
/// ```
#[macro_export]
macro_rules! http_routes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $key:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $crate::edge::routes::Routes for $name {
            const ALL: &'static [Self] = &[$( Self::$variant ),+];

            fn key(self) -> &'static str {
                match self {
                    $( Self::$variant => $key ),+
                }
            }
        }
    };
}

/// The `HttpApi` routes the SAM template declares per function, read from its text (the
/// template's conventions: a function's resource names its binary in `BuildProperties`, its
/// events sit under `Events:`, and an `HttpApi` event's `Method` and `Path` are plain scalars,
/// in a flow mapping or a block). For tests: the library builds it with the `template` feature.
#[cfg(any(test, feature = "template"))]
pub mod template {
    use std::collections::BTreeSet;

    use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
    use aws_lambda_events::encodings::Body;
    use chrono::{DateTime, Utc};
    use oms_domain::AppError;

    use crate::edge::http::{ApiRequest, ApiResponse};

    /// The project's SAM template, whose routes the functions' tests hold their enums to.
    pub const TEMPLATE: &str = include_str!("../../../../infra/template.yaml");

    fn indent(line: &str) -> usize {
        line.len() - line.trim_start().len()
    }

    fn meaningful(line: &str) -> bool {
        let trimmed = line.trim_start();
        !trimmed.is_empty() && !trimmed.starts_with('#')
    }

    /// The lines of the block that starts at `lines[start]`: the following lines indented
    /// deeper than it.
    fn block<'a>(lines: &[&'a str], start: usize) -> Vec<&'a str> {
        let own = indent(lines[start]);
        lines[start + 1..].iter().copied().filter(|l| meaningful(l)).take_while(|l| indent(l) > own).collect()
    }

    /// The scalar after `name:` in `text`: a quoted one up to its closing quote, a plain one up
    /// to a `,` or the line's end (and, in a flow mapping, before its closing `}`: a plain
    /// scalar there holds no braces).
    fn scalar<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        let at = text.find(&format!("{name}:"))? + name.len() + 1;
        let rest = text[at..].trim_start();
        if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let inner = &rest[1..];
            return Some(&inner[..inner.find(quote)?]);
        }
        let plain = &rest[..rest.find([',', '\n']).unwrap_or(rest.len())];
        let plain = if plain.contains('{') { plain } else { plain.split('}').next().unwrap_or(plain) };
        Some(plain.trim())
    }

    /// The route keys (`"<METHOD> <path>"`) of the `HttpApi` events of the function built from
    /// `binary`; `None` when no resource of the template builds it.
    pub fn http_routes(template: &str, binary: &str) -> Option<BTreeSet<String>> {
        let lines: Vec<&str> = template.lines().collect();
        let builds = format!("Binary: {binary}");
        let resource = (0..lines.len()).find(|&i| {
            indent(lines[i]) == 2
                && lines[i].trim_end().ends_with(':')
                && block(&lines, i).iter().any(|l| l.trim() == builds)
        })?;
        let body = block(&lines, resource);
        let mut routes = BTreeSet::new();
        let Some(events) = body.iter().position(|l| l.trim() == "Events:") else { return Some(routes) };
        let event_indent = indent(body[events]) + 2;
        for (i, line) in body.iter().enumerate().skip(events + 1) {
            if indent(line) < event_indent {
                break;
            }
            if indent(line) > event_indent {
                continue;
            }
            let event = block(&body, i).join("\n");
            if !event.lines().any(|l| l.trim() == "Type: HttpApi") {
                continue;
            }
            let (Some(method), Some(path)) = (scalar(&event, "Method"), scalar(&event, "Path")) else {
                panic!("an HttpApi event of {binary} without Method or Path: {event}");
            };
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
        Some(routes)
    }

    /// A sample request (`events/http`) with its path parameter `name` set to `value`, as `role`
    /// (or the sample's own), with `body` (then without the sample's `Idempotency-Key`: another
    /// body is another request). For the functions' handler tests.
    pub fn sample_request(
        sample: &str,
        name: &str,
        value: &str,
        role: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> ApiGatewayV2httpRequest {
        let mut event: serde_json::Value = serde_json::from_str(sample).expect("a sample is JSON");
        event["pathParameters"][name] = value.into();
        if let Some(role) = role {
            event["requestContext"]["authorizer"]["jwt"]["claims"]["role"] = role.into();
        }
        if let Some(body) = body {
            event["body"] = body.to_string().into();
            if let Some(headers) = event["headers"].as_object_mut() {
                headers.remove("idempotency-key");
            }
        }
        serde_json::from_value(event).expect("a sample is an API Gateway request")
    }

    /// What `route` answers `event` with now, served as the function serves it
    /// ([`respond`](crate::edge::http::respond)): the status, the JSON body, and the whole
    /// response (for its headers). For the functions' handler tests.
    pub async fn answer<'s, S, R, Fut>(
        route: R,
        store: &'s S,
        event: ApiGatewayV2httpRequest,
    ) -> (i64, serde_json::Value, ApiGatewayV2httpResponse)
    where
        S: ?Sized,
        R: FnOnce(&'s S, ApiRequest, DateTime<Utc>) -> Fut,
        Fut: Future<Output = Result<ApiResponse, AppError>>,
    {
        let response = crate::edge::http::respond(event, |request| route(store, request, Utc::now())).await;
        let Some(Body::Text(text)) = &response.body else { panic!("a text body: {response:?}") };
        (response.status_code, serde_json::from_str(text).expect("a JSON body"), response)
    }

    /// [`assert_routes_agree`] with the project's [`TEMPLATE`]: what each function's route test
    /// checks.
    pub fn assert_template_routes<R: super::Routes>(binary: &str, samples: &[&str]) {
        assert_routes_agree::<R>(TEMPLATE, binary, samples);
    }

    /// Panics unless the template's `HttpApi` routes for `binary`, the routes of `R` and the
    /// route keys of `samples` (API Gateway events, as in `events/http`) are one set: every
    /// route the template sends is served and every served route is sent, and every route has a
    /// sample and every sample is of a route.
    pub fn assert_routes_agree<R: super::Routes>(template: &str, binary: &str, samples: &[&str]) {
        let declared = http_routes(template, binary).unwrap_or_else(|| panic!("no resource builds {binary}"));
        let served: BTreeSet<String> = R::ALL.iter().map(|r| r.key().to_owned()).collect();
        let sampled: BTreeSet<String> = samples
            .iter()
            .map(|sample| {
                let event: serde_json::Value = serde_json::from_str(sample).expect("a sample is JSON");
                event["routeKey"].as_str().expect("a sample has a routeKey").to_owned()
            })
            .collect();
        let missing = |from: &BTreeSet<String>, of: &BTreeSet<String>| of.difference(from).cloned().collect::<Vec<_>>();
        assert!(
            declared == served,
            "{binary}: the template routes {:?} to it, which it does not serve; it serves {:?}, which the template \
             does not route to it",
            missing(&served, &declared),
            missing(&declared, &served),
        );
        assert!(
            sampled == served,
            "{binary}: no sample for {:?}; samples of routes it does not serve: {:?}",
            missing(&sampled, &served),
            missing(&served, &sampled),
        );
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn flow_and_block_events_are_read_and_other_events_skipped() {
            let template = r#"
Resources:
  AFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: a-api
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties: { ApiId: !Ref HttpApi, Method: get, Path: "/v1/a/{id}" }
        # a comment between events
        Hook:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: POST
            Path: /v1/hooks
            RouteSettings:
              ThrottlingRateLimit: !Ref Limit
        Rule:
          Type: EventBridgeRule
          Properties:
            Pattern: { source: [wms] }
  BFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: b-api
    Properties:
      Events:
        Put:
          Type: HttpApi
          Properties: { ApiId: !Ref HttpApi, Method: PUT, Path: "/v1/b" }
"#;
            let a: Vec<String> = http_routes(template, "a-api").unwrap().into_iter().collect();
            assert_eq!(a, ["GET /v1/a/{id}", "POST /v1/hooks"]);
            assert_eq!(http_routes(template, "b-api").unwrap().into_iter().collect::<Vec<_>>(), ["PUT /v1/b"]);
            assert_eq!(http_routes(template, "c-api"), None);
        }

        crate::http_routes! {
            /// The routes of `a-api` in [`SMALL`].
            enum ARoute {
                /// One.
                Get => "GET /v1/a/{id}",
                /// The hook.
                Hook => "POST /v1/hooks",
            }
        }

        const SMALL: &str = r#"
Resources:
  AFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: a-api
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties: { ApiId: !Ref HttpApi, Method: GET, Path: "/v1/a/{id}" }
        Hook:
          Type: HttpApi
          Properties: { ApiId: !Ref HttpApi, Method: POST, Path: /v1/hooks }
"#;
        const GET_SAMPLE: &str = r#"{"routeKey": "GET /v1/a/{id}"}"#;
        const HOOK_SAMPLE: &str = r#"{"routeKey": "POST /v1/hooks"}"#;

        #[test]
        fn routes_that_agree_pass_and_a_key_parses_to_its_route() {
            assert_routes_agree::<ARoute>(SMALL, "a-api", &[GET_SAMPLE, HOOK_SAMPLE]);
            use crate::edge::routes::Routes;
            assert_eq!(ARoute::parse("POST /v1/hooks").unwrap(), ARoute::Hook);
            assert!(matches!(ARoute::parse("POST /v1/other"), Err(oms_domain::AppError::Unexpected(_))));
        }

        #[test]
        #[should_panic(expected = "which the template does not route to it")]
        fn a_route_the_template_does_not_send_fails() {
            assert_routes_agree::<ARoute>(
                &SMALL.replace("POST, Path: /v1/hooks", "PUT, Path: /v1/hooks"),
                "a-api",
                &[GET_SAMPLE, HOOK_SAMPLE],
            );
        }

        #[test]
        #[should_panic(expected = "no sample for [\"POST /v1/hooks\"]")]
        fn a_route_without_a_sample_fails() {
            assert_routes_agree::<ARoute>(SMALL, "a-api", &[GET_SAMPLE]);
        }

        #[test]
        fn every_http_api_event_of_the_real_template_is_found() {
            // Every function that builds a binary, and the routes found across them: as many as
            // the template has HttpApi events, so the reader misses none.
            let binaries: Vec<&str> =
                TEMPLATE.lines().filter_map(|l| l.trim().strip_prefix("Binary: ")).map(str::trim).collect();
            let found: usize = binaries.iter().map(|b| http_routes(TEMPLATE, b).unwrap().len()).sum();
            let declared = TEMPLATE.lines().filter(|l| l.trim() == "Type: HttpApi").count();
            assert!(declared > 20, "{declared}");
            assert_eq!(found, declared);
        }
    }
}
