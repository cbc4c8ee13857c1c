//! `kpi report`: the charts (snapshotted on hand-checked values), the
//! numbers on the page (from a fixture computed by hand), escaping of a
//! hostile spec, determinism, and the page in headless Chromium with the
//! network cut off.

use kpi::keyword::Keyword;
use kpi::report::html::svg::{self, Gaps};

use crate::support::*;

#[test]
fn charts_of_hand_checked_values() {
    // January 10, February empty, March 30; target 25.
    let values = [Some(10.0), None, Some(30.0)];
    let gap = svg::sparkline("won by month", &values, Gaps::Gap, Some(25.0));
    let zero = svg::sparkline("won by month", &values, Gaps::Zero, None);
    // A ratio's empty month is a gap: two runs, each a single point.
    assert_eq!(gap.matches("<path").count(), 2);
    assert_eq!(gap.matches("class=\"dot\"").count(), 2);
    // A sum's empty month is 0: one line through three points; 10 of 0..30 is a third up.
    assert_eq!(zero.matches("<path").count(), 1);
    assert!(zero.contains("d=\"M4 30.67 L120 44 L236 4\""), "{zero}");
    // The target line at 25 on a 10..30 scale: 3/4 of the way up.
    assert!(gap.contains("y1=\"14\""), "{gap}");
    let statuses = [
        ("achieved", Some(120.0), None, None, 100.0),
        ("on track", Some(60.0), Some(50.0), Some(120.0), 100.0),
        ("at risk", Some(45.0), Some(50.0), Some(90.0), 100.0),
        ("off track", Some(20.0), Some(50.0), Some(40.0), 100.0),
        ("missed", Some(80.0), None, None, 100.0),
        ("upcoming", None, None, None, 100.0),
    ];
    let bullets: Vec<String> = statuses
        .iter()
        .map(|(s, a, e, p, t)| svg::bullet(s, *a, *e, *p, *t))
        .collect();
    let funnel = svg::funnel("leads", &[("created".into(), 100.0), ("won".into(), 25.0)]);
    assert!(funnel.contains("width=\"80\""), "a quarter of 320: {funnel}");
    insta::assert_snapshot!(format!("{gap}\n{zero}\n{}\n{funnel}", bullets.join("\n")));
}

const FIXTURE: &str = r#"
datasets:
  deals:
    source: deals.csv
    time: closed_at
    columns: {closed_at: date, amount: number, stage: string}
kpis:
  won_revenue: {title: Won revenue, dataset: deals, measure: sum(amount where stage == "won"), unit: currency, decimals: 0}
  lost_deals: {title: Lost deals, dataset: deals, measure: count(where stage == "lost"), direction: down, unit: count}
targets:
  march_revenue: {kpi: won_revenue, period: 2025-03, value: 500, objective: Fund hiring}
"#;

/// Deals: January won 100 and 200, one lost; February nothing; March won
/// 300 and 300, none lost. As of 2025-03-31 March is complete.
const DEALS: &str = "closed_at,amount,stage
2025-01-05,100,won
2025-01-20,200,won
2025-01-25,50,lost
2025-03-02,300,won
2025-03-30,300,won
";

fn fixture(spec: &str) -> std::path::PathBuf {
    let dir = temp_dir("report");
    std::fs::write(dir.join("spec.yaml"), spec).unwrap();
    std::fs::write(dir.join("deals.csv"), DEALS).unwrap();
    dir
}

fn report(dir: &std::path::Path, extra: &[&str]) -> String {
    report_and_notes(dir, extra).0
}

/// The page as of 2025-03-31, and what the command said on stderr.
fn report_and_notes(dir: &std::path::Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["--spec", dir.to_str().unwrap(), "report", "--as-of", "2025-03-31"];
    args.extend(extra);
    let out = kpi(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (String::from_utf8(out.stdout).unwrap(), err)
}

#[test]
fn the_page_shows_the_hand_computed_numbers() {
    let dir = fixture(FIXTURE);
    let html = report(&dir, &[]);
    // March: 600 won, against 0 in February: the change is from 0 (absolute).
    assert!(html.contains("<p class=\"value\">600</p>"), "{html}");
    assert!(html.contains("<p class=\"period\">2025-03</p>"));
    // Lost deals fell from 1 in January to 0 in February and stayed 0: flat in March.
    assert!(html.contains("▶"));
    // The target: 600 of 500 in March, achieved.
    assert!(html.contains("status achieved"), "{html}");
    assert!(html.contains("<dd>500</dd>"));
    // The compact table: every KPI by month, February's sum 0.
    assert!(html.contains("<th scope=\"col\" class=\"num\">2025-02</th>"));
    // The same inputs give the same bytes; --stamp adds the date.
    assert_eq!(html, report(&dir, &[]));
    assert!(report(&dir, &["--stamp"]).contains("Generated "));
}

/// A target per member lists every member, the null one (a deal with no
/// stage) as `(none)`, as the breakdowns show it: its row was left out of
/// the table while its status led the card and was counted in the summary
/// ("worst of 1 members: 1 missed, 1 achieved"). Each member has its own
/// bullet bar, and the card says the days left. By hand, March's won
/// revenue by stage: won 600 against 500, achieved; no stage 0 (its 40 is
/// not won), missed; as of March 31 no day is left.
#[test]
fn a_target_per_member_lists_the_null_member_with_a_bullet_each() {
    let spec = format!(
        "{FIXTURE}  per_stage: {{kpi: won_revenue, by: stage, period: 2025-03, value: 500, objective: x}}\n"
    );
    let dir = fixture(&spec);
    std::fs::write(dir.join("deals.csv"), format!("{DEALS}2025-03-10,40,\n")).unwrap();
    let html = report(&dir, &[]);
    let card = html
        .split("aria-label=\"target per_stage\"")
        .nth(1)
        .and_then(|c| c.split("</article>").next())
        .unwrap_or_else(|| panic!("no card of per_stage: {html}"));
    assert!(
        card.contains("worst of 2 members: 1 missed, 1 achieved · 0 days left"),
        "{card}"
    );
    let rows: Vec<&str> = card.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "{card}");
    assert!(
        rows[0].starts_with("<td>(none)</td><td><span class=\"status missed\">"),
        "{card}"
    );
    assert!(
        rows[1].starts_with("<td>won</td><td><span class=\"status achieved\">"),
        "{card}"
    );
    for row in rows {
        assert_eq!(row.matches("<svg class=\"bullet\"").count(), 1, "{row}");
    }
}

/// Names pick the page's cards, KPIs and funnels alike (a funnel's name was
/// refused as "no KPI is named"); every target stays.
#[test]
fn named_kpis_and_funnels_are_the_pages_cards() {
    let spec = format!(
        "{FIXTURE}funnels:\n  closing: {{dataset: deals, steps: [{{name: all}}, {{name: won, where: stage == \"won\"}}]}}\n  losing: {{dataset: deals, title: Deals lost, steps: [{{name: all}}, {{name: lost, where: stage == \"lost\"}}]}}\n"
    );
    let dir = fixture(&spec);
    let html = report(&dir, &["won_revenue", "closing"]);
    // A funnel is shown by its title, its name humanised by default (the
    // card showed the name, whatever `title:` said).
    assert!(html.contains("aria-label=\"funnel Closing\""), "{html}");
    assert!(html.contains("<h3>Closing</h3>"), "{html}");
    assert!(report(&dir, &["losing"]).contains("<h3>Deals lost</h3>"));
    // Two columns wide: its table's four columns fit without a scroll bar.
    assert!(html.contains("<article class=\"card funnel wide\""), "{html}");
    assert!(!html.contains("aria-label=\"funnel Deals lost\""), "{html}");
    // Funnels are of the whole range and every member together, which the
    // page says (under `--by` they looked like a breakdown's).
    assert!(
        html.contains("<p class=\"meta\">Each funnel over all of "),
        "{html}"
    );
    let by = report(&dir, &["closing", "--by", "stage"]);
    assert!(by.contains(", every stage together</p>"), "{by}");
    assert!(
        html.contains("Won revenue") && !html.contains("Lost deals"),
        "{html}"
    );
    assert!(html.contains("march_revenue"), "{html}");
    // None named: every KPI and every funnel.
    let all = report(&dir, &[]);
    assert!(all.contains("aria-label=\"funnel Deals lost\"") && all.contains("Lost deals"));
    // Cards under their first tag (humanised, as names are), else their
    // indicator, else "KPIs".
    let grouped = spec
        .replace(
            "direction: down, unit: count}",
            "direction: down, unit: count, indicator: leading}",
        )
        .replace(
            "unit: currency, decimals: 0}",
            "unit: currency, decimals: 0, tags: [new_revenue]}",
        );
    let html = report(&fixture(&grouped), &[]);
    let headings: Vec<&str> = html
        .split("<h2 id=\"group-")
        .skip(1)
        .filter_map(|h| h.split_once('>')?.1.split_once("</h2>").map(|(t, _)| t))
        .collect();
    assert_eq!(headings, ["New revenue", "Leading indicators"], "{html}");
    assert!(all.contains(">KPIs</h2>"), "{all}");
}

/// The compact table's row of a KPI: its cells, period by period.
fn table_row<'a>(html: &'a str, title: &str) -> Vec<&'a str> {
    let Some((_, row)) = html.split_once(&format!("<th scope=\"row\">{title}</th>")) else {
        panic!("no row {title}: {html}");
    };
    let row = row.split("</tr>").next().unwrap();
    row.split("<td class=\"num\">")
        .skip(1)
        .filter_map(|c| c.split_once("</td>").map(|(v, _)| v))
        .collect()
}

/// A page as of a day reads no data after it, as `kpi status` does: as of
/// 2025-03-10 March has won 300 (the deal of the 2nd; the one of the 30th
/// had not come), and as of February's end there is no March at all (as of
/// a day after the data, the data's months alone). The
/// funnel counts what had come by then too (4 deals, 3 won, by 2025-03-10).
#[test]
fn a_page_as_of_a_day_reads_no_data_after_it() {
    // Calls without a row: a KPI with no data adds no days to the page.
    let spec = format!(
        "{FIXTURE}funnels:\n  closing: {{dataset: deals, steps: [{{name: all}}, {{name: won, where: stage == \"won\"}}]}}\n"
    )
    .replace(
        "kpis:\n",
        "  calls: {source: calls.csv, time: at, columns: {at: date}}\nkpis:\n  calls: {dataset: calls, measure: count()}\n",
    );
    let dir = fixture(&spec);
    std::fs::write(dir.join("calls.csv"), "at\n").unwrap();
    let page = |as_of: &str| {
        let out = kpi(&["--spec", dir.to_str().unwrap(), "report", "--as-of", as_of]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let html = page("2025-03-10");
    assert_eq!(table_row(&html, "Won revenue"), ["300", "0", "300"], "{html}");
    assert!(html.contains("2025-01 to 2025-03"), "{html}");
    assert!(html.contains("<td>all</td><td class=\"num\">4</td>"), "{html}");
    let html = page("2025-02-28");
    assert_eq!(table_row(&html, "Won revenue"), ["300", "0"], "{html}");
    assert_eq!(table_row(&page("2025-03-31"), "Won revenue"), ["300", "0", "600"]);
    assert!(page("2025-01-31").contains("<span>Data: 2025-01</span>"));
    // After the data's end: no empty months are added.
    assert_eq!(table_row(&page("2025-12-31"), "Won revenue"), ["300", "0", "600"]);
}

/// A page of a range, with no `--as-of`, is as of the range's last day (or
/// the data's, if earlier): the report of January shows the targets as
/// they stood on 31 January, the monthly one January's (300 of 250,
/// achieved) and March's not begun. It was as of the data's last day, 30
/// March, showing March's targets beside January's numbers.
#[test]
fn a_page_of_a_range_is_as_of_its_end() {
    let spec = format!("{FIXTURE}  monthly: {{kpi: won_revenue, every: month, value: 250, objective: x}}\n");
    let dir = fixture(&spec);
    let page = |args: &[&str]| {
        let mut all = vec!["--spec", dir.to_str().unwrap(), "report"];
        all.extend(args);
        let out = kpi(&all);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let html = page(&["--period", "2025-01"]);
    assert!(html.contains("As of 2025-01-31"), "{html}");
    assert!(
        html.contains(
            "<p class=\"desc\">Won revenue · 2025-01</p>\n      <p><span class=\"status achieved\">"
        ),
        "{html}"
    );
    assert!(html.contains("<span class=\"status upcoming\">"), "{html}");
    // A range past the data's end is as of the data's last day; an as-of date given wins.
    assert!(page(&["--period", "2025"]).contains("As of 2025-03-30"));
    assert!(page(&["--period", "2025-01", "--as-of", "2025-03-31"]).contains("As of 2025-03-31"));
}

#[test]
fn a_fall_of_a_down_kpi_is_good_news() {
    let dir = fixture(FIXTURE);
    // As of February's end: lost deals 1 → 0 is a fall, shown green.
    let out = kpi(&[
        "--spec",
        dir.to_str().unwrap(),
        "report",
        "lost_deals",
        "--as-of",
        "2025-02-28",
    ]);
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        html.contains("<span class=\"good\" title=\"against the period before\">▼ -100.0%"),
        "{html}"
    );
}

/// A change from 0 has no percentage: it is the difference, written as the
/// KPI's values are (it was the raw double, `+1234.5`, `+0.30000000000000004`);
/// a percentage's gap to its target is in points.
#[test]
fn a_change_from_nothing_reads_as_the_kpis_values() {
    let dir = temp_dir("report-from-zero");
    let spec = r#"
datasets:
  deals: {source: deals.csv, time: closed_at}
kpis:
  won_revenue: {dataset: deals, measure: sum(amount where stage == "won"), unit: currency}
  lost_amount: {dataset: deals, measure: sum(amount where stage == "lost")}
  won_share: {dataset: deals, measure: count(where stage == "won") / count(), unit: percent}
targets:
  share: {kpi: won_share, period: 2025-02, value: 70%, objective: x}
  ahead: {kpi: won_share, period: 2025-01, value: 20%, objective: x}
"#;
    std::fs::write(dir.join("spec.yaml"), spec).unwrap();
    let deals = "closed_at,amount,stage\n2025-01-10,0,won\n2025-01-15,0,lost\n\
                 2025-02-10,1234.5,won\n2025-02-12,0.1,lost\n2025-02-15,0.2,lost\n";
    std::fs::write(dir.join("deals.csv"), deals).unwrap();
    let out = kpi(&["--spec", dir.to_str().unwrap(), "report", "--as-of", "2025-02-28"]);
    let html = String::from_utf8(out.stdout).unwrap();
    let previous = "title=\"against the period before\">▲";
    assert!(html.contains(&format!("{previous} +1,235 <small>")), "{html}");
    assert!(html.contains(&format!("{previous} +0.30 <small>")), "{html}");
    // February's won share is 1 of 3, 36.7 points short of 70% (it read `36.7%`).
    assert!(html.contains("<dt>Gap</dt><dd>36.7 pp</dd>"), "{html}");
    // January's 50% is past its 20% target: 30 points ahead (it read a gap of -30.0 pp).
    assert!(html.contains("<dt>Ahead by</dt><dd>30.0 pp</dd>"), "{html}");
}

#[test]
fn a_hostile_spec_is_escaped_and_intact() {
    let hostile = FIXTURE.replace(
        "title: Won revenue",
        "title: \"<script>alert('x')</script> & \\\"Ümlaut\\\" 📈 مبيعات\"",
    );
    let dir = fixture(&hostile);
    let html = report(&dir, &["--title", "Q1 <b>&</b>"]);
    assert!(!html.contains("<script>"), "raw script tag");
    assert!(!html.contains("<b>&</b>"));
    assert!(
        html.contains(
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; &quot;Ümlaut&quot; 📈 مبيعات"
        ),
        "{html}"
    );
    assert!(html.contains("Q1 &lt;b&gt;&amp;&lt;&#x2f;b&gt;"));
}

#[test]
fn the_page_is_written_whole_to_a_file() {
    let dir = fixture(FIXTURE);
    let file = dir.join("report.html");
    let out = kpi(&[
        "--spec",
        dir.to_str().unwrap(),
        "report",
        "--as-of",
        "2025-03-31",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
}

/// The shipped library and sample data, rendered by Chromium with every
/// host unresolvable: every KPI title and target (with its status) is on
/// the rendered page, and the page asks for nothing outside itself. The
/// screenshot is docs/report.png.
#[test]
fn the_report_renders_offline_in_chromium() {
    let out = kpi(&["report"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8(out.stdout).unwrap();
    for reference in ["src=", "href=", "url(", "@import", "<script"] {
        assert!(
            !html.contains(reference),
            "the page refers to something outside it: {reference}"
        );
    }
    let dir = temp_dir("chromium");
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let chromium = |extra: &[&str]| {
        std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("Chromium (scripts/services installs it)")
    };
    // Every request the page made, logged by the browser itself: only the page.
    let (requests, text) = page_requests(&page);
    assert_eq!(requests, [format!("file://{}", page.display())]);
    assert!(text.contains("Targets"), "{text}");
    let dom = chromium(&["--dump-dom"]);
    assert!(dom.status.success());
    let dom = String::from_utf8_lossy(&dom.stdout).to_string();
    let outcome = kpi::check_path(&root().join("kpis"), false);
    let model = &outcome.checked.model;
    for k in &model.kpis {
        let title = k.title.replace('&', "&amp;");
        assert!(dom.contains(&title), "KPI `{}` is not on the page", k.title);
    }
    let statuses = kpi::status::status(model, &[], None).unwrap();
    for t in &model.targets {
        assert!(
            dom.contains(&format!("aria-label=\"target {}\"", t.name)),
            "target {}",
            t.name
        );
        let last = statuses.iter().rfind(|r| r.target == t.name).unwrap();
        assert!(
            dom.contains(&format!("status {}", last.status.as_str())),
            "{}",
            t.name
        );
    }
    let png = root().join("docs/report.png");
    let shot = chromium(&[
        "--window-size=1280,1600",
        &format!("--screenshot={}", png.display()),
    ]);
    assert!(shot.status.success());
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
}

/// The URLs a page asks for while it loads in Chromium (offline), and its
/// rendered text, from tests/browser/page_requests.cjs (playwright-core,
/// installed by scripts/services).
fn page_requests(page: &std::path::Path) -> (Vec<String>, String) {
    let services = std::env::var_os("KPI_SERVICES").map_or_else(
        || std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kpi-services"),
        std::path::PathBuf::from,
    );
    let out = std::process::Command::new("node")
        .arg(root().join("tests/browser/page_requests.cjs"))
        .arg(format!("file://{}", page.display()))
        .env("NODE_PATH", services.join("npm/node_modules"))
        .output()
        .expect("Node.js");
    assert!(
        out.status.success(),
        "playwright-core (scripts/services installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    (requests, v["text"].as_str().unwrap().to_string())
}

#[test]
fn a_breakdown_by_member_and_a_template_of_ones_own() {
    let dir = fixture(FIXTURE);
    let html = report(&dir, &["--by", "stage"]);
    // Won revenue by stage over the whole range: 900 won, 0 lost.
    assert!(html.contains("<h2 id=\"breakdowns\">By stage</h2>"), "{html}");
    // Said to be the whole range, where the cards above are the last period.
    let range = html
        .split("<span>Data: ")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    assert!(
        html.contains(&format!(
            "<p class=\"meta\">Each KPI over all of {range}, not by month</p>"
        )),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>won</td><td class=\"num\">900</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>lost</td><td class=\"num\">0</td></tr>"),
        "{html}"
    );
    let template = dir.join("mine.html");
    std::fs::write(
        &template,
        "{% for g in groups %}{% for k in g.cards %}{{ k.title }}={{ k.value }};{% endfor %}{% endfor %}",
    )
    .unwrap();
    let own = report(&dir, &["--template", template.to_str().unwrap()]);
    assert_eq!(own, "Won revenue=600;Lost deals=0;");
    // A mistake in it is placed in its own file (it was `report.html`,
    // kpi's own template's name).
    std::fs::write(&template, "<p>\n{{ nonexistent.deep }}</p>").unwrap();
    let spec = dir.to_str().unwrap();
    let out = kpi(&["--spec", spec, "report", "--template", template.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kpi::template_error") && err.contains("mine.html:2"),
        "{err}"
    );
}

/// A unit-less KPI's values side by side have the same decimals, in the
/// table of every value (by period) and in a breakdown (by member), as a
/// table's column does: January's score of 4 beside February's 3.5 reads
/// `4.00` (it read `4` beside `3.50`).
#[test]
fn a_kpis_values_side_by_side_have_one_number_of_decimals() {
    let dir = temp_dir("report-decimals");
    std::fs::write(
        dir.join("spec.yaml"),
        "datasets:\n  r: {source: r.csv, time: at}\nkpis:\n  score: {dataset: r, measure: avg(x)}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("r.csv"),
        "at,x,who\n2025-01-10,4,a\n2025-02-10,3,b\n2025-02-11,4,b\n2025-03-01,5,a\n",
    )
    .unwrap();
    let html = report(&dir, &["--by", "who"]);
    assert!(
        html.contains("<td class=\"num\">4.00</td><td class=\"num\">3.50</td><td class=\"num\">5.00</td>"),
        "{html}"
    );
    // By member over the range: a's (4 + 5) / 2 = 4.5, b's 3.5.
    assert!(
        html.contains("<tr><td>a</td><td class=\"num\">4.50</td></tr>"),
        "{html}"
    );
}

/// A template of one's own is given every value docs/language.md lists
/// (§8, Templates), nested ones too: each name below renders as itself
/// only when the template has it.
#[test]
fn a_template_is_given_every_documented_value() {
    let spec = format!(
        "{FIXTURE}  by_stage: {{kpi: lost_deals, by: stage, period: 2025-03, value: 0, objective: x}}\nfunnels:\n  f:\n    dataset: deals\n    steps: [{{name: all}}, {{name: won, where: stage == \"won\"}}]\n"
    );
    let dir = fixture(&spec);
    let names = |of: &str, names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("{{% if {of}{n} is defined %}}{n},{{% endif %}}"))
            .collect()
    };
    let page = [
        "title",
        "range",
        "as_of",
        "grain",
        "stamp",
        "segments",
        "by",
        "groups",
        "targets",
        "funnels",
        "breakdowns",
        "periods",
        "rows",
    ];
    let group = ["name", "cards"];
    let card = [
        "name",
        "title",
        "description",
        "owner",
        "period",
        "value",
        "sparkline",
        "vs_previous",
        "vs_year",
    ];
    let change = ["text", "arrow", "tone"];
    let target = [
        "target",
        "kpi",
        "period",
        "status",
        "icon",
        "actual",
        "target_value",
        "expected",
        "projected",
        "gap",
        "ahead",
        "days_left",
        "bullet",
        "summary",
        "members",
    ];
    let member = ["member", "status", "icon", "actual", "target_value", "bullet"];
    let funnel = ["name", "title", "chart", "steps"];
    let step = ["step", "count", "conversion", "leakage"];
    let breakdown = ["kpi", "rows"];
    let template = [
        names("", &page),
        names("groups[0].", &group),
        names("groups[0].cards[0].", &card),
        names("groups[0].cards[0].vs_previous.", &change),
        names("targets[0].", &target),
        names("targets[1].members[0].", &member),
        names("funnels[0].", &funnel),
        names("funnels[0].steps[0].", &step),
        names("breakdowns[0].", &breakdown),
    ]
    .join("\n");
    let file = dir.join("all.j2");
    std::fs::write(&file, &template).unwrap();
    let out = report(
        &dir,
        &["--by", "stage", "--stamp", "--template", file.to_str().unwrap()],
    );
    let want: Vec<String> = [
        &page[..],
        &group,
        &card,
        &change,
        &target,
        &member,
        &funnel,
        &step,
        &breakdown,
    ]
    .iter()
    .map(|names| names.iter().map(|n| format!("{n},")).collect())
    .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want, "{out}");
}

/// A KPI that cannot take `--by` is left out of the breakdowns, said on
/// stderr as `kpi eval` says it (the page left it out without a word);
/// its card stays.
#[test]
fn a_kpi_the_breakdowns_leave_out_is_said() {
    let spec = format!("{FIXTURE}\n").replace(
        "kpis:\n",
        "  q: {source: q.csv, time: closed_at}\nkpis:\n  quota: {title: Quota, dataset: q, measure: sum(x)}\n",
    );
    let dir = fixture(&spec);
    std::fs::write(dir.join("q.csv"), "x,closed_at\n5,2025-03-01\n").unwrap();
    let (html, err) = report_and_notes(&dir, &["--by", "stage"]);
    assert!(
        err.contains("warning[kpi::left_out]: 1 KPI cannot take the query and is left out of the breakdowns")
            && err.contains("`quota` is left out: dimension `stage` is not on dataset `q`"),
        "{err}"
    );
    assert!(html.contains("aria-label=\"KPI Quota\""), "the card stays");
}

/// A page of a segment, none of its KPIs or funnels named: those whose
/// datasets lack the segment's column are left out and said on stderr (a
/// funnel stopped the whole page), and a target measured outside the
/// segment has no card on it, as `kpi status --segment` shows none.
/// Hand-computed: March's won deals of region "n" are 300.
#[test]
fn a_page_of_a_segment_leaves_out_what_it_cannot_measure() {
    let spec = format!("{FIXTURE}\n")
        .replace("stage: string}", "stage: string, region: string}")
        .replace(
            "kpis:\n",
            "  calls: {source: calls.csv, time: at}\nsegments:\n  north: {where: region == \"n\"}\nkpis:\n  call_count: {title: Calls, dataset: calls, measure: count()}\n",
        )
        .replace(
            "targets:\n",
            "funnels:\n  call_funnel:\n    dataset: calls\n    steps: [{name: made}]\ntargets:\n  north_revenue: {kpi: won_revenue, segment: north, period: 2025-03, value: 250, objective: x}\n",
        );
    let dir = fixture(&spec);
    std::fs::write(
        dir.join("deals.csv"),
        DEALS
            .replace("closed_at,amount,stage", "closed_at,amount,stage,region")
            .replace("2025-03-02,300,won", "2025-03-02,300,won,n")
            .replace("won\n", "won,s\n")
            .replace("lost\n", "lost,n\n"),
    )
    .unwrap();
    std::fs::write(dir.join("calls.csv"), "at\n2025-03-01\n").unwrap();
    let (html, err) = report_and_notes(&dir, &["--segment", "north"]);
    assert!(
        err.contains(
            "warning[kpi::left_out]: 1 KPI and 1 funnel cannot take the query and are left out of the page"
        ) && err.contains("`call_count` is left out")
            && err.contains("`call_funnel` is left out"),
        "{err}"
    );
    assert!(html.contains("aria-label=\"KPI Won revenue\""), "{html}");
    assert!(html.contains("<p class=\"value\">300</p>"), "{html}");
    assert!(
        !html.contains("aria-label=\"KPI Calls\"") && !html.contains("card funnel"),
        "{html}"
    );
    assert!(html.contains("aria-label=\"target north_revenue\""), "{html}");
    assert!(!html.contains("aria-label=\"target march_revenue\""), "{html}");
    // Without the segment every card is there.
    let html = report(&dir, &[]);
    for card in ["KPI Calls", "target march_revenue", "target north_revenue"] {
        assert!(html.contains(&format!("aria-label=\"{card}\"")), "{card}");
    }
    assert!(html.contains("card funnel"));
}
