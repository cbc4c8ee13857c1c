//! Segments and KPIs.

use super::*;

impl Reader<'_> {
    pub(super) fn segment(&mut self, name: Name, node: &Node) -> Option<Segment> {
        // `enterprise: segment == "Enterprise"` is shorthand for `{where: …}`.
        if let NodeKind::Scalar { .. } = node.kind {
            let filter = self.expr(node);
            return Some(Segment {
                name,
                filter,
                title: None,
                description: None,
            });
        }
        let f = self.fields(node, &format!("segment `{}`", name.value), SEGMENT_KEYS)?;
        let filter = match f.get("where") {
            Some(n) => self.expr(n),
            None => {
                self.missing_key(
                    &f,
                    name.span,
                    "where",
                    &format!("segment `{}`", name.value),
                    "where: segment == \"Enterprise\"",
                );
                None
            }
        };
        Some(Segment {
            title: f.get("title").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            name,
            filter,
        })
    }

    pub(super) fn kpi(&mut self, name: Name, node: &Node) -> Option<Kpi> {
        let what = format!("KPI `{}`", name.value);
        let f = self.fields(node, &what, KPI_KEYS)?;
        let measure = match f.get("measure") {
            Some(n) => self.expr(n),
            None => {
                self.missing_key(&f, name.span, "measure", &what, "measure: sum(amount)");
                None
            }
        };
        let active = match f.get("active") {
            Some(n) => self.active(n),
            None => None,
        };
        Some(Kpi {
            title: f.get("title").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            dataset: f.get("dataset").and_then(|n| self.string(n)),
            measure,
            filter: f.get("where").and_then(|n| self.expr(n)),
            time: f.get("time").and_then(|n| self.string(n)),
            unit: f.get("unit").and_then(|n| self.keyword(n)),
            decimals: f
                .get("decimals")
                .and_then(|n| self.uint(n, "a number of decimals from 0 to 12", 0..=12)),
            direction: f.get("direction").and_then(|n| self.keyword(n)),
            indicator: f.get("indicator").and_then(|n| self.keyword(n)),
            owner: f.get("owner").and_then(|n| self.string(n)),
            tags: f.get("tags").map(|n| self.strings(n)).unwrap_or_default(),
            active,
            at: f.get("at").and_then(|n| self.keyword(n)),
            name,
        })
    }

    pub(super) fn active(&mut self, node: &Node) -> Option<Active> {
        let f = self.fields(node, "`active`", &["from", "to"])?;
        let Some(from) = f.get("from").and_then(|n| self.string(n)) else {
            if f.get("from").is_none() {
                self.missing_key(
                    &f,
                    node.span,
                    "from",
                    "`active`",
                    "active: {from: started_at, to: ended_at}",
                );
            }
            return None;
        };
        let to = f.get("to").and_then(|n| self.string(n));
        Some(Active {
            from,
            to,
            span: f.span,
        })
    }
}
