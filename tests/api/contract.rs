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
    let schemas = &doc["components"]["schemas"];
    let mut documented: Vec<&str> = ["Error", "NotificationResult"]
        .iter()
        .flat_map(|schema| {
            schemas[schema]["properties"]["code"]["enum"]
                .as_array()
                .unwrap()
        })
        .map(|code| code.as_str().unwrap())
        .collect();
    documented.sort_unstable();
    let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(documented, codes);
}
