//! The SES provider's settings: its sender, region and endpoint, and where its AWS credentials
//! come from (fixed keys, a role assumed with Vercel's OIDC token, or the standard chain).

use super::vars::{Vars, check_url};
use super::{ChannelConfig, Misconfiguration, Secret};
use crate::domain::EmailAddress;
use crate::error::FieldError;
use crate::names::CredentialSource;

pub const DEFAULT_SES_REGION: &str = "us-east-1";

/// The session name STS records for the assumed role when `AWS_ROLE_SESSION_NAME` is unset.
pub const DEFAULT_ROLE_SESSION_NAME: &str = "notify-ses";

/// What a Vercel deployment must set for SES to have credentials: the two ways, in the order
/// they are preferred there.
pub const CREDENTIALS_ON_VERCEL: &str =
    "AWS_ROLE_ARN (Vercel OIDC) or AWS_SES_ACCESS_KEY_ID and AWS_SES_SECRET_ACCESS_KEY";

/// AWS SES v2 settings, from the seed guide's variable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesSettings {
    pub credentials: SesCredentials,
    pub region: String,
    pub from: EmailAddress,
    pub configuration_set: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Where SES's credentials come from, first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SesCredentials {
    /// `AWS_SES_ACCESS_KEY_ID` + `AWS_SES_SECRET_ACCESS_KEY`: an IAM user's long-lived key.
    AccessKeys {
        access_key_id: String,
        secret_access_key: Secret,
    },
    /// `AWS_ROLE_ARN`: the role assumed with the platform's OIDC token (STS
    /// `AssumeRoleWithWebIdentity`), for temporary credentials.
    Role(RoleSettings),
    /// Off Vercel only: aws-config's default chain (environment, profile files, a web-identity
    /// token file, container and instance credentials).
    DefaultChain,
}

impl SesCredentials {
    pub fn source(&self) -> CredentialSource {
        match self {
            Self::AccessKeys { .. } => CredentialSource::AccessKeys,
            Self::Role(_) => CredentialSource::VercelOidc,
            Self::DefaultChain => CredentialSource::DefaultChain,
        }
    }
}

/// The role Vercel's OIDC token is exchanged for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSettings {
    pub role_arn: String,
    pub session_name: String,
    /// `VERCEL_OIDC_TOKEN` (what `vercel env pull` writes for local development); a deployed
    /// function gets its token with each request instead.
    pub local_token: Option<Secret>,
    /// `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`.
    pub sts_endpoint_url: Option<String>,
}

/// Health's `credentialSource`: what SES would sign with, when its variables say.
pub(super) fn credential_source(ses: &ChannelConfig<SesSettings>) -> Option<CredentialSource> {
    match ses {
        ChannelConfig::Live(settings) => Some(settings.credentials.source()),
        _ => None,
    }
}

/// What `EMAIL_PROVIDERS=ses` lacks when none of SES's variables is set.
pub(super) fn unset_missing(on_vercel: bool) -> Vec<String> {
    let mut missing = Vec::new();
    if on_vercel {
        missing.push(CREDENTIALS_ON_VERCEL.to_owned());
    }
    missing.push("AWS_SES_FROM_EMAIL".to_owned());
    missing
}

/// Demo when none of SES's own variables is set; misconfigured when some are missing or any
/// is invalid; live otherwise. Off Vercel the sender alone is enough (the default chain finds
/// the credentials); on Vercel the chain is never used, because the `AWS_*` values every
/// function there sees are Vercel's own, not usable credentials.
pub(super) fn ses_channel(
    vars: &Vars,
    force_demo: bool,
    on_vercel: bool,
    policy_problems: &[FieldError],
) -> ChannelConfig<SesSettings> {
    let own = [
        "AWS_SES_ACCESS_KEY_ID",
        "AWS_SES_SECRET_ACCESS_KEY",
        "AWS_ROLE_ARN",
        "AWS_SES_FROM_EMAIL",
    ];
    if force_demo || own.iter().all(|name| vars.get(name).is_none()) {
        return ChannelConfig::Demo;
    }
    let mut problem = Misconfiguration {
        missing: Vec::new(),
        invalid: policy_problems.to_vec(),
    };
    let credentials = read_credentials(vars, on_vercel, &mut problem);
    match read_ses(vars, on_vercel, credentials, &mut problem) {
        Some(settings) if problem.missing.is_empty() && problem.invalid.is_empty() => {
            ChannelConfig::Live(settings)
        }
        _ => ChannelConfig::Misconfigured(problem),
    }
}

fn read_credentials(
    vars: &Vars,
    on_vercel: bool,
    problem: &mut Misconfiguration,
) -> Option<SesCredentials> {
    match (
        vars.get("AWS_SES_ACCESS_KEY_ID"),
        vars.get("AWS_SES_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Some(SesCredentials::AccessKeys {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
        }),
        (Some(_), None) => {
            problem.missing.push("AWS_SES_SECRET_ACCESS_KEY".into());
            None
        }
        (None, Some(_)) => {
            problem.missing.push("AWS_SES_ACCESS_KEY_ID".into());
            None
        }
        (None, None) => match vars.get("AWS_ROLE_ARN") {
            // EKS and other hosts pair AWS_ROLE_ARN with a token file: the chain's own case.
            Some(_) if !on_vercel && vars.get("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() => {
                Some(SesCredentials::DefaultChain)
            }
            Some(arn) => read_role(vars, arn, &mut problem.invalid).map(SesCredentials::Role),
            None if on_vercel => {
                problem.missing.push(CREDENTIALS_ON_VERCEL.into());
                None
            }
            None => Some(SesCredentials::DefaultChain),
        },
    }
}

fn read_role(vars: &Vars, arn: &str, invalid: &mut Vec<FieldError>) -> Option<RoleSettings> {
    let parts: Vec<&str> = arn.split(':').collect();
    let is_role_arn = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].len() > "role/".len()
        && parts[5].starts_with("role/");
    if !is_role_arn {
        invalid.push(FieldError::new(
            "AWS_ROLE_ARN",
            "must be an IAM role ARN such as arn:aws:iam::123456789012:role/notify-ses",
        ));
    }
    let session_name = vars
        .get("AWS_ROLE_SESSION_NAME")
        .unwrap_or(DEFAULT_ROLE_SESSION_NAME);
    let session_ok = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !session_ok {
        invalid.push(FieldError::new(
            "AWS_ROLE_SESSION_NAME",
            "must be 2 to 64 letters, digits or +=,.@_-",
        ));
    }
    let sts_endpoint_url = endpoint(vars, "AWS_ENDPOINT_URL_STS", invalid);
    (is_role_arn && session_ok).then(|| RoleSettings {
        role_arn: arn.to_owned(),
        session_name: session_name.to_owned(),
        local_token: vars.get("VERCEL_OIDC_TOKEN").map(Secret::new),
        sts_endpoint_url,
    })
}

/// The settings around the credentials. The region is `AWS_SES_REGION`, then (off Vercel, where it
/// is the practice's own) `AWS_REGION`; on Vercel `AWS_REGION` is the function's region.
fn read_ses(
    vars: &Vars,
    on_vercel: bool,
    credentials: Option<SesCredentials>,
    problem: &mut Misconfiguration,
) -> Option<SesSettings> {
    let (region_name, region) = match vars.get("AWS_SES_REGION") {
        Some(region) => ("AWS_SES_REGION", region),
        None => match vars.get("AWS_REGION").filter(|_| !on_vercel) {
            Some(region) => ("AWS_REGION", region),
            None => ("AWS_SES_REGION", DEFAULT_SES_REGION),
        },
    };
    let region_ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        problem.invalid.push(FieldError::new(
            region_name,
            "must be an AWS region name such as us-east-1",
        ));
    }
    let from = match vars.get("AWS_SES_FROM_EMAIL") {
        None => {
            problem.missing.push("AWS_SES_FROM_EMAIL".into());
            None
        }
        Some(v) => EmailAddress::parse(v)
            .map_err(|m| {
                problem
                    .invalid
                    .push(FieldError::new("AWS_SES_FROM_EMAIL", m))
            })
            .ok(),
    };
    let endpoint_url = endpoint(vars, "AWS_ENDPOINT_URL_SESV2", &mut problem.invalid);
    Some(SesSettings {
        credentials: credentials?,
        region: region.to_owned(),
        from: from?,
        configuration_set: vars.get("SES_CONFIGURATION_SET").map(str::to_owned),
        endpoint_url,
    })
}

/// A service's own endpoint variable, then the SDK-wide `AWS_ENDPOINT_URL` (for emulators).
fn endpoint(vars: &Vars, own: &'static str, invalid: &mut Vec<FieldError>) -> Option<String> {
    vars.get(own)
        .map(|v| (own, v))
        .or_else(|| {
            vars.get("AWS_ENDPOINT_URL")
                .map(|v| ("AWS_ENDPOINT_URL", v))
        })
        .and_then(|(name, v)| check_url(name, v, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, EmailProviderSettings};

    const FROM: (&str, &str) = ("AWS_SES_FROM_EMAIL", "noreply@clinic.example.com");
    const ROLE: (&str, &str) = ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/notify-ses");

    fn ses(pairs: &[(&str, &str)]) -> ChannelConfig<SesSettings> {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match Config::from_vars(&vars).email {
            ChannelConfig::Live(channel) => match channel.providers.first {
                EmailProviderSettings::Ses(ses) => ChannelConfig::Live(ses),
                other => panic!("first provider is {other:?}"),
            },
            ChannelConfig::Demo => ChannelConfig::Demo,
            ChannelConfig::Misconfigured(m) => ChannelConfig::Misconfigured(m),
        }
    }

    fn source(pairs: &[(&str, &str)]) -> CredentialSource {
        match ses(pairs) {
            ChannelConfig::Live(settings) => settings.credentials.source(),
            other => panic!("not live: {other:?}"),
        }
    }

    fn missing(pairs: &[(&str, &str)]) -> Vec<String> {
        match ses(pairs) {
            ChannelConfig::Misconfigured(m) => m.missing,
            other => panic!("not misconfigured: {other:?}"),
        }
    }

    #[test]
    fn the_seeds_keys_come_first_whatever_else_is_set() {
        let keys = [
            ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SES_SECRET_ACCESS_KEY", "secret"),
            FROM,
            ROLE,
        ];
        assert_eq!(source(&keys), CredentialSource::AccessKeys);
        assert_eq!(
            source(&[keys.as_slice(), &[("VERCEL", "1")]].concat()),
            CredentialSource::AccessKeys
        );
    }

    #[test]
    fn a_role_arn_means_vercel_oidc_on_vercel_and_in_local_development() {
        assert_eq!(
            source(&[FROM, ROLE, ("VERCEL", "1")]),
            CredentialSource::VercelOidc
        );
        let ChannelConfig::Live(settings) = ses(&[FROM, ROLE, ("VERCEL_OIDC_TOKEN", "jwt")]) else {
            panic!("not live")
        };
        let SesCredentials::Role(role) = settings.credentials else {
            panic!("not a role")
        };
        assert_eq!(role.session_name, DEFAULT_ROLE_SESSION_NAME);
        assert_eq!(role.local_token, Some(Secret::new("jwt")));
    }

    #[test]
    fn off_vercel_the_sender_alone_uses_the_default_chain_and_a_token_file_role_is_the_chains() {
        assert_eq!(source(&[FROM]), CredentialSource::DefaultChain);
        assert_eq!(
            source(&[
                FROM,
                ROLE,
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
            ]),
            CredentialSource::DefaultChain
        );
    }

    #[test]
    fn on_vercel_the_default_chain_is_never_used_and_both_ways_are_named() {
        let vercel_aws = [
            FROM,
            ("VERCEL", "1"),
            ("AWS_ACCESS_KEY_ID", "ASIAVERCEL"),
            ("AWS_SECRET_ACCESS_KEY", "vercel"),
        ];
        assert_eq!(missing(&vercel_aws), [CREDENTIALS_ON_VERCEL]);
    }

    #[test]
    fn half_a_key_pair_is_missing_the_other_half_not_a_fallback() {
        assert_eq!(
            missing(&[FROM, ("AWS_SES_ACCESS_KEY_ID", "AKIA"), ROLE]),
            ["AWS_SES_SECRET_ACCESS_KEY"]
        );
        assert_eq!(missing(&[ROLE]), ["AWS_SES_FROM_EMAIL"]);
    }

    #[test]
    fn a_malformed_role_or_session_name_is_named() {
        let ChannelConfig::Misconfigured(m) = ses(&[
            FROM,
            ("AWS_ROLE_ARN", "arn:aws:iam::123:user/me"),
            ("AWS_ROLE_SESSION_NAME", "has space"),
        ]) else {
            panic!("not misconfigured")
        };
        let names: Vec<_> = m.invalid.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(names, ["AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"]);
    }

    #[test]
    fn the_region_falls_back_to_aws_region_off_vercel_only() {
        let region = |pairs: &[(&str, &str)]| match ses(pairs) {
            ChannelConfig::Live(settings) => settings.region,
            other => panic!("not live: {other:?}"),
        };
        assert_eq!(region(&[FROM, ("AWS_REGION", "eu-west-1")]), "eu-west-1");
        assert_eq!(
            region(&[FROM, ROLE, ("VERCEL", "1"), ("AWS_REGION", "eu-west-1")]),
            DEFAULT_SES_REGION
        );
        assert_eq!(
            region(&[
                FROM,
                ("AWS_REGION", "eu-west-1"),
                ("AWS_SES_REGION", "us-west-2")
            ]),
            "us-west-2"
        );
    }
}
