//! Who may call and what they may do: API keys for the practice's servers (`Authorization:
//! Bearer <key>`, compared in constant time, each with its permissions), short-lived HS256 JWTs
//! signed by the practice app for browsers (permissions in their `scope`), and the browser
//! origins allowed to call across origins (CORS).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::digest;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::AccessConfig;
use crate::domain::{Caller, Permissions};
use crate::error::{Error, ErrorCode};
use crate::names::Permission;

const HINT_CREDENTIALS: &str = "Send Authorization: Bearer <key> with a key from NOTIFY_API_KEYS, or a short-lived JWT signed with NOTIFY_JWT_SECRET.";
const HINT_NO_CREDENTIALS_CONFIGURED: &str = "This deployment has live channels but no NOTIFY_API_KEYS or NOTIFY_JWT_SECRET: set one (or NOTIFY_ALLOW_UNAUTHENTICATED=1 on purpose) and redeploy.";
const HINT_ORIGIN: &str =
    "Add the calling site's origin (such as https://app.example.com) to NOTIFY_ALLOWED_ORIGINS.";
/// Clock skew tolerated between the practice app and this function.
const JWT_LEEWAY_SECONDS: u64 = 30;

pub struct Access {
    key_digests: Vec<(digest::Digest, Permissions)>,
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
    /// Space-separated permissions (OAuth's `scope`); without it a token may only send.
    scope: Option<String>,
}

/// Who a request's credentials name, and what they let it do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub caller: Caller,
    pub permissions: Permissions,
}

impl Credentials {
    /// Whether they allow `needed`: a 403 naming it when they do not.
    pub fn allow(&self, needed: Permission) -> Result<(), Error> {
        if self.permissions.allows(needed) {
            Ok(())
        } else {
            Err(lacks(needed, &self.caller))
        }
    }
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
                .map(|(key, permissions)| {
                    (
                        digest::digest(&digest::SHA256, key.expose().as_bytes()),
                        *permissions,
                    )
                })
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

    /// Checks that the request's credentials allow `needed`: the caller they name, or `None`
    /// without any where none are `required`.
    pub fn permit(
        &self,
        headers: &HeaderMap,
        needed: Permission,
        required: bool,
    ) -> Result<Option<Credentials>, Error> {
        let credentials = self.authenticate(headers, needed, required)?;
        if let Some(credentials) = &credentials {
            credentials.allow(needed)?;
        }
        Ok(credentials)
    }

    /// Checks the request's credentials: who they name and what they allow, or `None` without
    /// any where none are `required` (to do what `needed` says, for the message). Wrong
    /// credentials are refused even where none are required, since they are always a mistake
    /// worth knowing about.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        needed: Permission,
        required: bool,
    ) -> Result<Option<Credentials>, Error> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            if !required {
                return Ok(None);
            }
            let hint = if self.has_api_keys() || self.has_jwt() {
                HINT_CREDENTIALS
            } else {
                HINT_NO_CREDENTIALS_CONFIGURED
            };
            let doing = match needed {
                Permission::Send => "Sending on a live channel",
                Permission::Read => "Reading the message log",
                Permission::Manage => "Changing who is reached",
            };
            return Err(unauthorized(
                ErrorCode::AuthenticationRequired,
                format!("{doing} needs credentials, and this request has none."),
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
    fn api_key(&self, token: &str) -> Option<Credentials> {
        let presented = digest::digest(&digest::SHA256, token.as_bytes());
        let mut matched: Option<&(digest::Digest, Permissions)> = None;
        for entry in &self.key_digests {
            if bool::from(entry.0.as_ref().ct_eq(presented.as_ref())) {
                matched = Some(entry);
            }
        }
        matched.map(|(key, permissions)| Credentials {
            caller: Caller::ApiKey(format!("key:{}", hex::encode(&key.as_ref()[..4]))),
            permissions: *permissions,
        })
    }

    fn verify_jwt(
        &self,
        token: &str,
        (key, validation): &(DecodingKey, Validation),
    ) -> Result<Credentials, Error> {
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
        let permissions = match &claims.scope {
            Some(scope) => Permissions::parse(scope, ' ', true).unwrap_or_default(),
            None => Permissions::SEND,
        };
        Ok(Credentials {
            caller: Caller::Jwt(claims.sub.unwrap_or_else(|| "jwt".into())),
            permissions,
        })
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

/// The 403 of credentials without the permission `needed`, naming it.
fn lacks(needed: Permission, caller: &Caller) -> Error {
    let code = match needed {
        Permission::Send => ErrorCode::SendPermissionRequired,
        Permission::Read => ErrorCode::ReadPermissionRequired,
        Permission::Manage => ErrorCode::ManagePermissionRequired,
    };
    let name = needed.as_str();
    let (credential, hint) = match caller {
        Caller::Jwt(_) => (
            "token",
            format!(
                "Have the practice app sign a token whose scope claim includes {name} (space-separated, such as \"read manage\")."
            ),
        ),
        _ => (
            "API key",
            format!(
                "Use a key whose NOTIFY_API_KEYS entry has no limit or one that includes {name} (key:{name})."
            ),
        ),
    };
    Error::new(
        code,
        format!("This {credential} lacks the {name} permission this request needs."),
    )
    .with_hint(hint)
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
                (Secret::new("current-key-0123456789"), Permissions::ALL),
                (Secret::new("previous-key-0123456789"), Permissions::ALL),
                (
                    Secret::new("reading-key-0123456789"),
                    Permissions::parse("read", '+', false).unwrap(),
                ),
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

    /// Checks credentials as a send route does.
    fn sends(
        access: &Access,
        headers: &HeaderMap,
        required: bool,
    ) -> Result<Option<Caller>, Error> {
        access
            .permit(headers, Permission::Send, required)
            .map(|c| c.map(|c| c.caller))
    }

    fn code(result: Result<Option<Caller>, Error>) -> &'static str {
        result.unwrap_err().code.as_str()
    }

    #[test]
    fn both_keys_of_a_rotation_are_accepted_and_named_without_the_key() {
        let current = sends(&access(), &bearer("current-key-0123456789"), true).unwrap();
        let previous = sends(&access(), &bearer("previous-key-0123456789"), true).unwrap();
        assert_ne!(current, previous);
        let Some(Caller::ApiKey(id)) = current else {
            panic!("not a key")
        };
        assert!(id.starts_with("key:") && !id.contains("current"));
    }

    #[test]
    fn missing_and_wrong_keys_are_refused() {
        let error = sends(&access(), &HeaderMap::new(), true).unwrap_err();
        assert_eq!(
            (error.status(), error.code.as_str()),
            (401, "authentication_required")
        );
        assert_eq!(
            code(sends(&access(), &bearer("current-key-012345678"), true)),
            "invalid_api_key"
        );
        assert_eq!(
            code(sends(
                &access(),
                &headers(&[("authorization", "Basic abc")]),
                true
            )),
            "invalid_authorization"
        );
    }

    #[test]
    fn no_credentials_are_fine_where_none_are_required_but_wrong_ones_never_are() {
        assert_eq!(sends(&access(), &HeaderMap::new(), false).unwrap(), None);
        assert_eq!(
            code(sends(&access(), &bearer("nope"), false)),
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
            sends(&access(), &bearer(&jwt), true).unwrap(),
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
            let error = sends(&access(), &bearer(&jwt), true).unwrap_err();
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

    #[test]
    fn a_limited_key_and_a_token_without_scope_are_refused_what_they_lack_naming_it() {
        let reading = bearer("reading-key-0123456789");
        let refused = access()
            .permit(&reading, Permission::Send, true)
            .unwrap_err();
        assert_eq!(
            (refused.status(), refused.code.as_str()),
            (403, "send_permission_required")
        );
        assert!(access().permit(&reading, Permission::Read, true).is_ok());
        let unscoped = token(Algorithm::HS256, SECRET, json!({"exp": now() + 300}));
        let refused = access()
            .permit(&bearer(&unscoped), Permission::Read, true)
            .unwrap_err();
        assert_eq!(refused.code.as_str(), "read_permission_required");
        assert!(refused.message.contains("read permission"));
        assert!(
            access()
                .permit(&bearer(&unscoped), Permission::Send, true)
                .is_ok()
        );
        let staff = token(
            Algorithm::HS256,
            SECRET,
            json!({"exp": now() + 300, "scope": "read manage"}),
        );
        let credentials = access()
            .permit(&bearer(&staff), Permission::Manage, true)
            .unwrap()
            .unwrap();
        assert_eq!(credentials.permissions.names(), ["read", "manage"]);
        assert_eq!(
            access()
                .permit(&bearer(&staff), Permission::Send, true)
                .unwrap_err()
                .code
                .as_str(),
            "send_permission_required"
        );
    }

    #[test]
    fn a_read_without_credentials_is_told_that_reading_needs_them() {
        let error = access()
            .permit(&HeaderMap::new(), Permission::Read, true)
            .unwrap_err();
        assert_eq!(error.code.as_str(), "authentication_required");
        assert!(
            error
                .message
                .starts_with("Reading the message log needs credentials")
        );
    }
}
