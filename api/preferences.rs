//! Vercel function `/api/preferences`: a patient's choices per category and channel.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::PREFERENCES)
}
