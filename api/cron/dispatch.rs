//! Vercel function `GET /api/cron/dispatch`: the dispatcher, called by Vercel Cron every minute.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::DISPATCH)
}
