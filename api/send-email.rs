//! Vercel function `POST /api/send-email`: one email through AWS SES v2, or logged in demo mode

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::Route::SendEmail).await
}
