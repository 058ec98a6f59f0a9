//! Who may call: API keys for the practice's servers (`Authorization: Bearer <key>`, compared
//! in constant time), short-lived HS256 JWTs signed by the practice app for browsers, and the
//! browser origins allowed to call across origins (CORS).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::digest;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::AccessConfig;
use crate::domain::Caller;
use crate::error::{Error, ErrorCode};

const HINT_CREDENTIALS: &str = "Send Authorization: Bearer <key> with a key from NOTIFY_API_KEYS, or a short-lived JWT signed with NOTIFY_JWT_SECRET.";
const HINT_NO_CREDENTIALS_CONFIGURED: &str = "This deployment has live channels but no NOTIFY_API_KEYS or NOTIFY_JWT_SECRET: set one (or NOTIFY_ALLOW_UNAUTHENTICATED=1 on purpose) and redeploy.";
const HINT_ORIGIN: &str =
    "Add the calling site's origin (such as https://app.example.com) to NOTIFY_ALLOWED_ORIGINS.";
/// Clock skew tolerated between the practice app and this function.
const JWT_LEEWAY_SECONDS: u64 = 30;

pub struct Access {
    key_digests: Vec<digest::Digest>,
    jwt: Option<(DecodingKey, Validation)>,
    jwt_max_ttl: Duration,
    allowed_origins: Vec<String>,
    pub allow_unauthenticated: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("api_keys", &self.key_digests.len())
            .field("jwt", &self.jwt.is_some())
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    sub: Option<String>,
}

impl Access {
    pub fn new(config: &AccessConfig) -> Self {
        let jwt = config.jwt_secret.as_ref().map(|secret| {
            // Only HS256: a token naming any other algorithm, `none` included, is refused.
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_required_spec_claims(&["exp"]);
            validation.leeway = JWT_LEEWAY_SECONDS;
            (
                DecodingKey::from_secret(secret.expose().as_bytes()),
                validation,
            )
        });
        Self {
            key_digests: config
                .api_keys
                .iter()
                .map(|key| digest::digest(&digest::SHA256, key.expose().as_bytes()))
                .collect(),
            jwt,
            jwt_max_ttl: config.jwt_max_ttl,
            allowed_origins: config.allowed_origins.clone(),
            allow_unauthenticated: config.allow_unauthenticated,
        }
    }

    pub fn has_api_keys(&self) -> bool {
        !self.key_digests.is_empty()
    }

    pub fn has_jwt(&self) -> bool {
        self.jwt.is_some()
    }

    /// Checks the request's credentials: the caller they name, or `None` without any where
    /// none are `required`. Wrong credentials are refused even where none are required, since
    /// they are always a mistake worth knowing about.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        required: bool,
    ) -> Result<Option<Caller>, Error> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            if !required {
                return Ok(None);
            }
            let hint = if self.has_api_keys() || self.has_jwt() {
                HINT_CREDENTIALS
            } else {
                HINT_NO_CREDENTIALS_CONFIGURED
            };
            return Err(unauthorized(
                ErrorCode::AuthenticationRequired,
                "Sending on a live channel needs credentials, and this request has none.",
            )
            .with_hint(hint));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthorized(
                    ErrorCode::InvalidAuthorization,
                    "The Authorization header must be: Bearer <key or token>.",
                )
                .with_hint(HINT_CREDENTIALS)
            })?;
        if let Some(caller) = self.api_key(token) {
            return Ok(Some(caller));
        }
        match &self.jwt {
            Some(jwt) if token.matches('.').count() == 2 => self.verify_jwt(token, jwt).map(Some),
            _ => Err(
                unauthorized(ErrorCode::InvalidApiKey, "The API key is not valid.")
                    .with_hint(HINT_CREDENTIALS),
            ),
        }
    }

    /// Compares against every configured key (digests, so lengths leak nothing) without
    /// stopping at the first match, so timing tells nothing about which key was close.
    fn api_key(&self, token: &str) -> Option<Caller> {
        let presented = digest::digest(&digest::SHA256, token.as_bytes());
        let mut matched: Option<&digest::Digest> = None;
        for key in &self.key_digests {
            if bool::from(key.as_ref().ct_eq(presented.as_ref())) {
                matched = Some(key);
            }
        }
        matched.map(|key| Caller::ApiKey(format!("key:{}", hex::encode(&key.as_ref()[..4]))))
    }

    fn verify_jwt(
        &self,
        token: &str,
        (key, validation): &(DecodingKey, Validation),
    ) -> Result<Caller, Error> {
        let claims = jsonwebtoken::decode::<Claims>(token, key, validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as Jwt;
                let reason = match e.kind() {
                    Jwt::ExpiredSignature => "it has expired",
                    Jwt::InvalidSignature => "its signature does not match NOTIFY_JWT_SECRET",
                    Jwt::InvalidAlgorithm | Jwt::InvalidAlgorithmName => {
                        "it is not signed with HS256"
                    }
                    Jwt::MissingRequiredClaim(_) => "it has no exp claim",
                    _ => "it is malformed",
                };
                unauthorized(
                    ErrorCode::InvalidToken,
                    format!("The token is not valid: {reason}."),
                )
                .with_hint(HINT_CREDENTIALS)
            })?
            .claims;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if claims.exp > now + self.jwt_max_ttl.as_secs() + JWT_LEEWAY_SECONDS {
            return Err(unauthorized(
                ErrorCode::InvalidToken,
                format!(
                    "The token lives too long: its exp must be within {} seconds.",
                    self.jwt_max_ttl.as_secs()
                ),
            )
            .with_hint(
                "Sign browser tokens for a few minutes only (NOTIFY_JWT_MAX_TTL_SECONDS).",
            ));
        }
        Ok(Caller::Jwt(claims.sub.unwrap_or_else(|| "jwt".into())))
    }

    /// Decides on a request's `Origin`: none or same-origin (the browser is on this
    /// deployment) is fine; a listed origin gets CORS headers; any other is refused.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<CrossOrigin, Error> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(CrossOrigin::No);
        };
        let origin = origin.to_str().unwrap_or("");
        let host = headers
            .get("x-forwarded-host")
            .or_else(|| headers.get(header::HOST))
            .and_then(|h| h.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        if origin_host.is_some() && origin_host == host {
            return Ok(CrossOrigin::No);
        }
        if self.allowed_origins.iter().any(|allowed| allowed == origin) {
            return HeaderValue::from_str(origin)
                .map(CrossOrigin::Allowed)
                .map_err(|_| refused_origin(origin));
        }
        Err(refused_origin(origin))
    }
}

/// The CORS decision on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrossOrigin {
    /// Not a cross-origin request: no CORS headers needed.
    No,
    /// A cross-origin request from an allowed origin.
    Allowed(HeaderValue),
}

fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(code, message)
}

fn refused_origin(origin: &str) -> Error {
    let shown: String = origin.chars().take(100).collect();
    Error::new(
        ErrorCode::OriginNotAllowed,
        format!("Requests from {shown:?} are not allowed."),
    )
    .with_hint(HINT_ORIGIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &str = "jwt-secret-jwt-secret-jwt-secret-0";

    fn access() -> Access {
        Access::new(&AccessConfig {
            api_keys: vec![
                Secret::new("current-key-0123456789"),
                Secret::new("previous-key-0123456789"),
            ],
            jwt_secret: Some(Secret::new(SECRET)),
            jwt_max_ttl: Duration::from_secs(900),
            allowed_origins: vec!["https://app.example.com".into()],
            allow_unauthenticated: false,
        })
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    fn bearer(token: &str) -> HeaderMap {
        headers(&[("authorization", &format!("Bearer {token}"))])
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn token(algorithm: Algorithm, secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(algorithm),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn code(result: Result<Option<Caller>, Error>) -> &'static str {
        result.unwrap_err().code.as_str()
    }

    #[test]
    fn both_keys_of_a_rotation_are_accepted_and_named_without_the_key() {
        let current = access()
            .authenticate(&bearer("current-key-0123456789"), true)
            .unwrap();
        let previous = access()
            .authenticate(&bearer("previous-key-0123456789"), true)
            .unwrap();
        assert_ne!(current, previous);
        let Some(Caller::ApiKey(id)) = current else {
            panic!("not a key")
        };
        assert!(id.starts_with("key:") && !id.contains("current"));
    }

    #[test]
    fn missing_and_wrong_keys_are_refused() {
        let error = access().authenticate(&HeaderMap::new(), true).unwrap_err();
        assert_eq!(
            (error.status(), error.code.as_str()),
            (401, "authentication_required")
        );
        assert_eq!(
            code(access().authenticate(&bearer("current-key-012345678"), true)),
            "invalid_api_key"
        );
        assert_eq!(
            code(access().authenticate(&headers(&[("authorization", "Basic abc")]), true)),
            "invalid_authorization"
        );
    }

    #[test]
    fn no_credentials_are_fine_where_none_are_required_but_wrong_ones_never_are() {
        assert_eq!(
            access().authenticate(&HeaderMap::new(), false).unwrap(),
            None
        );
        assert_eq!(
            code(access().authenticate(&bearer("nope"), false)),
            "invalid_api_key"
        );
    }

    #[test]
    fn a_fresh_hs256_token_is_accepted_with_its_subject() {
        let jwt = token(
            Algorithm::HS256,
            SECRET,
            json!({"exp": now() + 300, "sub": "user-7"}),
        );
        assert_eq!(
            access().authenticate(&bearer(&jwt), true).unwrap(),
            Some(Caller::Jwt("user-7".into()))
        );
    }

    #[test]
    fn expired_tampered_wrong_algorithm_and_long_lived_tokens_are_refused() {
        let expired = token(Algorithm::HS256, SECRET, json!({"exp": now() - 120}));
        let forged = token(
            Algorithm::HS256,
            "another-secret-another-secret-0000",
            json!({"exp": now() + 300}),
        );
        let wrong_algorithm = token(Algorithm::HS512, SECRET, json!({"exp": now() + 300}));
        let no_exp = token(Algorithm::HS256, SECRET, json!({"sub": "x"}));
        let long_lived = token(Algorithm::HS256, SECRET, json!({"exp": now() + 86_400}));
        let valid = token(
            Algorithm::HS256,
            SECRET,
            json!({"exp": now() + 300, "sub": "a"}),
        );
        let (head, rest) = valid.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let tampered_payload = format!(
            "{head}.{}.{signature}",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                br#"{"exp":9999999999,"sub":"admin"}"#
            )
        );
        let unsigned = format!(
            "{}.{}.",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                br#"{"alg":"none","typ":"JWT"}"#
            ),
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                format!(r#"{{"exp":{}}}"#, now() + 300)
            )
        );
        for (name, jwt) in [
            ("expired", expired),
            ("forged", forged),
            ("wrong algorithm", wrong_algorithm),
            ("no exp", no_exp),
            ("long lived", long_lived),
            ("tampered", tampered_payload),
            ("alg none", unsigned),
        ] {
            let error = access().authenticate(&bearer(&jwt), true).unwrap_err();
            assert_eq!(
                (error.status(), error.code.as_str()),
                (401, "invalid_token"),
                "{name}"
            );
        }
    }

    #[test]
    fn same_origin_and_listed_origins_pass_and_others_are_refused() {
        let access = access();
        assert_eq!(
            access.check_origin(&HeaderMap::new()).unwrap(),
            CrossOrigin::No
        );
        let same = headers(&[
            ("origin", "https://notify.example.com"),
            ("host", "notify.example.com"),
        ]);
        assert_eq!(access.check_origin(&same).unwrap(), CrossOrigin::No);
        let listed = headers(&[
            ("origin", "https://app.example.com"),
            ("host", "notify.example.com"),
        ]);
        assert!(matches!(
            access.check_origin(&listed).unwrap(),
            CrossOrigin::Allowed(_)
        ));
        let other = headers(&[
            ("origin", "https://evil.example.com"),
            ("host", "notify.example.com"),
        ]);
        let error = access.check_origin(&other).unwrap_err();
        assert_eq!(
            (error.status(), error.code.as_str()),
            (403, "origin_not_allowed")
        );
    }
}
