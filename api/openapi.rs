//! Vercel function `GET /api/openapi`: the OpenAPI 3.1 description of the API

fn main() -> Result<(), vercel_runtime::Error> {
    notify::http::serve_function(notify::http::routes::OPENAPI)
}
