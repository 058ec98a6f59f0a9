//! Vercel function `GET /api/messages` and `GET /api/messages/{id}`: the message log.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::MESSAGES)
}
