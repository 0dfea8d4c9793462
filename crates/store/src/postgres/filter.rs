//! [`CallFilter`] → a PostgreSQL `WHERE` clause over `calls c`, every value a bound
//! parameter (`$n`); lists bind as one array (`= ANY($n)`).

use crate::CallFilter;
use tokio_postgres::types::ToSql;

/// A bound value.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// A `WHERE` clause (without the keyword; `TRUE` when empty) and its parameters.
#[derive(Default)]
pub(crate) struct Where {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Where {
    fn and(&mut self, clause: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(clause);
    }

    /// Bind one more value, returning its placeholder.
    pub fn param(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(v));
        format!("${}", self.params.len())
    }

    fn any_of<'a>(&mut self, column: &str, values: impl Iterator<Item = &'a str>) {
        let list: Vec<String> = values.map(str::to_string).collect();
        if list.is_empty() {
            return;
        }
        let p = self.param(list);
        self.and(&format!("{column} = ANY({p})"));
    }

    /// Add an arbitrary clause with its parameters (used for the cursor).
    pub fn and_clause(&mut self, make: impl FnOnce(&mut Self) -> String) {
        let clause = make(self);
        self.and(&clause);
    }

    /// The clause, `TRUE` when nothing filters.
    pub fn sql(&self) -> &str {
        if self.sql.is_empty() { "TRUE" } else { &self.sql }
    }

    /// The parameters as the driver takes them.
    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
    }
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Build the clause for `f`.
pub(crate) fn build(f: &CallFilter) -> Where {
    let mut w = Where::default();
    w.any_of("c.source", f.sources.iter().map(String::as_str));
    w.any_of("c.provider", f.providers.iter().map(|p| p.as_str()));
    w.any_of("c.direction", f.directions.iter().map(|d| d.as_str()));
    w.any_of("c.disposition", f.dispositions.iter().map(|d| d.as_str()));
    if let Some(since) = f.since {
        let p = w.param(since.as_millisecond());
        w.and(&format!("c.started_at >= {p}"));
    }
    if let Some(until) = f.until {
        let p = w.param(until.as_millisecond());
        w.and(&format!("c.started_at < {p}"));
    }
    if let Some(agent) = f.agent.as_deref().filter(|a| !a.is_empty()) {
        // Either column equal; written so that the `calls_agents` GIN index serves it.
        let p = w.param(agent.to_string());
        w.and(&format!("ARRAY[c.agent_id, c.agent_name] @> ARRAY[{p}::text]"));
    }
    if let Some(number) = f.number.as_deref().filter(|n| !n.is_empty()) {
        // Caller or callee, whole or partial (e.g. the last four digits).
        let p = w.param(number.to_string());
        w.and(&format!("(strpos(c.caller_number, {p}) > 0 OR strpos(c.callee_number, {p}) > 0)"));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // Substring, case-insensitive, any length; the pg_trgm index (when installed)
        // serves patterns of three characters or more.
        let p = w.param(format!("%{}%", like_escape(text)));
        w.and(&format!("c.transcript ILIKE {p} ESCAPE '\\'"));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_reach_the_sql_text() {
        let f = CallFilter {
            sources: vec!["x'); DROP TABLE calls; --".into()],
            agent: Some("' OR 1=1 --".into()),
            number: Some("1' OR '1'='1".into()),
            text: Some("\" OR * NEAR".into()),
            ..CallFilter::default()
        };
        let w = build(&f);
        assert!(!w.sql.contains("DROP") && !w.sql.contains("1=1") && !w.sql.contains("NEAR"), "{}", w.sql);
        assert_eq!(w.params.len(), 4);
    }

    #[test]
    fn like_escaping() {
        assert_eq!(like_escape("50%_\\"), "50\\%\\_\\\\");
    }
}
