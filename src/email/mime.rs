//! The MIME form of an email (lettre's builder): text and HTML as alternatives, attachments
//! beside them, the one-click unsubscribe headers. SMTP always sends it; SES sends it raw when
//! there are attachments or unsubscribe headers.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use crate::domain::{EmailAddress, EmailMessage};
use crate::error::{Error, ErrorCode};

/// The message from `from`, with a fresh `Message-ID` on the sender's domain, which is also the
/// id answered to the caller.
pub fn build(
    message: &EmailMessage,
    from: &EmailAddress,
    reply_to: &[EmailAddress],
) -> Result<(lettre::Message, String), Error> {
    let message_id = format!("<{}@{}>", crate::support::new_id(), from.domain());
    let mut builder = lettre::Message::builder()
        .from(mailbox(from)?)
        .subject(message.subject.clone())
        .message_id(Some(message_id.clone()));
    for to in &message.to {
        builder = builder.to(mailbox(to)?);
    }
    let reply_to = if message.reply_to.is_empty() {
        reply_to
    } else {
        &message.reply_to
    };
    for address in reply_to {
        builder = builder.reply_to(mailbox(address)?);
    }
    if let Some(url) = &message.list_unsubscribe {
        // RFC 8058: a mailbox provider POSTs `List-Unsubscribe=One-Click` to the URL.
        let name = |name: &'static str| HeaderName::new_from_ascii_str(name);
        builder = builder
            .raw_header(HeaderValue::new(
                name("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                name("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let body = match (&message.text, &message.html) {
        (Some(text), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        )),
        (Some(text), None) => Body::Single(SinglePart::plain(text.clone())),
        (None, Some(html)) => Body::Single(SinglePart::html(html.clone())),
        (None, None) => Body::Single(SinglePart::plain(String::new())),
    };
    let built = if message.attachments.is_empty() {
        match body {
            Body::Multi(multi) => builder.multipart(multi),
            Body::Single(single) => builder.singlepart(single),
        }
    } else {
        let mut mixed = match body {
            Body::Multi(multi) => MultiPart::mixed().multipart(multi),
            Body::Single(single) => MultiPart::mixed().singlepart(single),
        };
        for attachment in &message.attachments {
            let content_type = ContentType::from(attachment.content_type.clone());
            mixed = mixed.singlepart(
                Attachment::new(attachment.filename.clone())
                    .body(attachment.content.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    };
    let built = built.map_err(|e| {
        Error::new(
            ErrorCode::InternalError,
            format!("The email could not be put together: {e}"),
        )
    })?;
    Ok((built, message_id))
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

fn mailbox(address: &EmailAddress) -> Result<Mailbox, Error> {
    let email = address.address().parse().map_err(|_| invalid("address"))?;
    Ok(Mailbox::new(
        address.display_name().map(str::to_owned),
        email,
    ))
}

/// Only reachable if the domain types let through what lettre refuses: a bug.
fn invalid(what: &str) -> Error {
    Error::new(
        ErrorCode::InternalError,
        format!("An {what} was accepted but could not be written as MIME."),
    )
}
