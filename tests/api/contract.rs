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

/// The schemas the code generates: each template's `data` from its fields, and
/// `SendNotificationRequest` as one request schema per template, chosen by `template`, so a
/// typed client checks each template's data.
fn generated_schemas() -> Vec<(String, Value)> {
    use notify::templates::TemplateName;
    let common = serde_json::json!({
        "to": {
            "type": "object",
            "additionalProperties": false,
            "minProperties": 1,
            "properties": {
                "email": {"type": "string"},
                "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$", "description": "E.164"}
            }
        },
        "sendAt": {
            "type": "string",
            "format": "date-time",
            "description": "send later: an RFC 3339 time with an offset, from one minute to 30 days ahead (202, scheduled); now when absent"
        },
        "timezone": {
            "type": "string",
            "description": "the patient's IANA time zone (e.g. America/Chicago), for quiet hours; the practice's (NOTIFY_TIMEZONE) when absent"
        },
        "urgent": {"type": "boolean", "description": "true: send even inside quiet hours"}
    });
    let mut schemas = Vec::new();
    let mut branches = Vec::new();
    let mut mapping = serde_json::Map::new();
    for &template in TemplateName::ALL {
        let name = format!("{template:?}");
        let data = format!("{name}Data");
        let request = format!("{name}Notification");
        let mut properties = common.as_object().unwrap().clone();
        properties.insert(
            "template".into(),
            serde_json::json!({"type": "string", "const": template.as_str()}),
        );
        properties.insert(
            "data".into(),
            serde_json::json!({"$ref": format!("#/components/schemas/{data}")}),
        );
        let reference = format!("#/components/schemas/{request}");
        branches.push(serde_json::json!({"$ref": reference}));
        mapping.insert(template.as_str().into(), reference.into());
        schemas.push((data, template.data_schema()));
        schemas.push((
            request,
            serde_json::json!({
                "type": "object",
                "description": template.description(),
                "additionalProperties": false,
                "required": ["template", "data", "to"],
                "properties": properties,
            }),
        ));
    }
    schemas.push((
        "SendNotificationRequest".into(),
        serde_json::json!({
            "oneOf": branches,
            "discriminator": {"propertyName": "template", "mapping": mapping},
        }),
    ));
    schemas
}

/// Where the description lists one of the API's closed sets of names, and the set from the
/// code: a new provider, status, template or error code reaches the description by itself.
fn generated_enums() -> Vec<(&'static str, Vec<&'static str>)> {
    use notify::names::{
        Channel, CredentialSource, HealthStatus, MessageStatus, Mode, Provider, StoreKind,
    };
    use notify::templates::{FieldKind, TemplateName};
    let providers: Vec<_> = Provider::ALL.iter().map(|p| p.as_str()).collect();
    let channels: Vec<_> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    let modes: Vec<_> = Mode::ALL.iter().map(|m| m.as_str()).collect();
    let statuses: Vec<_> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
    let templates: Vec<_> = TemplateName::ALL.iter().map(|t| t.as_str()).collect();
    // A notification's own codes, at its top level; every other code is an error's.
    let notification = [ErrorCode::PartiallySent, ErrorCode::NotificationFailed];
    vec![
        (
            "/components/schemas/ChannelHealth/properties/mode",
            modes.clone(),
        ),
        (
            "/components/schemas/ChannelHealth/properties/provider",
            providers.clone(),
        ),
        (
            "/components/schemas/ChannelHealth/properties/providers/items/properties/mode",
            modes.clone(),
        ),
        (
            "/components/schemas/ChannelHealth/properties/providers/items/properties/credentialSource",
            CredentialSource::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        (
            "/components/schemas/ChannelResult/oneOf/0/properties/provider",
            providers.clone(),
        ),
        (
            "/components/schemas/DeliveryEvent/properties/data/properties/channel",
            channels.clone(),
        ),
        (
            "/components/schemas/Error/properties/code",
            ErrorCode::ALL
                .iter()
                .filter(|c| !notification.contains(c))
                .map(|c| c.as_str())
                .collect(),
        ),
        (
            "/components/schemas/NotificationResult/properties/code",
            notification.iter().map(|c| c.as_str()).collect(),
        ),
        (
            "/components/schemas/Health/properties/status",
            HealthStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ),
        (
            "/components/schemas/Health/properties/store/properties/kind",
            StoreKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "/components/schemas/Message/properties/channel",
            channels.clone(),
        ),
        (
            "/components/schemas/Message/properties/provider",
            providers.clone(),
        ),
        (
            "/components/schemas/Message/properties/status",
            statuses.clone(),
        ),
        (
            "/components/schemas/MessageEvent/properties/type",
            statuses.clone(),
        ),
        (
            "/components/schemas/MessageRecipient/properties/status",
            statuses.clone(),
        ),
        (
            "/components/schemas/NotificationResult/properties/template",
            templates.clone(),
        ),
        (
            "/components/schemas/PreviewAllParts/properties/template",
            templates.clone(),
        ),
        (
            "/components/schemas/Sent/properties/provider",
            providers.clone(),
        ),
        (
            "/components/schemas/TemplateInfo/properties/channels/items",
            channels.clone(),
        ),
        (
            "/components/schemas/TemplateInfo/properties/fields/items/properties/type",
            FieldKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "/components/schemas/TemplateInfo/properties/name",
            templates.clone(),
        ),
        (
            "/paths/~1api~1messages/get/parameters/0/schema",
            channels.clone(),
        ),
        (
            "/paths/~1api~1messages/get/parameters/1/schema",
            statuses.clone(),
        ),
        (
            "/paths/~1api~1preview/parameters/0/schema",
            templates.clone(),
        ),
    ]
}

#[test]
fn the_openapi_description_is_what_the_code_generates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    let mut doc: Value = serde_json::from_str(&committed).unwrap();
    for (name, schema) in generated_schemas() {
        doc["components"]["schemas"][name] = schema;
    }
    for (pointer, names) in generated_enums() {
        let schema = doc
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("docs/openapi.json has nothing at {pointer}"));
        schema["enum"] = serde_json::json!(names);
    }
    let generated = serde_json::to_string_pretty(&doc).unwrap() + "\n";
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
