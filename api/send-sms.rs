//! Vercel function `POST /api/send-sms`: one SMS through Twilio, or logged in demo mode

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::SEND_SMS)
}
