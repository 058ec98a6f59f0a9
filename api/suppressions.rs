//! Vercel function `/api/suppressions` and `/api/suppressions/{id}`: the suppression list.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::SUPPRESSIONS)
}
