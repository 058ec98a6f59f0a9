//! The configuration read from maps of variables: modes, defaults, problems named by
//! variable, secrets never printed.

use std::time::Duration;

use super::*;

const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn config(pairs: &[(&str, &str)]) -> Config {
    let vars = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_vars(&vars)
}

fn live_ses(config: &Config) -> SesSettings {
    match &config.email {
        ChannelConfig::Live(channel) => match &channel.providers.first {
            EmailProviderSettings::Ses(ses) => ses.clone(),
            other => panic!("first provider is {other:?}"),
        },
        other => panic!("email not live: {other:?}"),
    }
}

fn provider_names(config: &Config) -> Vec<&'static str> {
    match &config.email {
        ChannelConfig::Live(channel) => channel
            .providers
            .iter()
            .map(|p| match p {
                EmailProviderSettings::Ses(_) => "ses",
                EmailProviderSettings::Smtp(_) => "smtp",
            })
            .collect(),
        other => panic!("email not live: {other:?}"),
    }
}

const SMTP_VARS: [(&str, &str); 4] = [
    ("SMTP_HOST", "smtp.sendgrid.net"),
    ("SMTP_USERNAME", "apikey"),
    ("SMTP_PASSWORD", "SG.secret"),
    ("SMTP_FROM", "noreply@clinic.example.com"),
];

#[test]
fn every_configured_email_provider_is_used_ses_first_unless_the_list_says_otherwise() {
    let both = [SES_VARS.as_slice(), SMTP_VARS.as_slice()].concat();
    assert_eq!(provider_names(&config(&both)), ["ses", "smtp"]);
    let mut reversed = both.clone();
    reversed.push(("EMAIL_PROVIDERS", "smtp, ses"));
    assert_eq!(provider_names(&config(&reversed)), ["smtp", "ses"]);
    let mut only_smtp = both.clone();
    only_smtp.push(("EMAIL_PROVIDERS", "smtp"));
    assert_eq!(provider_names(&config(&only_smtp)), ["smtp"]);
    assert_eq!(provider_names(&config(&SMTP_VARS)), ["smtp"]);
}

#[test]
fn smtp_defaults_to_starttls_on_587() {
    let config = config(&SMTP_VARS);
    let ChannelConfig::Live(channel) = config.email else {
        panic!()
    };
    let EmailProviderSettings::Smtp(smtp) = &channel.providers.first else {
        panic!()
    };
    assert_eq!((smtp.security, smtp.port), (SmtpSecurity::StartTls, 587));
    assert!(!format!("{smtp:?}").contains("SG.secret"));
}

#[test]
fn a_listed_provider_that_is_not_configured_is_misconfigured_not_skipped() {
    let mut vars = SES_VARS.to_vec();
    vars.push(("EMAIL_PROVIDERS", "ses,smtp,mailgun"));
    let config = config(&vars);
    let problem = misconfiguration(&config.email);
    assert_eq!(problem.missing, ["SMTP_HOST", "SMTP_FROM"]);
    assert_eq!(problem.invalid[0].field, "EMAIL_PROVIDERS");
}

#[test]
fn unencrypted_smtp_is_only_for_a_local_relay_and_never_with_a_password() {
    let local = config(&[
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_FROM", "a@clinic.example.com"),
        ("SMTP_SECURITY", "none"),
    ]);
    assert!(matches!(local.email, ChannelConfig::Live(_)));
    let private = config(&[
        ("SMTP_HOST", "10.0.0.5"),
        ("SMTP_FROM", "a@clinic.example.com"),
        ("SMTP_SECURITY", "none"),
    ]);
    assert!(matches!(private.email, ChannelConfig::Live(_)));
    let public = config(&[
        ("SMTP_HOST", "smtp.example.com"),
        ("SMTP_FROM", "a@clinic.example.com"),
        ("SMTP_SECURITY", "none"),
    ]);
    assert_eq!(
        misconfiguration(&public.email).invalid[0].field,
        "SMTP_SECURITY"
    );
    let mut with_password = SMTP_VARS.to_vec();
    with_password[0] = ("SMTP_HOST", "localhost");
    with_password.push(("SMTP_SECURITY", "none"));
    assert_eq!(
        misconfiguration(&config(&with_password).email).invalid[0].field,
        "SMTP_SECURITY"
    );
}

fn misconfiguration<T: std::fmt::Debug>(channel: &ChannelConfig<T>) -> &Misconfiguration {
    match channel {
        ChannelConfig::Misconfigured(m) => m,
        other => panic!("expected misconfigured, got {other:?}"),
    }
}

const SES_VARS: [(&str, &str); 3] = [
    ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
    ("AWS_SES_SECRET_ACCESS_KEY", "wJalrEXAMPLE"),
    (
        "AWS_SES_FROM_EMAIL",
        "Sunrise Clinic <noreply@clinic.example.com>",
    ),
];
const TWILIO_VARS: [(&str, &str); 3] = [
    ("TWILIO_ACCOUNT_SID", SID),
    ("TWILIO_AUTH_TOKEN", "token"),
    ("TWILIO_PHONE_NUMBER", "+15550001111"),
];

#[test]
fn no_variables_at_all_means_demo_on_both_channels() {
    let config = config(&[]);
    assert_eq!(config.email, ChannelConfig::Demo);
    assert_eq!(config.sms, ChannelConfig::Demo);
    assert_eq!(config.policy, SendPolicy::default());
}

#[test]
fn blank_variables_count_as_unset() {
    let config = config(&[("AWS_SES_ACCESS_KEY_ID", "  "), ("TWILIO_AUTH_TOKEN", "")]);
    assert_eq!(config.email, ChannelConfig::Demo);
    assert_eq!(config.sms, ChannelConfig::Demo);
}

#[test]
fn every_required_variable_makes_a_channel_live_with_defaults_filled_in() {
    let config = config(&[SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat());
    let ses = live_ses(&config);
    assert_eq!(ses.region, "us-east-1");
    assert_eq!(ses.from.address(), "noreply@clinic.example.com");
    assert_eq!(ses.endpoint_url, None);
    let ChannelConfig::Live(twilio) = config.sms else {
        panic!("sms not live")
    };
    assert_eq!(twilio.api_base_url, "https://api.twilio.com");
    assert_eq!(twilio.sender.phone_number.unwrap().as_str(), "+15550001111");
}

#[test]
fn some_but_not_all_variables_is_misconfigured_and_names_what_is_missing() {
    let config = config(&[
        ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_AUTH_TOKEN", "token"),
    ]);
    assert_eq!(
        misconfiguration(&config.email).missing,
        ["AWS_SES_SECRET_ACCESS_KEY", "AWS_SES_FROM_EMAIL"]
    );
    assert_eq!(
        misconfiguration(&config.sms).missing,
        ["TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID"]
    );
}

#[test]
fn a_messaging_service_can_stand_in_for_the_phone_number() {
    let config = config(&[
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_AUTH_TOKEN", "token"),
        (
            "TWILIO_MESSAGING_SERVICE_SID",
            "MG0123456789abcdef0123456789abcdef",
        ),
    ]);
    let ChannelConfig::Live(twilio) = config.sms else {
        panic!("sms not live")
    };
    assert_eq!(twilio.sender.phone_number, None);
    assert!(twilio.sender.messaging_service_sid.is_some());
}

#[test]
fn invalid_values_are_misconfigured_and_named_without_their_value() {
    let config = config(&[
        ("AWS_SES_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SES_SECRET_ACCESS_KEY", "wJalrEXAMPLE"),
        ("AWS_SES_FROM_EMAIL", "not-an-address"),
        ("AWS_SES_REGION", "US East"),
        ("TWILIO_ACCOUNT_SID", "XX123"),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_PHONE_NUMBER", "555-1234"),
        ("TWILIO_API_BASE_URL", "ftp://twilio"),
    ]);
    let email = misconfiguration(&config.email);
    assert!(email.missing.is_empty());
    let names: Vec<_> = email.invalid.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(names, ["AWS_SES_REGION", "AWS_SES_FROM_EMAIL"]);
    let sms = misconfiguration(&config.sms);
    let names: Vec<_> = sms.invalid.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        names,
        [
            "TWILIO_ACCOUNT_SID",
            "TWILIO_PHONE_NUMBER",
            "TWILIO_API_BASE_URL"
        ]
    );
    assert!(!format!("{sms:?}").contains("XX123"));
}

#[test]
fn notify_demo_forces_demo_even_with_full_credentials() {
    let mut vars = [SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat();
    vars.push(("NOTIFY_DEMO", "1"));
    let config = config(&vars);
    assert_eq!(config.email, ChannelConfig::Demo);
    assert_eq!(config.sms, ChannelConfig::Demo);
}

#[test]
fn generic_aws_credentials_are_never_used_for_ses() {
    let config = config(&[
        ("AWS_ACCESS_KEY_ID", "ASIAVERCEL"),
        ("AWS_SECRET_ACCESS_KEY", "vercel-internal"),
    ]);
    assert_eq!(config.email, ChannelConfig::Demo);
}

#[test]
fn the_sesv2_endpoint_override_wins_over_the_generic_one() {
    let mut vars = SES_VARS.to_vec();
    vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:1/"));
    vars.push(("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:2/"));
    let ses = live_ses(&config(&vars));
    assert_eq!(ses.endpoint_url.as_deref(), Some("http://127.0.0.1:2"));
}

#[test]
fn send_policy_reads_its_bounds_and_refuses_nonsense() {
    let mut vars = TWILIO_VARS.to_vec();
    vars.extend([
        ("NOTIFY_ATTEMPT_TIMEOUT_MS", "500"),
        ("NOTIFY_SEND_TIMEOUT_MS", "1500"),
        ("NOTIFY_MAX_ATTEMPTS", "2"),
    ]);
    let policy = config(&vars).policy;
    assert_eq!(policy.attempt_timeout, Duration::from_millis(500));
    assert_eq!(policy.send_timeout, Duration::from_millis(1500));
    assert_eq!(policy.max_attempts, 2);

    let mut vars = TWILIO_VARS.to_vec();
    vars.push(("NOTIFY_MAX_ATTEMPTS", "lots"));
    let config = config(&vars);
    assert_eq!(
        misconfiguration(&config.sms).invalid[0].field,
        "NOTIFY_MAX_ATTEMPTS"
    );
    assert_eq!(
        config.email,
        ChannelConfig::Demo,
        "a demo channel has no policy to break"
    );
}

#[test]
fn branding_falls_back_to_a_neutral_name_and_refuses_insecure_links() {
    let plain = config(&[]);
    assert_eq!(plain.branding, Branding::default());
    let branded = config(&[
        ("PRACTICE_NAME", "Sunrise Family Clinic"),
        ("PRACTICE_PHONE", "(555) 010-2000"),
        ("PRACTICE_PORTAL_URL", "http://portal.example.com"),
        ("PRACTICE_SUPPORT_EMAIL", "help@sunrise.example.com"),
    ]);
    assert_eq!(branded.branding.practice_name, "Sunrise Family Clinic");
    assert_eq!(branded.branding.portal_url, None);
    assert_eq!(branded.branding_invalid[0].field, "PRACTICE_PORTAL_URL");
    assert_eq!(
        branded.branding.support_email.as_deref(),
        Some("help@sunrise.example.com")
    );
}

#[test]
fn access_settings_are_read_and_weak_ones_refused() {
    let config = config(&[
        (
            "NOTIFY_API_KEYS",
            "key-one-0123456789abcdef, short ,key-two-0123456789abcdef",
        ),
        ("NOTIFY_JWT_SECRET", "too-short"),
        (
            "NOTIFY_ALLOWED_ORIGINS",
            "https://app.example.com, https://bad.example.com/path",
        ),
        ("NOTIFY_ALLOW_UNAUTHENTICATED", "1"),
    ]);
    assert_eq!(config.access.api_keys.len(), 2);
    assert_eq!(config.access.jwt_secret, None);
    assert_eq!(config.access.allowed_origins, ["https://app.example.com"]);
    assert!(config.access.allow_unauthenticated);
    let names: Vec<_> = config
        .security_invalid
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "NOTIFY_API_KEYS",
            "NOTIFY_ALLOWED_ORIGINS",
            "NOTIFY_JWT_SECRET"
        ]
    );
    assert!(!format!("{config:?}").contains("key-one"));
}

#[test]
fn limits_have_defaults_and_can_be_changed() {
    assert_eq!(config(&[]).limits, Limits::default());
    let config = config(&[
        ("NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", "2"),
        ("NOTIFY_RATE_LIMIT_PER_MINUTE", "zero"),
    ]);
    assert_eq!(config.limits.sms_per_recipient_per_hour, 2);
    assert_eq!(config.limits.requests_per_minute, 60);
    assert_eq!(
        config.security_invalid[0].field,
        "NOTIFY_RATE_LIMIT_PER_MINUTE"
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config = config(&[SES_VARS.as_slice(), TWILIO_VARS.as_slice()].concat());
    let printed = format!("{config:?}");
    assert!(!printed.contains("wJalrEXAMPLE"));
    assert!(printed.contains("REDACTED"));
}

#[test]
fn preference_defaults_turn_pairs_off_and_a_bad_list_or_an_unreachable_required_category_is_named()
{
    use crate::names::{Category, Channel};
    let reach = config(&[(
        "NOTIFY_PREFERENCE_DEFAULTS",
        "care_reminders:sms, documents:email",
    )]);
    assert!(
        !reach
            .reach
            .on_by_default(Category::CareReminders, Channel::Sms)
    );
    assert!(
        reach
            .reach
            .on_by_default(Category::CareReminders, Channel::Email)
    );
    assert!(reach.reach_invalid.is_empty());
    assert_eq!(reach.reach.sms_consent, SmsConsent::Recorded);
    for bad in ["care_reminders", "billing_alerts:email,billing_alerts:sms"] {
        let reach = config(&[("NOTIFY_PREFERENCE_DEFAULTS", bad)]);
        assert_eq!(
            reach.reach_invalid[0].field, "NOTIFY_PREFERENCE_DEFAULTS",
            "{bad}"
        );
        assert!(
            reach.reach.off_by_default.is_empty(),
            "{bad}: everything stays on"
        );
    }
    let required = config(&[("NOTIFY_SMS_CONSENT", "required")]);
    assert_eq!(required.reach.sms_consent, SmsConsent::Required);
    let wrong = config(&[("NOTIFY_SMS_CONSENT", "always")]);
    assert_eq!(wrong.reach_invalid[0].field, "NOTIFY_SMS_CONSENT");
}

#[test]
fn an_api_key_may_be_limited_to_some_permissions_and_a_bad_limit_is_named() {
    let config = config(&[(
        "NOTIFY_API_KEYS",
        "full-key-0123456789abcdef, read-key-0123456789abcdef:read+manage, odd-key-0123456789abcdef:admin",
    )]);
    let permissions: Vec<Vec<&str>> = (config.access.api_keys.iter())
        .map(|(_, p)| p.names())
        .collect();
    assert_eq!(
        permissions,
        [vec!["send", "read", "manage"], vec!["read", "manage"]]
    );
    assert_eq!(config.security_invalid[0].field, "NOTIFY_API_KEYS");
    assert!(
        config.security_invalid[0]
            .message
            .contains("key:read+manage"),
        "{:?}",
        config.security_invalid
    );
}
