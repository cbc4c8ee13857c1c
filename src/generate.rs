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

/// Every table of the data model, from one seed. The tables are drawn in
/// a fixed order from one generator, so a seed gives the same files.
pub fn generate(scale: usize, seed: u64) -> Vec<Table> {
    let mut rng = Rng::new(seed);
    let span = (date(START), date(END));
    let reps = reps(&mut rng, scale, span.0);
    let deals = deals(&mut rng, scale, &reps, span);
    let leads = leads(&mut rng, scale, &reps, &deals, span);
    let activities = activities(&mut rng, scale, &reps, &deals, &leads.id, span);
    let subscriptions = subscriptions(&mut rng, &deals, span.1);
    let months = month_starts(span.0, span.1);
    let spend = spend(&mut rng, scale, &months);
    let (quotas, forecasts) = quotas_and_forecasts(&mut rng, scale, &reps, &deals, &months);
    let csat = csat(&mut rng, &subscriptions, span.1);
    vec![
        deals.table(),
        leads.table(),
        activities,
        subscriptions.table(),
        spend,
        quotas,
        forecasts,
        csat,
        reps_table(&reps),
    ]
}

fn text(v: Vec<Option<String>>) -> Column {
    Column::Str(v)
}

fn reps(rng: &mut Rng, scale: usize, start: Date) -> Vec<Rep> {
    let n_reps = (scale / 250).clamp(8, 2_000);
    (0..n_reps)
        .map(|i| Rep {
            owner: format!("rep_{:03}", i + 1),
            team: format!("team_{}", (i % 4) + 1),
            region: REGIONS[i % 3],
            hired_at: start.add_days(-(rng.below(900) as i32)),
            skill: rng.lognormal(1.0, 0.25),
            speed: rng.lognormal(1.0, 0.6),
        })
        .collect()
}

fn reps_table(reps: &[Rep]) -> Table {
    Table {
        name: "reps",
        columns: vec![
            (
                "owner",
                text(reps.iter().map(|r| Some(r.owner.clone())).collect()),
            ),
            ("team", text(reps.iter().map(|r| Some(r.team.clone())).collect())),
            (
                "region",
                text(reps.iter().map(|r| Some(r.region.to_string())).collect()),
            ),
            (
                "hired_at",
                Column::Date(reps.iter().map(|r| Some(r.hired_at)).collect()),
            ),
        ],
    }
}

#[derive(Default)]
struct Deals {
    id: Vec<Option<String>>,
    account: Vec<Option<String>>,
    created: Vec<Option<Date>>,
    closed: Vec<Option<Date>>,
    stage: Vec<Option<String>>,
    amount: Vec<Option<f64>>,
    cost: Vec<Option<f64>>,
    owner: Vec<Option<String>>,
    team: Vec<Option<String>>,
    region: Vec<Option<String>>,
    product: Vec<Option<String>>,
    segment: Vec<Option<String>>,
    source: Vec<Option<String>>,
    channel: Vec<Option<String>>,
    partner: Vec<Option<String>>,
    kind: Vec<Option<String>>,
    lost: Vec<Option<String>>,
}

impl Deals {
    fn table(self) -> Table {
        Table {
            name: "deals",
            columns: vec![
                ("deal_id", text(self.id)),
                ("account_id", text(self.account)),
                ("created_at", Column::Date(self.created)),
                ("closed_at", Column::Date(self.closed)),
                ("stage", text(self.stage)),
                ("amount", Column::Num(self.amount)),
                ("cost", Column::Num(self.cost)),
                ("owner", text(self.owner)),
                ("team", text(self.team)),
                ("region", text(self.region)),
                ("product", text(self.product)),
                ("segment", text(self.segment)),
                ("lead_source", text(self.source)),
                ("channel", text(self.channel)),
                ("partner", text(self.partner)),
                ("deal_type", text(self.kind)),
                ("lost_reason", text(self.lost)),
            ],
        }
    }
}

fn deals(rng: &mut Rng, scale: usize, reps: &[Rep], (start, end): (Date, Date)) -> Deals {
    let mut d = Deals::default();
    let accounts = (scale / 3).max(10);
    for i in 0..scale {
        let rep = &reps[rng.below(reps.len())];
        let seg = rng.weighted(&SEGMENTS.map(|s| s.1));
        let (seg_name, _, median_amount, median_cycle) = SEGMENTS[seg];
        let (product, price) = PRODUCTS[rng.below(PRODUCTS.len())];
        let created = seasonal_day(rng, start, end);
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
        d.id.push(Some(format!("D{:07}", i + 1)));
        d.account.push(Some(format!("A{:06}", rng.below(accounts) + 1)));
        d.created.push(Some(created));
        d.closed.push(closed);
        d.stage.push(Some(stage.to_string()));
        d.amount.push(Some(amount));
        d.cost.push(Some((amount * (0.25 + 0.3 * rng.f())).round()));
        d.owner.push(Some(rep.owner.clone()));
        d.team.push(Some(rep.team.clone()));
        d.region.push(Some(rep.region.to_string()));
        d.product.push(Some(product.to_string()));
        d.segment.push(Some(seg_name.to_string()));
        d.source.push(Some(source.to_string()));
        let channel = if partner_channel { "partner" } else { "direct" };
        d.channel.push(Some(channel.to_string()));
        d.partner
            .push(partner_channel.then(|| rng.pick(&PARTNERS).to_string()));
        d.kind.push(Some(deal_type.to_string()));
        d.lost.push(lost.map(str::to_string));
    }
    d
}

#[derive(Default)]
struct Leads {
    id: Vec<Option<String>>,
    created: Vec<Option<DateTime>>,
    source: Vec<Option<String>>,
    owner: Vec<Option<String>>,
    region: Vec<Option<String>>,
    contact: Vec<Option<DateTime>>,
    qualified: Vec<Option<DateTime>>,
    meeting: Vec<Option<DateTime>>,
    touches: Vec<Option<f64>>,
    deal: Vec<Option<String>>,
}

impl Leads {
    fn table(self) -> Table {
        Table {
            name: "leads",
            columns: vec![
                ("lead_id", text(self.id)),
                ("created_at", Column::DateTime(self.created)),
                ("source", text(self.source)),
                ("owner", text(self.owner)),
                ("region", text(self.region)),
                ("first_contact_at", Column::DateTime(self.contact)),
                ("qualified_at", Column::DateTime(self.qualified)),
                ("first_meeting_at", Column::DateTime(self.meeting)),
                ("touches_before_meeting", Column::Num(self.touches)),
                ("deal_id", text(self.deal)),
            ],
        }
    }
}

/// Leads: one before most deals, the rest never become deals.
fn leads(rng: &mut Rng, scale: usize, reps: &[Rep], deals: &Deals, (start, end): (Date, Date)) -> Leads {
    let mut l = Leads::default();
    for i in 0..scale * 3 {
        let linked = (i % 3 == 0 && i / 3 < scale).then_some(i / 3);
        let (rep_name, region, created_day, source) = match linked {
            Some(d) => (
                deals.owner[d].clone().unwrap_or_default(),
                deals.region[d].clone().unwrap_or_default(),
                deals.created[d]
                    .unwrap_or(start)
                    .add_days(-(3 + rng.below(28) as i32)),
                deals.source[d].clone().unwrap_or_default(),
            ),
            None => {
                let rep = &reps[rng.below(reps.len())];
                (
                    rep.owner.clone(),
                    rep.region.to_string(),
                    seasonal_day(rng, start, end),
                    rng.pick(&SOURCES).to_string(),
                )
            }
        };
        let rep = reps.iter().find(|r| r.owner == rep_name).unwrap_or(&reps[0]);
        let created = at_time(created_day.max(start), rng);
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
        l.id.push(Some(format!("L{:07}", i + 1)));
        l.created.push(Some(created));
        l.source.push(Some(source));
        l.owner.push(Some(rep_name));
        l.region.push(Some(region));
        l.contact.push(contact);
        l.qualified.push(qualified);
        l.touches.push(meeting.map(|_| (2 + rng.below(9)) as f64));
        l.meeting.push(meeting);
        l.deal.push(linked.and_then(|d| deals.id[d].clone()));
    }
    l
}

fn activities(
    rng: &mut Rng,
    scale: usize,
    reps: &[Rep],
    deals: &Deals,
    lead_ids: &[Option<String>],
    (start, end): (Date, Date),
) -> Table {
    let n = scale * 5;
    let (mut id, mut at, mut owner) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut kind, mut lead, mut deal) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let rep = &reps[rng.below(reps.len())];
        let k = ACTIVITY_TYPES[rng.weighted(&ACTIVITY_TYPES.map(|a| a.1))].0;
        id.push(Some(format!("X{:08}", i + 1)));
        at.push(Some(at_time(seasonal_day(rng, start, end), rng)));
        owner.push(Some(rep.owner.clone()));
        kind.push(Some(k.to_string()));
        let link = rng.f();
        lead.push(
            (link < 0.3)
                .then(|| lead_ids[rng.below(lead_ids.len())].clone())
                .flatten(),
        );
        deal.push((link > 0.7).then(|| deals.id[rng.below(scale)].clone()).flatten());
    }
    Table {
        name: "activities",
        columns: vec![
            ("activity_id", text(id)),
            ("at", Column::DateTime(at)),
            ("owner", text(owner)),
            ("type", text(kind)),
            ("lead_id", text(lead)),
            ("deal_id", text(deal)),
        ],
    }
}

#[derive(Default)]
struct Subscriptions {
    customer: Vec<Option<String>>,
    start: Vec<Option<Date>>,
    end: Vec<Option<Date>>,
    mrr: Vec<Option<f64>>,
    segment: Vec<Option<String>>,
    region: Vec<Option<String>>,
    plan: Vec<Option<String>>,
}

impl Subscriptions {
    fn table(self) -> Table {
        Table {
            name: "subscriptions",
            columns: vec![
                ("customer_id", text(self.customer)),
                ("started_at", Column::Date(self.start)),
                ("ended_at", Column::Date(self.end)),
                ("mrr", Column::Num(self.mrr)),
                ("segment", text(self.segment)),
                ("region", text(self.region)),
                ("plan", text(self.plan)),
            ],
        }
    }
}

/// Subscriptions: one per new deal won.
fn subscriptions(rng: &mut Rng, deals: &Deals, end: Date) -> Subscriptions {
    let mut s = Subscriptions::default();
    for i in 0..deals.id.len() {
        if deals.stage[i].as_deref() != Some("won") || deals.kind[i].as_deref() != Some("new") {
            continue;
        }
        let Some(started) = deals.closed[i] else { continue };
        let months = rng.lognormal(30.0, 0.9);
        let ended = started.add_days((months * 30.4) as i32);
        s.customer.push(Some(format!("C{:07}", i + 1)));
        s.start.push(Some(started));
        s.end.push((ended <= end).then_some(ended));
        s.mrr.push(deals.amount[i].map(|a| (a / 12.0).round()));
        let seg = deals.segment[i].clone();
        let plan = match seg.as_deref() {
            Some("Enterprise") => "enterprise",
            Some("Mid-Market") => "pro",
            _ => "basic",
        };
        s.plan.push(Some(plan.to_string()));
        s.segment.push(seg);
        s.region.push(deals.region[i].clone());
    }
    s
}

/// Spend per month and channel.
fn spend(rng: &mut Rng, scale: usize, months: &[Date]) -> Table {
    let (mut month, mut channel, mut amount) = (Vec::new(), Vec::new(), Vec::new());
    for m in months {
        for (c, share) in [("direct", 0.5), ("partner", 0.2), ("marketing", 0.3)] {
            let base = scale as f64 * 90.0 * share * SEASON[m.month() as usize - 1];
            month.push(Some(*m));
            channel.push(Some(c.to_string()));
            amount.push(Some((base * (0.85 + 0.3 * rng.f())).round()));
        }
    }
    Table {
        name: "spend",
        columns: vec![
            ("month", Column::Date(month)),
            ("channel", text(channel)),
            ("amount", Column::Num(amount)),
        ],
    }
}

/// Quotas and forecasts per rep and month; forecasts follow what was won.
fn quotas_and_forecasts(
    rng: &mut Rng,
    scale: usize,
    reps: &[Rep],
    deals: &Deals,
    months: &[Date],
) -> (Table, Table) {
    let mut won_by: std::collections::HashMap<(String, i32, u32), f64> = std::collections::HashMap::new();
    for i in 0..deals.id.len() {
        if let (Some("won"), Some(c), Some(o), Some(a)) = (
            deals.stage[i].as_deref(),
            deals.closed[i],
            &deals.owner[i],
            deals.amount[i],
        ) {
            *won_by.entry((o.clone(), c.year(), c.month())).or_default() += a;
        }
    }
    let monthly_quota = scale as f64 * 13_000.0 / (reps.len() as f64 * months.len() as f64);
    let (mut owner, mut month, mut quotas, mut forecasts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for rep in reps {
        for m in months {
            let quota =
                (monthly_quota * rep.skill.sqrt() * SEASON[m.month() as usize - 1] / 100.0).round() * 100.0;
            let won = won_by
                .get(&(rep.owner.clone(), m.year(), m.month()))
                .copied()
                .unwrap_or(0.0);
            owner.push(Some(rep.owner.clone()));
            month.push(Some(*m));
            quotas.push(Some(quota));
            forecasts.push(Some(
                ((won * rng.lognormal(1.0, 0.2)).max(quota * 0.3) / 100.0).round() * 100.0,
            ));
        }
    }
    let per_rep_month = |name: &'static str, value: &'static str, values: Vec<Option<f64>>| Table {
        name,
        columns: vec![
            ("owner", text(owner.clone())),
            ("month", Column::Date(month.clone())),
            (value, Column::Num(values)),
        ],
    };
    (
        per_rep_month("quotas", "quota", quotas),
        per_rep_month("forecasts", "forecast", forecasts),
    )
}

/// CSAT answers from customers.
fn csat(rng: &mut Rng, subs: &Subscriptions, end: Date) -> Table {
    let (mut customer, mut at, mut score) = (Vec::new(), Vec::new(), Vec::new());
    for (i, cust) in subs.customer.iter().enumerate() {
        let Some(started) = subs.start[i] else { continue };
        let last = subs.end[i].unwrap_or(end);
        for _ in 0..1 + rng.below(3) {
            let span = (last.0 - started.0).max(1) as usize;
            let day = started.add_days(rng.below(span) as i32);
            customer.push(cust.clone());
            at.push(Some(at_time(day, rng)));
            score.push(Some(
                [1.0, 2.0, 3.0, 4.0, 5.0][rng.weighted(&[0.04, 0.08, 0.18, 0.4, 0.3])],
            ));
        }
    }
    Table {
        name: "csat",
        columns: vec![
            ("customer_id", text(customer)),
            ("at", Column::DateTime(at)),
            ("score", Column::Num(score)),
        ],
    }
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
