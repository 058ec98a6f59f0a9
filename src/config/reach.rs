//! How patients are reached by default: `NOTIFY_PREFERENCE_DEFAULTS` lists the categories and
//! channels that are off until a patient turns them on (`care_reminders:sms,documents:email`;
//! everything else is on), and `NOTIFY_SMS_CONSENT` says whether a billing text needs the
//! patient's consent on file (`required`) or only records whether there was one (`recorded`,
//! the default). Links in messages (one-click unsubscribe) are signed with `NOTIFY_LINK_KEY`
//! and point at `NOTIFY_PUBLIC_URL`, else Vercel's production URL. `NOTIFY_FALLBACK_CATEGORIES`
//! lists the categories whose notifications use one channel, falling back to the next, unless
//! the request says otherwise.

use super::Secret;

use super::vars::{Vars, read_secret, secure_url};
use crate::error::FieldError;
use crate::names::{Category, Channel};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReachConfig {
    /// The (category, channel) pairs off by default.
    pub off_by_default: Vec<(Category, Channel)>,
    pub sms_consent: SmsConsent,
    /// Where a patient's links point and the key they are signed with: both, or no links.
    pub links: Option<(String, Secret)>,
    pub guard: GuardConfig,
    /// The categories whose notifications use the fallback strategy by default.
    pub fallback_categories: Vec<Category>,
}

/// The reputation guard (`NOTIFY_REPUTATION_GUARD=off` turns it off): email bounce and
/// complaint rates, in percent, past which health warns and past which sends of categories a
/// patient may turn off are held; counted once a window holds `min_emails`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardConfig {
    pub enabled: bool,
    pub bounce_warning: f64,
    pub bounce_hold: f64,
    pub complaint_warning: f64,
    pub complaint_hold: f64,
    pub min_emails: u64,
}

impl Eq for GuardConfig {}

/// Below SES's review lines (5% bounces, 0.1% complaints), so the guard acts first.
impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bounce_warning: 2.0,
            bounce_hold: 4.0,
            complaint_warning: 0.05,
            complaint_hold: 0.08,
            min_emails: 200,
        }
    }
}

/// Whether a billing SMS needs the patient's consent on file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SmsConsent {
    /// Recorded with every billing SMS, not enforced.
    #[default]
    Recorded,
    /// A billing SMS without consent on file is declined.
    Required,
}

impl SmsConsent {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Required => "required",
        }
    }
}

impl ReachConfig {
    /// Whether `category` goes on `channel` for a patient who has not chosen.
    pub fn on_by_default(&self, category: Category, channel: Channel) -> bool {
        !self.off_by_default.contains(&(category, channel))
    }
}

fn read_guard(vars: &Vars, invalid: &mut Vec<FieldError>) -> GuardConfig {
    let defaults = GuardConfig::default();
    let enabled = match vars.get("NOTIFY_REPUTATION_GUARD") {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => {
            invalid.push(FieldError::new(
                "NOTIFY_REPUTATION_GUARD",
                "must be on or off; the guard is on",
            ));
            true
        }
    };
    let mut percent = |name: &'static str, default: f64| match vars.get(name).map(str::parse::<f64>)
    {
        None => default,
        Some(Ok(p)) if p > 0.0 && p <= 100.0 => p,
        Some(_) => {
            invalid.push(FieldError::new(
                name,
                format!("must be a percentage above 0, such as {default}; {default} is used"),
            ));
            default
        }
    };
    let guard = GuardConfig {
        enabled,
        bounce_warning: percent("NOTIFY_BOUNCE_RATE_WARNING", defaults.bounce_warning),
        bounce_hold: percent("NOTIFY_BOUNCE_RATE_HOLD", defaults.bounce_hold),
        complaint_warning: percent("NOTIFY_COMPLAINT_RATE_WARNING", defaults.complaint_warning),
        complaint_hold: percent("NOTIFY_COMPLAINT_RATE_HOLD", defaults.complaint_hold),
        ..defaults
    };
    if guard.bounce_warning > guard.bounce_hold || guard.complaint_warning > guard.complaint_hold {
        invalid.push(FieldError::new(
            "NOTIFY_BOUNCE_RATE_WARNING",
            "each warning rate must be at most its hold rate; the defaults are used",
        ));
        return GuardConfig {
            enabled,
            ..defaults
        };
    }
    guard
}

pub(super) fn read_reach(
    vars: &Vars,
    public_url: Option<&str>,
    invalid: &mut Vec<FieldError>,
) -> ReachConfig {
    const DEFAULTS: &str = "NOTIFY_PREFERENCE_DEFAULTS";
    let mut off_by_default = Vec::new();
    if let Some(text) = vars.get(DEFAULTS) {
        let mut bad = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = pair.split_once(':').and_then(|(category, channel)| {
                Some((
                    Category::parse(category.trim())?,
                    Channel::parse(channel.trim())?,
                ))
            });
            match parsed {
                Some(pair) if !off_by_default.contains(&pair) => off_by_default.push(pair),
                Some(_) => {}
                None => bad.push(pair),
            }
        }
        let required_off = Category::ALL.iter().copied().find(|category| {
            category.required()
                && Channel::ALL
                    .iter()
                    .all(|c| off_by_default.contains(&(*category, *c)))
        });
        if !bad.is_empty() {
            invalid.push(FieldError::new(
                DEFAULTS,
                format!(
                    "must list category:channel pairs (such as care_reminders:sms); {} is not one; every category is on",
                    bad.join(", ")
                ),
            ));
            off_by_default.clear();
        } else if let Some(category) = required_off {
            invalid.push(FieldError::new(
                DEFAULTS,
                format!("turns every channel of {category} off, which patients must get; every category is on"),
            ));
            off_by_default.clear();
        }
    }
    let sms_consent = match vars.get("NOTIFY_SMS_CONSENT") {
        None | Some("recorded") => SmsConsent::Recorded,
        Some("required") => SmsConsent::Required,
        Some(_) => {
            invalid.push(FieldError::new(
                "NOTIFY_SMS_CONSENT",
                "must be recorded or required; consent is recorded, not required",
            ));
            SmsConsent::Recorded
        }
    };
    let key = read_secret(vars, "NOTIFY_LINK_KEY", 32, invalid);
    let base = public_url.map(str::to_owned).or_else(|| {
        let host = vars.get("VERCEL_PROJECT_PRODUCTION_URL")?;
        secure_url(
            "VERCEL_PROJECT_PRODUCTION_URL",
            &format!("https://{host}"),
            invalid,
        )
    });
    ReachConfig {
        off_by_default,
        sms_consent,
        links: base.zip(key),
        guard: read_guard(vars, invalid),
        fallback_categories: read_fallback_categories(vars, invalid),
    }
}

fn read_fallback_categories(vars: &Vars, invalid: &mut Vec<FieldError>) -> Vec<Category> {
    const NAME: &str = "NOTIFY_FALLBACK_CATEGORIES";
    let Some(text) = vars.get(NAME) else {
        return Vec::new();
    };
    let mut categories = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Category::parse(name) {
            Some(category) if !categories.contains(&category) => categories.push(category),
            Some(_) => {}
            None => {
                invalid.push(FieldError::new(
                    NAME,
                    format!("must list categories (such as care_reminders); {name} is not one; no category falls back by default"),
                ));
                return Vec::new();
            }
        }
    }
    categories
}
