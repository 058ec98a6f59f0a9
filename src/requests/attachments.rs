//! The `attachments` of a send-email body as sent, and their parsing into [`Attachment`]s.

use base64::Engine;
use serde::Deserialize;

use crate::domain::{
    Attachment, MAX_ATTACHMENTS, is_executable, parse_content_type, sanitize_filename,
};
use crate::error::FieldError;

/// One file as the caller sends it: `{"filename", "content" (base64), "contentType"}`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object with filename, content (base64) and contentType"
)]
pub struct AttachmentRequest {
    /// Paths, quotes and control characters are removed.
    #[schemars(required, with = "String", length(min = 1))]
    pub filename: Option<String>,
    /// The file, base64-encoded.
    #[schemars(required, with = "String", extend("contentEncoding" = "base64"))]
    pub content: Option<String>,
    /// A MIME type such as `application/pdf`.
    #[schemars(required, with = "String")]
    pub content_type: Option<String>,
}

/// Parses the attachments of one email. The total size is checked apart (see
/// [`total_too_large`](crate::domain::total_too_large)) because it is a 413, not a 400.
pub fn parse_attachments(
    requests: Vec<AttachmentRequest>,
    errors: &mut Vec<FieldError>,
) -> Vec<Attachment> {
    if requests.len() > MAX_ATTACHMENTS {
        errors.push(FieldError::new(
            "attachments",
            format!(
                "has {} files; at most {MAX_ATTACHMENTS} are allowed",
                requests.len()
            ),
        ));
        return Vec::new();
    }
    let mut attachments = Vec::with_capacity(requests.len());
    for (i, request) in requests.into_iter().enumerate() {
        let field = |name: &str| format!("attachments[{i}].{name}");
        let filename = match request.filename.as_deref().map(sanitize_filename) {
            None => Err("is required".to_owned()),
            Some(Ok(name)) => Ok(name),
            Some(Err(message)) => Err(message),
        };
        let content_type = match request.content_type.as_deref().map(parse_content_type) {
            None => Err("is required, e.g. application/pdf".to_owned()),
            Some(result) => result,
        };
        let content = match request.content.as_deref() {
            None => Err("is required: the file's bytes in base64".to_owned()),
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| "is not valid base64".to_owned()),
        };
        if let (Ok(name), Ok(kind)) = (&filename, &content_type)
            && is_executable(name, kind.essence_str())
        {
            errors.push(FieldError::new(
                field("filename"),
                "is an executable or script type, which is never sent to patients",
            ));
            continue;
        }
        match (filename, content_type, content) {
            (Ok(filename), Ok(content_type), Ok(content)) => attachments.push(Attachment {
                filename,
                content_type,
                content,
            }),
            (filename, content_type, content) => {
                for (name, result) in [
                    ("filename", filename.err()),
                    ("contentType", content_type.err()),
                    ("content", content.err()),
                ] {
                    if let Some(message) = result {
                        errors.push(FieldError::new(field(name), message));
                    }
                }
            }
        }
    }
    attachments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MAX_ATTACHMENT_BYTES, total_too_large};

    fn request(filename: &str, content: &str, content_type: &str) -> AttachmentRequest {
        AttachmentRequest {
            filename: Some(filename.into()),
            content: Some(content.into()),
            content_type: Some(content_type.into()),
        }
    }

    fn parse(requests: Vec<AttachmentRequest>) -> (Vec<Attachment>, Vec<FieldError>) {
        let mut errors = Vec::new();
        let attachments = parse_attachments(requests, &mut errors);
        (attachments, errors)
    }

    #[test]
    fn a_pdf_is_decoded_and_kept() {
        let (attachments, errors) = parse(vec![request(
            "Invoice INV-1.pdf",
            "JVBERi0xLjQ=",
            "application/pdf",
        )]);
        assert!(errors.is_empty());
        assert_eq!(attachments[0].filename, "Invoice INV-1.pdf");
        assert_eq!(attachments[0].content, b"%PDF-1.4");
    }

    #[test]
    fn filenames_lose_paths_quotes_and_control_characters() {
        let (attachments, _) = parse(vec![request(
            "../../etc/\"pass\r\nwd\".txt",
            "aGk=",
            "text/plain",
        )]);
        assert_eq!(attachments[0].filename, "passwd.txt");
        let (attachments, _) = parse(vec![request(
            "C:\\Users\\me\\scan.png",
            "aGk=",
            "image/png",
        )]);
        assert_eq!(attachments[0].filename, "scan.png");
        let (_, errors) = parse(vec![request("../", "aGk=", "text/plain")]);
        assert_eq!(errors[0].field, "attachments[0].filename");
    }

    #[test]
    fn executable_names_and_types_are_refused() {
        for (name, kind) in [
            ("setup.exe", "application/octet-stream"),
            ("invoice.pdf.js", "application/pdf"),
            ("statement.pdf", "application/x-msdownload"),
            ("macro.DOCM", "application/octet-stream"),
        ] {
            let (attachments, errors) = parse(vec![request(name, "aGk=", kind)]);
            assert!(attachments.is_empty(), "{name}");
            assert_eq!(errors[0].field, "attachments[0].filename", "{name}");
        }
    }

    #[test]
    fn bad_base64_and_types_and_missing_fields_are_named() {
        let (_, errors) = parse(vec![
            request("a.pdf", "not base64!", "application/pdf"),
            request("b.pdf", "aGk=", "pdf"),
            AttachmentRequest {
                filename: None,
                content: None,
                content_type: None,
            },
        ]);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "attachments[0].content",
                "attachments[1].contentType",
                "attachments[2].filename",
                "attachments[2].contentType",
                "attachments[2].content"
            ]
        );
    }

    #[test]
    fn count_and_total_size_are_limited() {
        let many = (0..=MAX_ATTACHMENTS)
            .map(|i| request(&format!("{i}.txt"), "aGk=", "text/plain"))
            .collect();
        let (_, errors) = parse(many);
        assert_eq!(errors[0].field, "attachments");
        let big = Attachment {
            filename: "a.bin".into(),
            content_type: mime::APPLICATION_OCTET_STREAM,
            content: vec![0; MAX_ATTACHMENT_BYTES],
        };
        assert_eq!(total_too_large(std::slice::from_ref(&big)), None);
        let one_more = Attachment {
            content: vec![0; 1],
            ..big.clone()
        };
        assert_eq!(
            total_too_large(&[big, one_more]),
            Some(MAX_ATTACHMENT_BYTES + 1)
        );
    }
}
