//! Vercel function `GET /api/audit`: the audit trail as JSON lines, API keys only.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::AUDIT)
}
