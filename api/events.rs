//! Vercel function `GET /api/events`: delivery events in order, for a practice app catching up.

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::EVENTS)
}
