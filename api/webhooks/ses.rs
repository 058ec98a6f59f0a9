//! Vercel function `POST /api/webhooks/ses`: SES delivery events by way of SNS, verified

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::SES_WEBHOOK)
}
