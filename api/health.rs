//! Vercel function `GET /api/health`: each channel's provider and mode, and the version

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::Route::Health).await
}
