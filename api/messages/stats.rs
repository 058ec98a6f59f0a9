//! Vercel function `GET /api/messages/stats`: counts by channel, status and template.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::MESSAGE_STATS)
}
