//! Vercel function `POST /api/webhooks/twilio`: Twilio's delivery status callbacks, verified

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::Route::TwilioWebhook).await
}
