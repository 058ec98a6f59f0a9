//! `Attachment`: a file sent with an email, decoded, named safely, and of a type that is not
//! executable.

/// At most this many files per email.
pub const MAX_ATTACHMENTS: usize = 10;
/// At most this many decoded bytes in all: base64 makes them 4 MiB in the request, inside
/// Vercel's 4.5 MB cap, and far inside SES's 40 MB message limit.
pub const MAX_ATTACHMENT_BYTES: usize = 3 * 1024 * 1024;
const MAX_FILENAME_CHARS: usize = 100;

/// Extensions that run code when opened: refused whatever type they claim.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "dll", "sys", "jar", "js",
    "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "hta", "sh", "bash", "app", "apk", "dmg",
    "deb", "rpm", "lnk", "reg", "iso", "docm", "xlsm", "pptm",
];
/// Types that are executable or script whatever their name says.
const EXECUTABLE_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-executable",
    "application/x-sh",
    "application/x-csh",
    "application/javascript",
    "text/javascript",
    "application/java-archive",
    "application/vnd.microsoft.portable-executable",
    "application/x-msi",
    "application/hta",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-excel.sheet.macroenabled.12",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Safe to put in a MIME header: no path, no quotes, no control characters.
    pub filename: String,
    pub content_type: mime::Mime,
    pub content: Vec<u8>,
}

/// The decoded size of all attachments, when it is over the limit.
pub fn total_too_large(attachments: &[Attachment]) -> Option<usize> {
    let total: usize = attachments.iter().map(|a| a.content.len()).sum();
    (total > MAX_ATTACHMENT_BYTES).then_some(total)
}

/// Keeps the last path component, drops quotes, control and reserved characters.
pub fn sanitize_filename(raw: &str) -> Result<String, String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return Err("must be a file name such as invoice.pdf".into());
    }
    if cleaned.chars().count() > MAX_FILENAME_CHARS {
        return Err(format!("is longer than {MAX_FILENAME_CHARS} characters"));
    }
    Ok(cleaned.to_owned())
}

/// The essence of a MIME type (`type/subtype`, lower case), parsed by the `mime` crate that
/// lettre writes it with, or why it is not one.
pub fn parse_content_type(raw: &str) -> Result<mime::Mime, String> {
    let not_one = || format!("{raw:?} is not a MIME type such as application/pdf");
    let parsed: mime::Mime = raw.trim().parse().map_err(|_| not_one())?;
    // Only the essence is kept: parameters such as `name=` would repeat the filename.
    parsed.essence_str().parse().map_err(|_| not_one())
}

/// Whether the file would run code when opened, by its name or its type.
pub fn is_executable(filename: &str, content_type: &str) -> bool {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    EXECUTABLE_EXTENSIONS.contains(&extension.as_str()) || EXECUTABLE_TYPES.contains(&content_type)
}
