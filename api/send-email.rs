//! Vercel function `POST /api/send-email`: one email through AWS SES v2, or logged in demo mode

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::SEND_EMAIL)
}
