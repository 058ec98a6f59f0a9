//! Vercel function `GET /api/health`: each channel's provider and mode, and the version

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::HEALTH)
}
