//! How many SMS segments a text takes and in which encoding: GSM-7 (160 characters in one
//! segment, 153 per segment when split) when every character is in the GSM 03.38 alphabet,
//! UCS-2 (70, or 67 per segment, in UTF-16 units) otherwise. No maintained crate on crates.io
//! does this, so it lives here, with Twilio's published limits.

use serde::Serialize;

/// The GSM 03.38 basic alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each takes an escape septet plus its own.
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum SmsEncoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SmsSegments {
    pub encoding: SmsEncoding,
    #[schemars(range(min = 1))]
    pub segments: usize,
    /// Characters in the encoding's units: septets for GSM-7, UTF-16 units for UCS-2.
    pub units: usize,
}

pub fn count(text: &str) -> SmsSegments {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, multi) = match septets {
        Some(septets) => (SmsEncoding::Gsm7, septets, 160, 153),
        None => (SmsEncoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    SmsSegments {
        encoding,
        segments,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_up_to_160_characters_is_one_gsm7_segment() {
        let sms = count(&"a".repeat(160));
        assert_eq!(
            (sms.encoding, sms.segments, sms.units),
            (SmsEncoding::Gsm7, 1, 160)
        );
        assert_eq!(count(&"a".repeat(161)).segments, 2);
        assert_eq!(count(&"a".repeat(306)).segments, 2);
        assert_eq!(count(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn extension_characters_take_two_septets() {
        let sms = count(&"€".repeat(80));
        assert_eq!(
            (sms.encoding, sms.units, sms.segments),
            (SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(count(&"[".repeat(81)).segments, 2);
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_whole_text_ucs2() {
        let sms = count(&format!("{}’", "a".repeat(69)));
        assert_eq!(
            (sms.encoding, sms.segments, sms.units),
            (SmsEncoding::Ucs2, 1, 70)
        );
        assert_eq!(count(&"a’".repeat(36)).segments, 2);
        // An emoji is two UTF-16 units.
        assert_eq!(count("😀").units, 2);
    }
}
