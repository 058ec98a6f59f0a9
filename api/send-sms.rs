//! Vercel function `POST /api/send-sms`: one SMS through Twilio, or logged in demo mode

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::Route::SendSms).await
}
