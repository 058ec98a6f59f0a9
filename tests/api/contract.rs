//! The error codes in `ErrorCode` are the ones the README's error table and
//! `docs/openapi.json` document, each under its own status.

use notify::ErrorCode;
use serde_json::Value;

/// The README's error table: each row's status cell and the codes it lists.
fn readme_rows() -> Vec<(String, Vec<String>)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("| status | meaning | codes |")
        .nth(1)
        .expect("the README has an error table");
    table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let codes = cells[3]
                .split(',')
                .map(|code| code.trim().trim_matches('`').to_owned())
                .collect();
            (cells[1].to_owned(), codes)
        })
        .collect()
}

#[test]
fn every_error_code_is_in_the_readme_table_under_its_own_status() {
    let rows = readme_rows();
    for code in ErrorCode::ALL {
        let listed: Vec<&String> = rows
            .iter()
            .filter(|(_, codes)| codes.iter().any(|c| c == code.as_str()))
            .map(|(status, _)| status)
            .collect();
        assert_eq!(listed.len(), 1, "{code} is listed {} times", listed.len());
        assert!(
            listed[0].contains(&code.status().to_string()),
            "{code} is under {}, not {}",
            listed[0],
            code.status()
        );
    }
    let documented: usize = rows.iter().map(|(_, codes)| codes.len()).sum();
    assert_eq!(
        documented,
        ErrorCode::ALL.len(),
        "the README lists a code the API never answers"
    );
}

#[test]
fn the_openapi_description_lists_exactly_the_error_codes() {
    let doc: Value = serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap();
    let documented: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, codes);
    let error = &doc["components"]["schemas"]["Error"]["properties"]["code"];
    assert_eq!(error["$ref"], "#/components/schemas/ErrorCode");
}

/// The `[[bin]]` targets of Cargo.toml: (name, path).
fn cargo_binaries() -> Vec<(String, String)> {
    let manifest = include_str!("../../Cargo.toml");
    let value = |block: &str, key: &str| {
        block
            .lines()
            .find_map(|line| line.strip_prefix(key)?.trim().strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_owned())
    };
    manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|block| Some((value(block, "name")?, value(block, "path")?)))
        .collect()
}

#[test]
fn every_route_has_its_function_file_binary_vercel_entry_openapi_path_and_readme_line() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binaries = cargo_binaries();
    let vercel: Value = serde_json::from_str(include_str!("../../vercel.json")).unwrap();
    let openapi: Value = serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap();
    let readme = include_str!("../../README.md");
    for &route in notify::http::Route::ALL {
        let file = route.file();
        let source = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|_| panic!("{route:?} has no function file {file}"));
        assert!(
            source.contains(&format!("routes::{})", route.endpoint_name())),
            "{file} does not serve routes::{}",
            route.endpoint_name()
        );
        assert_eq!(route.endpoint().route, route, "the table's endpoint");
        assert!(
            binaries.contains(&(route.binary(), file.to_owned())),
            "Cargo.toml has no [[bin]] {} at {file}",
            route.binary()
        );
        assert!(
            vercel["functions"].get(file).is_some(),
            "vercel.json does not configure {file}"
        );
        for method in route.methods() {
            // On the route's path, or on a path below it (`/api/messages/{id}`).
            let below = format!("{}/{{", route.path());
            let described = openapi["paths"]
                .as_object()
                .unwrap()
                .iter()
                .any(|(path, item)| {
                    (path == route.path() || path.starts_with(&below))
                        && item[method.as_str().to_lowercase()].is_object()
                });
            assert!(
                described,
                "docs/openapi.json lacks {method} {}",
                route.path()
            );
            assert!(
                readme.contains(&format!("`{method} {}", route.path())),
                "the README never names `{method} {}`",
                route.path()
            );
        }
    }
}

#[test]
fn every_function_file_binary_and_vercel_entry_is_a_route() {
    let files: Vec<&str> = notify::http::Route::ALL.iter().map(|r| r.file()).collect();
    for (name, path) in cargo_binaries() {
        assert!(
            path.starts_with("src/") || files.contains(&path.as_str()),
            "the [[bin]] {name} ({path}) is no route's function"
        );
    }
    let vercel: Value = serde_json::from_str(include_str!("../../vercel.json")).unwrap();
    for file in vercel["functions"].as_object().unwrap().keys() {
        assert!(
            files.contains(&file.as_str()),
            "vercel.json configures {file}, no route's"
        );
    }
    let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api");
    let mut found = Vec::new();
    let mut folders = vec![api.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(api.parent().unwrap()).unwrap();
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    for file in found {
        assert!(
            files.contains(&file.as_str()),
            "{file} is no route's function"
        );
    }
}

#[test]
fn the_openapi_description_is_what_the_code_generates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    let generated =
        serde_json::to_string_pretty(&notify::http::openapi::document()).unwrap() + "\n";
    if std::env::var_os("NOTIFY_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "docs/openapi.json is not what the code generates: run \
         NOTIFY_WRITE_OPENAPI=1 cargo test --test api the_openapi_description"
    );
}

#[test]
fn every_file_vercel_serves_from_public_is_served_locally_under_the_same_headers() {
    use notify::http::pages::{PAGE_POLICY, PAGES};
    let public = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    for entry in std::fs::read_dir(&public).unwrap().flatten() {
        let path = format!("/{}", entry.file_name().to_string_lossy());
        let (_, served, _) = PAGES
            .iter()
            .find(|(p, _, _)| *p == path)
            .unwrap_or_else(|| panic!("{path} is in public/ but `cargo run` does not serve it"));
        assert_eq!(*served, std::fs::read_to_string(entry.path()).unwrap());
    }
    let vercel: Value = serde_json::from_str(include_str!("../../vercel.json")).unwrap();
    let pages = vercel["headers"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["source"] == "/((?!api/).*)"))
        .expect("vercel.json sets the pages' headers on every path outside /api/");
    let header = |name: &str| {
        pages["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["key"] == name)
            .and_then(|h| h["value"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(
        header("Content-Security-Policy").as_deref(),
        Some(PAGE_POLICY)
    );
    assert_eq!(header("Referrer-Policy").as_deref(), Some("no-referrer"));
    assert_eq!(header("X-Content-Type-Options").as_deref(), Some("nosniff"));
}
