//! Vercel function `POST /api/send-notification`: one of the eight templates, by email and/or SMS

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::SEND_NOTIFICATION)
}
