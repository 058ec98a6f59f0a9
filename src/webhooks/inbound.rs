//! A patient's text, read for an opt-out or an opt-in. Twilio's own keywords count when they
//! are the whole message (any case). Since April 2025 the FCC wants an opt-out made "by any
//! reasonable means" honoured, and Twilio matches only its keywords: plainer ways of saying it,
//! in English and Spanish, count too, marked inferred so that staff can review them.

/// What a reply says about the patient's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptWords {
    /// Stop texting me; `inferred` when read from plain words rather than a keyword.
    Out { inferred: bool },
    /// START, UNSTOP or YES: texts may resume.
    In,
}

/// Twilio's opt-out keywords (OPTOUT and REVOKE were added for the FCC's 2025 rules).
const STOP_KEYWORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "optout",
    "revoke",
];

const START_KEYWORDS: &[&str] = &["start", "unstop", "yes"];

/// Whole replies that mean stop, said plainly or in Spanish.
const STOP_REPLIES: &[&str] = &[
    "stop please",
    "please stop",
    "stop it",
    "opt out",
    "alto",
    "para",
    "parar",
    "pare",
    "basta",
    "baja",
    "cancelar",
    "detener",
];

/// Phrases that mean stop wherever they stand in a reply.
const STOP_PHRASES: &[&str] = &[
    "stop texting",
    "stop sending",
    "stop messaging",
    "stop contacting",
    "no more texts",
    "no more text messages",
    "no more messages",
    "unsubscribe me",
    "remove me from",
    "take me off",
    "do not text",
    "dont text",
    "don t text",
    "no mas mensajes",
    "no mas textos",
    "no me envien",
    "no me manden",
    "dejen de enviar",
    "dejen de mandar",
    "darme de baja",
    "dar de baja",
    "no quiero recibir",
];

/// What `body` says about the patient's texts, if anything.
pub fn opt_words(body: &str) -> Option<OptWords> {
    let exact = body.trim().to_lowercase();
    if STOP_KEYWORDS.contains(&exact.as_str()) {
        return Some(OptWords::Out { inferred: false });
    }
    if START_KEYWORDS.contains(&exact.as_str()) {
        return Some(OptWords::In);
    }
    let plain = plain(body);
    let stop = STOP_KEYWORDS.contains(&plain.as_str())
        || STOP_REPLIES.contains(&plain.as_str())
        || STOP_PHRASES
            .iter()
            .any(|phrase| contains_words(&plain, phrase));
    stop.then_some(OptWords::Out { inferred: true })
}

/// Lower case, Spanish accents dropped, every run of anything but letters and digits one space.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        let c = match c {
            'á' | 'à' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            other => other,
        };
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_owned()
}

/// Whether `phrase` stands in `text` as whole words.
fn contains_words(text: &str, phrase: &str) -> bool {
    format!(" {text} ").contains(&format!(" {phrase} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_keywords_as_the_whole_message_in_any_case_are_not_inferred() {
        for body in ["STOP", "stop", " Unsubscribe ", "QUIT", "optout", "Revoke"] {
            assert_eq!(
                opt_words(body),
                Some(OptWords::Out { inferred: false }),
                "{body}"
            );
        }
        for body in ["START", "unstop", "Yes"] {
            assert_eq!(opt_words(body), Some(OptWords::In), "{body}");
        }
    }

    #[test]
    fn plainer_ways_of_saying_stop_in_english_and_spanish_are_inferred() {
        for body in [
            "Please stop",
            "STOP!!!",
            "Stop texting me.",
            "no more texts please",
            "Can you take me off this list?",
            "Don't text me again",
            "Alto",
            "No más mensajes por favor",
            "Quiero darme de baja",
        ] {
            assert_eq!(
                opt_words(body),
                Some(OptWords::Out { inferred: true }),
                "{body}"
            );
        }
    }

    #[test]
    fn ordinary_replies_say_nothing_about_texts() {
        for body in [
            "I'll stop by tomorrow",
            "Thanks, see you at 3",
            "Can I cancel my appointment?",
            "yes please confirm",
            "Is the parking at the back?",
        ] {
            assert_eq!(opt_words(body), None, "{body}");
        }
    }
}
