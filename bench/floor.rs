//! Benchmark floor: the least a `vercel_runtime` function can cost. It answers every request
//! `200 {"ok":true}` and is built with the same release profile as the real functions.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), vercel_runtime::Error> {
    vercel_runtime::run(vercel_runtime::service_fn(
        |_request: vercel_runtime::Request| async {
            let mut response =
                vercel_runtime::Response::new(vercel_runtime::ResponseBody::from(r#"{"ok":true}"#));
            response.headers_mut().insert(
                "content-type",
                http::HeaderValue::from_static("application/json"),
            );
            response
        },
    ))
    .await
}
