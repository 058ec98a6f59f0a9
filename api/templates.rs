//! Vercel function `GET /api/templates`: the eight templates, their fields and sample data

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::TEMPLATES)
}
