//! The static pages in `public/` (the index, the patient's preference page, the staff's
//! activity page at `/activity` and what they load),
//! served by `cargo run` as Vercel serves them, and the Content-Security-Policy every page
//! shares: nothing from elsewhere, no inline script. `vercel.json` sets the same headers (the
//! contract test compares them).

use http::{HeaderMap, HeaderValue, Response, header};

use super::ResponseBody;

/// Scripts, styles and calls from this deployment only; no inline script, no frames, forms
/// posting back here only.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What Vercel serves from `public/`: path, file, content type.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("/", include_str!("../../public/index.html"), HTML),
    ("/index.html", include_str!("../../public/index.html"), HTML),
    (
        "/preferences.html",
        include_str!("../../public/preferences.html"),
        HTML,
    ),
    (
        "/preferences.js",
        include_str!("../../public/preferences.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/activity",
        include_str!("../../public/activity.html"),
        HTML,
    ),
    (
        "/activity.html",
        include_str!("../../public/activity.html"),
        HTML,
    ),
    (
        "/activity.js",
        include_str!("../../public/activity.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/activity.css",
        include_str!("../../public/activity.css"),
        "text/css; charset=utf-8",
    ),
    (
        "/favicon.svg",
        include_str!("../../public/favicon.svg"),
        "image/svg+xml",
    ),
    (
        "/pages.css",
        include_str!("../../public/pages.css"),
        "text/css; charset=utf-8",
    ),
];

const HTML: &str = "text/html; charset=utf-8";

/// The headers every page goes out with (the functions' own page, unsubscribe, included).
pub fn protect(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// The file at `path`, if `public/` has one.
pub(super) fn page(path: &str) -> Option<Response<ResponseBody>> {
    let (_, body, content_type) = PAGES.iter().find(|(p, _, _)| *p == path)?;
    let mut response = Response::new(ResponseBody::from(*body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    protect(headers);
    Some(response)
}
