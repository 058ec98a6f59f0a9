//! Vercel function `GET|POST /api/preview`: a template rendered as email HTML, text or SMS, without sending

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::PREVIEW)
}
