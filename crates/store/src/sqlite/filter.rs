//! [`CallFilter`] → a SQLite `WHERE` clause over `calls c`, every value a bound
//! parameter.

use crate::CallFilter;
use rusqlite::types::Value;

/// A `WHERE` clause (without the keyword; `1` when empty) and its parameters, in order.
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Where {
    fn and(&mut self, clause: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(clause);
    }

    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.params.push(v.into());
        format!("?{}", self.params.len())
    }

    fn any_of<'a>(&mut self, column: &str, values: impl Iterator<Item = &'a str>) {
        let marks: Vec<String> = values.map(|v| self.bind(v.to_string())).collect();
        if marks.is_empty() {
            return;
        }
        self.and(&format!("{column} IN ({})", marks.join(", ")));
    }

    /// Add an arbitrary clause with its parameters (used for the cursor).
    pub fn and_clause(&mut self, make: impl FnOnce(&mut Self) -> String) {
        let clause = make(self);
        self.and(&clause);
    }

    /// Bind one more value, returning its placeholder.
    pub fn param(&mut self, v: impl Into<Value>) -> String {
        self.bind(v)
    }

    /// The clause, `1` when nothing filters.
    pub fn sql(&self) -> &str {
        if self.sql.is_empty() { "1" } else { &self.sql }
    }
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A quoted FTS5 phrase: the whole text as one string (double quotes doubled), so no
/// character of it is read as query syntax.
fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Build the clause for `f`.
pub(crate) fn build(f: &CallFilter) -> Where {
    let mut w = Where::default();
    w.any_of("c.source", f.sources.iter().map(String::as_str));
    w.any_of("c.provider", f.providers.iter().map(|p| p.as_str()));
    w.any_of("c.direction", f.directions.iter().map(|d| d.as_str()));
    w.any_of("c.disposition", f.dispositions.iter().map(|d| d.as_str()));
    if let Some(since) = f.since {
        let p = w.bind(since.as_millisecond());
        w.and(&format!("c.started_at >= {p}"));
    }
    if let Some(until) = f.until {
        let p = w.bind(until.as_millisecond());
        w.and(&format!("c.started_at < {p}"));
    }
    if let Some(agent) = f.agent.as_deref().filter(|a| !a.is_empty()) {
        let p = w.bind(agent.to_string());
        w.and(&format!("(c.agent_id = {p} OR c.agent_name = {p})"));
    }
    if let Some(number) = f.number.as_deref().filter(|n| !n.is_empty()) {
        // A whole or partial number (e.g. the last four digits): a substring test. No
        // index on the numbers: they are random keys that would cost every insert a
        // page write, and a substring test could not use them anyway.
        let p = w.bind(number.to_string());
        w.and(&format!("(instr(c.caller_number, {p}) > 0 OR instr(c.callee_number, {p}) > 0)"));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() >= 3 {
            // Trigram FTS: any substring of three characters or more.
            let p = w.bind(fts_phrase(text));
            w.and(&format!("c.seq IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH {p})"));
        } else {
            // One or two characters are shorter than a trigram: scan the transcripts.
            let p = w.bind(format!("%{}%", like_escape(text)));
            w.and(&format!("c.seq IN (SELECT seq FROM call_transcripts WHERE text LIKE {p} ESCAPE '\\')"));
        }
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
    fn like_and_phrase_escaping() {
        assert_eq!(like_escape("50%_\\"), "50\\%\\_\\\\");
        assert_eq!(fts_phrase("a\"b"), "\"a\"\"b\"");
    }
}
