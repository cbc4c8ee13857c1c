//! `kpi schema`: the generated JSON Schema is valid (a real validator
//! compiles it against its metaschema), every shipped spec that `kpi check`
//! accepts validates, and specs with a wrong shape are rejected by both.

use std::path::{Path, PathBuf};

use kpi::spec::schema::{schema, Draft};

use crate::support::{check_str, kpi, root};

fn compile(draft: Draft) -> (boon::Schemas, boon::SchemaIndex) {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let loc = "https://kpi.dev/schema/spec.json";
    compiler.add_resource(loc, schema(draft)).unwrap();
    let index = compiler
        .compile(loc, &mut schemas)
        .unwrap_or_else(|e| panic!("{e:#}"));
    (schemas, index)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn errors(schemas: &boon::Schemas, index: boon::SchemaIndex, text: &str) -> Option<String> {
    let Ok(Some(value)) = kpi::spec::yaml_to_json(text) else {
        return None;
    };
    schemas.validate(&value, index).err().map(|e| format!("{e:#}"))
}

#[test]
fn every_valid_spec_validates_against_both_drafts() {
    let mut files = Vec::new();
    for d in ["kpis", "examples", "tests"] {
        yaml_files(&root().join(d), &mut files);
    }
    for draft in [Draft::Draft202012, Draft::Draft07] {
        let (schemas, index) = compile(draft);
        let mut validated = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            // A spec file is one that `kpi check` accepts on its own (a
            // workflow or a corpus case of errors is not).
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let spec_like = text.contains("kpis:")
                || text.contains("datasets:")
                || text.contains("targets:")
                || text.contains("tests:");
            if !spec_like || f.components().any(|c| c.as_os_str() == "ci") {
                continue;
            }
            let outcome = check_str(&name, &text);
            let shape_errors = outcome
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .any(|d| SHAPE.contains(&d.code));
            if shape_errors {
                continue;
            }
            if let Some(e) = errors(&schemas, index, &text) {
                panic!("{} should validate ({draft:?}):\n{e}", f.display());
            }
            validated += 1;
        }
        assert!(validated >= 10, "only {validated} specs validated");
    }
}

/// Codes for a spec of the wrong shape, which the schema also rejects.
const SHAPE: &[&str] = &[
    "kpi::yaml_syntax",
    "kpi::wrong_type",
    "kpi::unknown_key",
    "kpi::missing_key",
    "kpi::invalid_name",
    "kpi::invalid_value",
    "kpi::invalid_number",
    "kpi::yaml_multiple_documents",
    "kpi::duplicate_key",
    "kpi::unsupported_version",
    // A change written as a number (`0.15`) is no text, as the schema says.
    "kpi::invalid_change",
];

#[test]
fn specs_of_the_wrong_shape_are_rejected_by_the_schema_and_the_checker() {
    let cases = [
        (
            "unknown KPI key",
            "kpis:\n  a: {measure: count(), dataset: d, colour: red}\n",
        ),
        (
            "unit not in the enum",
            "kpis:\n  a: {measure: count(), dataset: d, unit: euros}\n",
        ),
        (
            "decimals as text",
            "kpis:\n  a: {measure: count(), dataset: d, decimals: two}\n",
        ),
        ("a KPI without a measure", "kpis:\n  a: {dataset: d}\n"),
        ("datasets as a list", "datasets:\n  - deals\n"),
        (
            "an upper-case name",
            "kpis:\n  WinRate: {measure: count(), dataset: d}\n",
        ),
        (
            "a month that does not exist",
            "calendar:\n  fiscal_year_start: 13\n",
        ),
        (
            "a week start that is not a day",
            "calendar:\n  week_start: friday\n",
        ),
        (
            "a funnel step without a name",
            "funnels:\n  f:\n    dataset: d\n    steps:\n      - {where: x > 1}\n",
        ),
        (
            "a target grain that is not one",
            "targets:\n  t: {kpi: a, every: fortnight, value: 1}\n",
        ),
        (
            "a column type that is not one",
            "datasets:\n  d:\n    source: d.csv\n    columns: {a: integer}\n",
        ),
        ("an unknown top-level key", "kpi:\n  a: {measure: count()}\n"),
    ];
    for draft in [Draft::Draft202012, Draft::Draft07] {
        let (schemas, index) = compile(draft);
        for (what, text) in cases {
            assert!(
                errors(&schemas, index, text).is_some(),
                "{what}: the schema accepts it ({draft:?})"
            );
            let outcome = check_str("case.yaml", text);
            assert!(outcome.errors() > 0, "{what}: kpi check accepts it");
        }
    }
}

#[test]
fn the_cli_prints_the_schema_with_enums_and_descriptions() {
    let out = kpi(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let units = &v["$defs"]["kpi"]["properties"]["unit"]["enum"];
    assert!(units.as_array().unwrap().iter().any(|u| u == "currency"));
    assert!(v["$defs"]["kpi"]["properties"]["measure"].is_object());
    let statuses = &v["$defs"]["test"]["properties"]["status"]["enum"];
    assert!(statuses.as_array().unwrap().iter().any(|s| s == "on_track"));
    let out = kpi(&["schema", "--draft", "07"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(v["definitions"]["dataset"]["description"].is_string());
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json")).unwrap();
    let sarif_schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    // `uri` is a URI reference: a file name with a space or a `%` must be encoded.
    compiler.enable_format_assertions();
    let loc = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
    compiler.add_resource(loc, sarif_schema).unwrap();
    let index = compiler
        .compile(loc, &mut schemas)
        .unwrap_or_else(|e| panic!("{e:#}"));
    // A spec with errors and warnings in several files, and a clean one.
    let dir = crate::support::temp_dir("sarif");
    std::fs::write(
        dir.join("a.yaml"),
        "datasets:\n  d: {source: d.csv, columns: {amount: number}}\nkpis:\n  k: {dataset: d, measure: sum(amout)}\n  w: {dataset: d, measure: count(where region == \"EU\")}\n",
    )
    .unwrap();
    // `w` defined twice: a result with a related location in a.yaml.
    std::fs::write(
        dir.join("b 100%.yaml"),
        "kpis:\n  x: {measure: 'k +'}\n  w: {measure: k}\n",
    )
    .unwrap();
    for spec in [dir.to_str().unwrap(), "kpis"] {
        let out = kpi(&["--spec", spec, "check", "--format", "sarif"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Err(e) = schemas.validate(&v, index) {
            panic!("{spec}: {e:#}\n{v:#}");
        }
    }
    let out = kpi(&["--spec", dir.to_str().unwrap(), "check", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 3);
    let twice = results
        .iter()
        .find(|r| r["ruleId"] == "kpi::duplicate_name")
        .unwrap();
    let first = &twice["relatedLocations"][0]["physicalLocation"];
    assert!(
        first["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("a.yaml"),
        "{twice:#}"
    );
    assert_eq!(first["region"]["startLine"], 5, "{twice:#}");
    let uri = twice["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with("/b%20100%25.yaml"), "{twice:#}");
}

#[test]
fn the_schema_that_spec_headers_name_is_current() {
    // kpis/ and examples/crm/ name docs/kpi.schema.json on their first line.
    for spec in ["kpis/datasets.yaml", "examples/crm/spec.yaml"] {
        let first = std::fs::read_to_string(root().join(spec)).unwrap();
        let first = first.lines().next().unwrap();
        let rel = first.strip_prefix("# yaml-language-server: $schema=").unwrap();
        let named = root().join(spec).parent().unwrap().join(rel);
        assert!(named.exists(), "{spec} names {rel}");
    }
    let out = kpi(&["schema", "--draft", "07"]);
    let committed = std::fs::read_to_string(root().join("docs/kpi.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "docs/kpi.schema.json is stale: kpi schema --draft 07 -o docs/kpi.schema.json"
    );
}
