//! Vercel function `POST /api/batch`: up to 1,000 sends in one call, paced to the providers' rates

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::BATCH)
}
