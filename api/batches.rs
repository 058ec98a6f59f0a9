//! Vercel function `GET`/`DELETE /api/batches/{id}`: a batch's counts and messages, or cancelling what has not gone

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::BATCHES)
}
