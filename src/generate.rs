//! A deterministic generator of the standard sales data model, for the
//! bundled sample and for benchmarks: lognormal amounts, segment-dependent
//! cycle lengths, seasonality, reps who differ, some nulls.
//!
//! `scale` is the number of deals; leads are three times and activities five
//! times as many. The same seed and scale give the same bytes.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::time::{Date, DateTime, MICROS_PER_DAY};

/// First and last day of generated activity.
pub const START: (i32, u32, u32) = (2023, 1, 1);
pub const END: (i32, u32, u32) = (2025, 11, 15);

/// A column of generated values.
pub enum Column {
    Str(Vec<Option<String>>),
    Num(Vec<Option<f64>>),
    Date(Vec<Option<Date>>),
    DateTime(Vec<Option<DateTime>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Num(v) => v.len(),
            Column::Date(v) => v.len(),
            Column::DateTime(v) => v.len(),
        }
    }
}

pub struct Table {
    pub name: &'static str,
    pub columns: Vec<(&'static str, Column)>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// CSV with a header; empty fields are nulls; numbers print as written.
    pub fn write_csv(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let header: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        writeln!(out, "{}", header.join(","))?;
        let mut line = String::new();
        for r in 0..self.rows() {
            line.clear();
            for (i, (_, c)) in self.columns.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                match c {
                    Column::Str(v) => {
                        if let Some(s) = &v[r] {
                            if s.contains([',', '"', '\n']) {
                                let _ = write!(line, "\"{}\"", s.replace('"', "\"\""));
                            } else {
                                line.push_str(s);
                            }
                        }
                    }
                    Column::Num(v) => {
                        if let Some(x) = v[r] {
                            let _ = write!(line, "{}", crate::syntax::print::number(x));
                        }
                    }
                    Column::Date(v) => {
                        if let Some(d) = v[r] {
                            let _ = write!(line, "{d}");
                        }
                    }
                    Column::DateTime(v) => {
                        if let Some(d) = v[r] {
                            let _ = write!(line, "{d}");
                        }
                    }
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// SplitMix64: small, fast and reproducible across platforms.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.f() * n as f64) as usize % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }

    pub fn normal(&mut self) -> f64 {
        let u1 = self.f().max(1e-12);
        let u2 = self.f();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Lognormal with the given median.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

const REGIONS: [&str; 3] = ["NA", "EMEA", "APAC"];
const PRODUCTS: [(&str, f64); 5] = [
    ("Core", 1.0),
    ("Analytics", 1.4),
    ("Platform", 2.2),
    ("Connect", 0.7),
    ("Insights", 1.1),
];
const SEGMENTS: [(&str, f64, f64, f64); 3] = [
    // name, share, median amount, median cycle days
    ("SMB", 0.55, 8_000.0, 25.0),
    ("Mid-Market", 0.30, 30_000.0, 50.0),
    ("Enterprise", 0.15, 120_000.0, 100.0),
];
const SOURCES: [&str; 5] = ["web", "referral", "event", "outbound", "partner"];
const PARTNERS: [&str; 8] = [
    "Acme Partners",
    "Bluebird",
    "Crestline",
    "Dynamo",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
];
const LOST_REASONS: [&str; 5] = ["price", "competitor", "no_decision", "timing", "features"];
const OPEN_STAGES: [&str; 4] = ["prospecting", "qualified", "proposal", "negotiation"];
const ACTIVITY_TYPES: [(&str, f64); 5] = [
    ("call", 0.40),
    ("email", 0.35),
    ("meeting", 0.10),
    ("demo", 0.05),
    ("social", 0.10),
];
/// Deals created per month, relative (a strong Q4, a quiet August).
const SEASON: [f64; 12] = [0.85, 0.9, 1.05, 1.0, 1.0, 0.95, 0.85, 0.7, 1.05, 1.1, 1.2, 1.25];

struct Rep {
    owner: String,
    team: String,
    region: &'static str,
    hired_at: Date,
    /// Multiplies the win rate.
    skill: f64,
    /// Multiplies lead response time.
    speed: f64,
}

fn date(ymd: (i32, u32, u32)) -> Date {
    Date::from_ymd(ymd.0, ymd.1, ymd.2).unwrap_or(Date(0))
}

/// A day in [start, end], weighted by the season of its month.
fn seasonal_day(rng: &mut Rng, start: Date, end: Date) -> Date {
    loop {
        let d = start.add_days(rng.below((end.0 - start.0 + 1) as usize) as i32);
        if rng.f() * 1.25 < SEASON[d.month() as usize - 1] {
            return d;
        }
    }
}

fn at_time(d: Date, rng: &mut Rng) -> DateTime {
    // Working hours, 8:00 to 18:00.
    let secs = 8 * 3600 + rng.below(10 * 3600) as i64;
    DateTime(d.at_midnight().0 + secs * 1_000_000)
}

fn month_starts(start: Date, end: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut m = Date::from_ymd(start.year(), start.month(), 1).unwrap_or(start);
    while m <= end {
        out.push(m);
        m = m.add_months(1);
    }
    out
}

/// All tables of the data model.
/// The tables [`generate`] makes, by name (and so the files it writes).
pub const TABLES: [&str; 9] = [
    "deals",
    "leads",
    "activities",
    "subscriptions",
    "spend",
    "quotas",
    "forecasts",
    "csat",
    "reps",
];

pub fn generate(scale: usize, seed: u64) -> Vec<Table> {
    let mut rng = Rng::new(seed);
    let (start, end) = (date(START), date(END));
    let n_reps = (scale / 250).clamp(8, 2_000);
    let reps: Vec<Rep> = (0..n_reps)
        .map(|i| Rep {
            owner: format!("rep_{:03}", i + 1),
            team: format!("team_{}", (i % 4) + 1),
            region: REGIONS[i % 3],
            hired_at: start.add_days(-(rng.below(900) as i32)),
            skill: rng.lognormal(1.0, 0.25),
            speed: rng.lognormal(1.0, 0.6),
        })
        .collect();

    // Deals.
    let mut d_id = Vec::new();
    let mut d_account = Vec::new();
    let mut d_created = Vec::new();
    let mut d_closed = Vec::new();
    let mut d_stage = Vec::new();
    let mut d_amount = Vec::new();
    let mut d_cost = Vec::new();
    let mut d_owner = Vec::new();
    let mut d_team = Vec::new();
    let mut d_region = Vec::new();
    let mut d_product = Vec::new();
    let mut d_segment = Vec::new();
    let mut d_source = Vec::new();
    let mut d_channel = Vec::new();
    let mut d_partner = Vec::new();
    let mut d_type = Vec::new();
    let mut d_lost = Vec::new();
    let accounts = (scale / 3).max(10);
    for i in 0..scale {
        let rep = &reps[rng.below(reps.len())];
        let seg = rng.weighted(&SEGMENTS.map(|s| s.1));
        let (seg_name, _, median_amount, median_cycle) = SEGMENTS[seg];
        let (product, price) = PRODUCTS[rng.below(PRODUCTS.len())];
        let created = seasonal_day(&mut rng, start, end);
        let cycle = rng.lognormal(median_cycle, 0.5).round().max(1.0) as i32;
        let amount = (rng.lognormal(median_amount * price, 0.6) / 10.0).round() * 10.0;
        let source = *rng.pick(&SOURCES);
        let partner_channel = source == "partner" || rng.chance(0.08);
        let deal_type = ["new", "upsell", "renewal"][rng.weighted(&[0.7, 0.2, 0.1])];
        let closes = created.add_days(cycle);
        let (stage, closed, lost) = if closes <= end {
            let base = [0.32, 0.26, 0.2][seg] * if deal_type == "new" { 1.0 } else { 1.5 };
            if rng.chance((base * rep.skill).min(0.9)) {
                ("won", Some(closes), None)
            } else {
                ("lost", Some(closes), Some(*rng.pick(&LOST_REASONS)))
            }
        } else {
            (*rng.pick(&OPEN_STAGES), None, None)
        };
        d_id.push(Some(format!("D{:07}", i + 1)));
        d_account.push(Some(format!("A{:06}", rng.below(accounts) + 1)));
        d_created.push(Some(created));
        d_closed.push(closed);
        d_stage.push(Some(stage.to_string()));
        d_amount.push(Some(amount));
        d_cost.push(Some((amount * (0.25 + 0.3 * rng.f())).round()));
        d_owner.push(Some(rep.owner.clone()));
        d_team.push(Some(rep.team.clone()));
        d_region.push(Some(rep.region.to_string()));
        d_product.push(Some(product.to_string()));
        d_segment.push(Some(seg_name.to_string()));
        d_source.push(Some(source.to_string()));
        d_channel.push(Some(
            if partner_channel { "partner" } else { "direct" }.to_string(),
        ));
        d_partner.push(partner_channel.then(|| rng.pick(&PARTNERS).to_string()));
        d_type.push(Some(deal_type.to_string()));
        d_lost.push(lost.map(str::to_string));
    }

    // Leads: one before most deals, the rest never become deals.
    let n_leads = scale * 3;
    let mut l_id = Vec::with_capacity(n_leads);
    let mut l_created = Vec::with_capacity(n_leads);
    let mut l_source = Vec::with_capacity(n_leads);
    let mut l_owner = Vec::with_capacity(n_leads);
    let mut l_region = Vec::with_capacity(n_leads);
    let mut l_contact = Vec::with_capacity(n_leads);
    let mut l_qualified = Vec::with_capacity(n_leads);
    let mut l_meeting = Vec::with_capacity(n_leads);
    let mut l_touches = Vec::with_capacity(n_leads);
    let mut l_deal = Vec::with_capacity(n_leads);
    for i in 0..n_leads {
        let linked = (i % 3 == 0 && i / 3 < scale).then_some(i / 3);
        let (rep_name, region, created_day, source) = match linked {
            Some(d) => {
                let created = d_created[d]
                    .unwrap_or(start)
                    .add_days(-(3 + rng.below(28) as i32));
                (
                    d_owner[d].clone().unwrap_or_default(),
                    d_region[d].clone().unwrap_or_default(),
                    created,
                    d_source[d].clone().unwrap_or_default(),
                )
            }
            None => {
                let rep = &reps[rng.below(reps.len())];
                (
                    rep.owner.clone(),
                    rep.region.to_string(),
                    seasonal_day(&mut rng, start, end),
                    rng.pick(&SOURCES).to_string(),
                )
            }
        };
        let rep = reps.iter().find(|r| r.owner == rep_name).unwrap_or(&reps[0]);
        let created = at_time(created_day.max(start), &mut rng);
        let contacted = linked.is_some() || rng.chance(0.82);
        let contact = contacted.then(|| {
            let minutes = rng.lognormal(25.0 * rep.speed, 1.3).max(0.5);
            DateTime(created.0 + (minutes * 60.0).round() as i64 * 1_000_000)
        });
        let qualified = contact
            .filter(|_| linked.is_some() || rng.chance(0.35))
            .map(|c| DateTime(c.0 + rng.below(5) as i64 * MICROS_PER_DAY + 3_600_000_000));
        let meeting = qualified
            .filter(|_| linked.is_some() || rng.chance(0.55))
            .map(|q| DateTime(q.0 + (1 + rng.below(7)) as i64 * MICROS_PER_DAY));
        l_id.push(Some(format!("L{:07}", i + 1)));
        l_created.push(Some(created));
        l_source.push(Some(source));
        l_owner.push(Some(rep_name));
        l_region.push(Some(region));
        l_contact.push(contact);
        l_qualified.push(qualified);
        l_touches.push(meeting.map(|_| (2 + rng.below(9)) as f64));
        l_meeting.push(meeting);
        l_deal.push(linked.and_then(|d| d_id[d].clone()));
    }

    // Activities.
    let n_acts = scale * 5;
    let mut a_id = Vec::with_capacity(n_acts);
    let mut a_at = Vec::with_capacity(n_acts);
    let mut a_owner = Vec::with_capacity(n_acts);
    let mut a_type = Vec::with_capacity(n_acts);
    let mut a_lead = Vec::with_capacity(n_acts);
    let mut a_deal = Vec::with_capacity(n_acts);
    for i in 0..n_acts {
        let rep = &reps[rng.below(reps.len())];
        let kind = ACTIVITY_TYPES[rng.weighted(&ACTIVITY_TYPES.map(|a| a.1))].0;
        a_id.push(Some(format!("X{:08}", i + 1)));
        a_at.push(Some(at_time(seasonal_day(&mut rng, start, end), &mut rng)));
        a_owner.push(Some(rep.owner.clone()));
        a_type.push(Some(kind.to_string()));
        let link = rng.f();
        a_lead.push((link < 0.3).then(|| l_id[rng.below(n_leads)].clone()).flatten());
        a_deal.push((link > 0.7).then(|| d_id[rng.below(scale)].clone()).flatten());
    }

    // Subscriptions: one per new deal won.
    let mut s_customer = Vec::new();
    let mut s_start = Vec::new();
    let mut s_end = Vec::new();
    let mut s_mrr = Vec::new();
    let mut s_segment = Vec::new();
    let mut s_region = Vec::new();
    let mut s_plan = Vec::new();
    for i in 0..scale {
        if d_stage[i].as_deref() != Some("won") || d_type[i].as_deref() != Some("new") {
            continue;
        }
        let Some(started) = d_closed[i] else { continue };
        let months = rng.lognormal(30.0, 0.9);
        let ended = started.add_days((months * 30.4) as i32);
        s_customer.push(Some(format!("C{:07}", i + 1)));
        s_start.push(Some(started));
        s_end.push((ended <= end).then_some(ended));
        s_mrr.push(d_amount[i].map(|a| (a / 12.0).round()));
        let seg = d_segment[i].clone();
        s_plan.push(Some(
            match seg.as_deref() {
                Some("Enterprise") => "enterprise",
                Some("Mid-Market") => "pro",
                _ => "basic",
            }
            .to_string(),
        ));
        s_segment.push(seg);
        s_region.push(d_region[i].clone());
    }

    let months = month_starts(start, end);
    // Spend per month and channel.
    let mut sp_month = Vec::new();
    let mut sp_channel = Vec::new();
    let mut sp_amount = Vec::new();
    for m in &months {
        for (channel, share) in [("direct", 0.5), ("partner", 0.2), ("marketing", 0.3)] {
            let base = scale as f64 * 90.0 * share * SEASON[m.month() as usize - 1];
            sp_month.push(Some(*m));
            sp_channel.push(Some(channel.to_string()));
            sp_amount.push(Some((base * (0.85 + 0.3 * rng.f())).round()));
        }
    }

    // Quotas and forecasts per rep and month; forecasts follow what was won.
    let mut won_by: std::collections::HashMap<(String, i32, u32), f64> = std::collections::HashMap::new();
    for i in 0..scale {
        if let (Some("won"), Some(c), Some(o), Some(a)) =
            (d_stage[i].as_deref(), d_closed[i], &d_owner[i], d_amount[i])
        {
            *won_by.entry((o.clone(), c.year(), c.month())).or_default() += a;
        }
    }
    let monthly_quota = scale as f64 * 13_000.0 / (reps.len() as f64 * months.len() as f64);
    let (mut q_owner, mut q_month, mut q_quota) = (Vec::new(), Vec::new(), Vec::new());
    let (mut f_owner, mut f_month, mut f_forecast) = (Vec::new(), Vec::new(), Vec::new());
    for rep in &reps {
        for m in &months {
            let quota =
                (monthly_quota * rep.skill.sqrt() * SEASON[m.month() as usize - 1] / 100.0).round() * 100.0;
            q_owner.push(Some(rep.owner.clone()));
            q_month.push(Some(*m));
            q_quota.push(Some(quota));
            let won = won_by
                .get(&(rep.owner.clone(), m.year(), m.month()))
                .copied()
                .unwrap_or(0.0);
            f_owner.push(Some(rep.owner.clone()));
            f_month.push(Some(*m));
            f_forecast.push(Some(
                ((won * rng.lognormal(1.0, 0.2)).max(quota * 0.3) / 100.0).round() * 100.0,
            ));
        }
    }

    // CSAT answers from customers.
    let (mut c_customer, mut c_at, mut c_score) = (Vec::new(), Vec::new(), Vec::new());
    for (i, cust) in s_customer.iter().enumerate() {
        let Some(started) = s_start[i] else { continue };
        let last = s_end[i].unwrap_or(end);
        let answers = 1 + rng.below(3);
        for _ in 0..answers {
            let span = (last.0 - started.0).max(1) as usize;
            let day = started.add_days(rng.below(span) as i32);
            c_customer.push(cust.clone());
            c_at.push(Some(at_time(day, &mut rng)));
            c_score.push(Some(
                [1.0, 2.0, 3.0, 4.0, 5.0][rng.weighted(&[0.04, 0.08, 0.18, 0.4, 0.3])],
            ));
        }
    }

    let s = |v: Vec<Option<String>>| Column::Str(v);
    vec![
        Table {
            name: "deals",
            columns: vec![
                ("deal_id", s(d_id)),
                ("account_id", s(d_account)),
                ("created_at", Column::Date(d_created)),
                ("closed_at", Column::Date(d_closed)),
                ("stage", s(d_stage)),
                ("amount", Column::Num(d_amount)),
                ("cost", Column::Num(d_cost)),
                ("owner", s(d_owner)),
                ("team", s(d_team)),
                ("region", s(d_region)),
                ("product", s(d_product)),
                ("segment", s(d_segment)),
                ("lead_source", s(d_source)),
                ("channel", s(d_channel)),
                ("partner", s(d_partner)),
                ("deal_type", s(d_type)),
                ("lost_reason", s(d_lost)),
            ],
        },
        Table {
            name: "leads",
            columns: vec![
                ("lead_id", s(l_id)),
                ("created_at", Column::DateTime(l_created)),
                ("source", s(l_source)),
                ("owner", s(l_owner)),
                ("region", s(l_region)),
                ("first_contact_at", Column::DateTime(l_contact)),
                ("qualified_at", Column::DateTime(l_qualified)),
                ("first_meeting_at", Column::DateTime(l_meeting)),
                ("touches_before_meeting", Column::Num(l_touches)),
                ("deal_id", s(l_deal)),
            ],
        },
        Table {
            name: "activities",
            columns: vec![
                ("activity_id", s(a_id)),
                ("at", Column::DateTime(a_at)),
                ("owner", s(a_owner)),
                ("type", s(a_type)),
                ("lead_id", s(a_lead)),
                ("deal_id", s(a_deal)),
            ],
        },
        Table {
            name: "subscriptions",
            columns: vec![
                ("customer_id", s(s_customer)),
                ("started_at", Column::Date(s_start)),
                ("ended_at", Column::Date(s_end)),
                ("mrr", Column::Num(s_mrr)),
                ("segment", s(s_segment)),
                ("region", s(s_region)),
                ("plan", s(s_plan)),
            ],
        },
        Table {
            name: "spend",
            columns: vec![
                ("month", Column::Date(sp_month)),
                ("channel", s(sp_channel)),
                ("amount", Column::Num(sp_amount)),
            ],
        },
        Table {
            name: "quotas",
            columns: vec![
                ("owner", s(q_owner)),
                ("month", Column::Date(q_month)),
                ("quota", Column::Num(q_quota)),
            ],
        },
        Table {
            name: "forecasts",
            columns: vec![
                ("owner", s(f_owner)),
                ("month", Column::Date(f_month)),
                ("forecast", Column::Num(f_forecast)),
            ],
        },
        Table {
            name: "csat",
            columns: vec![
                ("customer_id", s(c_customer)),
                ("at", Column::DateTime(c_at)),
                ("score", Column::Num(c_score)),
            ],
        },
        Table {
            name: "reps",
            columns: vec![
                ("owner", s(reps.iter().map(|r| Some(r.owner.clone())).collect())),
                ("team", s(reps.iter().map(|r| Some(r.team.clone())).collect())),
                (
                    "region",
                    s(reps.iter().map(|r| Some(r.region.to_string())).collect()),
                ),
                (
                    "hired_at",
                    Column::Date(reps.iter().map(|r| Some(r.hired_at)).collect()),
                ),
            ],
        },
    ]
}

/// Writes every table as `DIR/NAME.csv`, each file whole or not at all.
pub fn write_csv(tables: &[Table], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for t in tables {
        crate::report::write_output(&dir.join(format!("{}.csv", t.name)), |w| {
            let mut buf = std::io::BufWriter::new(w);
            t.write_csv(&mut buf)?;
            buf.flush()
        })?;
    }
    Ok(())
}
