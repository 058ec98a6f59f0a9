//! Vercel function `/api/unsubscribe`: one-click unsubscribe from an email's link.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::UNSUBSCRIBE)
}
