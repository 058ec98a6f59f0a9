//! Vercel function `POST /api/webhooks/twilio`: Twilio's delivery status callbacks, verified

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::TWILIO_WEBHOOK)
}
