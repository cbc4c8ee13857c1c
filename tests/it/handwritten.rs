//! The deal, lead and activity KPIs of kpis/ by owner × month, written by
//! hand as plain Polars queries (one per dataset, joined on owner and
//! month), independent of kpi's planner. The differential test and the
//! `eval` benchmark both compare kpi's output with it value by value.

use polars::prelude::*;

pub const KPIS: &[&str] = &[
    "won_revenue",
    "won_deals",
    "lost_deals",
    "win_rate",
    "avg_deal_size",
    "gross_margin",
    "sales_cycle_days",
    "partner_revenue",
    "upsell_count",
    "lead_count",
    "lead_to_opportunity",
    "avg_lead_response_minutes",
    "contacted_within_5_min",
    "touches_before_meeting",
    "activity_count",
    "call_count",
];

fn month(c: &str) -> Expr {
    col(c)
        .cast(DataType::Date)
        .dt()
        .truncate(lit("1mo"))
        .alias("month")
}

fn ratio(a: Expr, b: Expr) -> Expr {
    when(b.clone().eq(lit(0.0)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(a / b)
}

/// The same KPIs, written by hand: one query per dataset, joined on (owner, month).
pub fn baseline(dir: &std::path::Path) -> PolarsResult<DataFrame> {
    let scan = |name: &str| {
        LazyFrame::scan_parquet(
            PlRefPath::new(dir.join(format!("{name}.parquet")).to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
    };
    let won = col("stage").eq(lit("won"));
    let num = |c: &str| col(c).cast(DataType::Float64);
    let deals = scan("deals")?
        .filter(col("closed_at").is_not_null())
        .group_by([col("owner"), month("closed_at")])
        .agg([
            num("amount").filter(won.clone()).sum().alias("won_revenue"),
            won.clone().cast(DataType::Float64).sum().alias("won_deals"),
            col("stage")
                .eq(lit("lost"))
                .cast(DataType::Float64)
                .sum()
                .alias("lost_deals"),
            (num("amount") - num("cost"))
                .filter(won.clone())
                .sum()
                .alias("gm"),
            num("amount")
                .filter(won.clone())
                .count()
                .cast(DataType::Float64)
                .alias("won_n"),
            ((col("closed_at").cast(DataType::Int32) - col("created_at").cast(DataType::Int32))
                .cast(DataType::Float64))
            .filter(won.clone())
            .mean()
            .alias("sales_cycle_days"),
            num("amount")
                .filter(won.clone().and(col("channel").eq(lit("partner"))))
                .sum()
                .alias("partner_revenue"),
            won.clone()
                .and(col("deal_type").eq(lit("upsell")))
                .cast(DataType::Float64)
                .sum()
                .alias("upsell_count"),
        ])
        .with_columns([
            ratio(col("won_deals"), col("won_deals") + col("lost_deals")).alias("win_rate"),
            ratio(col("won_revenue"), col("won_n")).alias("avg_deal_size"),
            ratio(col("gm"), col("won_revenue")).alias("gross_margin"),
        ]);
    let minutes = (col("first_contact_at").cast(DataType::Int64) - col("created_at").cast(DataType::Int64))
        .cast(DataType::Float64)
        / lit(60e6);
    let leads = scan("leads")?
        .group_by([col("owner"), month("created_at")])
        .agg([
            len().cast(DataType::Float64).alias("lead_count"),
            col("deal_id")
                .is_not_null()
                .cast(DataType::Float64)
                .sum()
                .alias("opp"),
            minutes.clone().mean().alias("avg_lead_response_minutes"),
            minutes
                .lt_eq(lit(5.0))
                .fill_null(lit(false))
                .cast(DataType::Float64)
                .sum()
                .alias("fast"),
            num("touches_before_meeting")
                .mean()
                .alias("touches_before_meeting"),
        ])
        .with_columns([
            ratio(col("opp"), col("lead_count")).alias("lead_to_opportunity"),
            ratio(col("fast"), col("lead_count")).alias("contacted_within_5_min"),
        ]);
    let acts = scan("activities")?.group_by([col("owner"), month("at")]).agg([
        len().cast(DataType::Float64).alias("activity_count"),
        col("type")
            .eq(lit("call"))
            .cast(DataType::Float64)
            .sum()
            .alias("call_count"),
    ]);
    let on = [col("owner"), col("month")];
    let all = deals
        .join(
            leads,
            on.clone(),
            on.clone(),
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .join(
            acts,
            on.clone(),
            on,
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        );
    let mut select = vec![col("owner"), col("month")];
    select.extend(KPIS.iter().map(|k| col(*k)));
    all.select(select)
        .sort(["owner", "month"], SortMultipleOptions::default())
        .collect()
}
