//! Vercel function `GET|POST /api/preview`: a template rendered as email HTML, text or SMS, without sending

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::Route::Preview).await
}
