//! `${NAME}` references in string values, resolved before anything else reads them.

use crate::ConfigError;

/// Replace `${NAME}` in every string under `table`; `prefix` is the dotted key path so
/// far (sources are named by their `name`, not their index, when they have one).
pub(crate) fn interpolate_table(
    table: &mut toml::Table,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (k, v) in table.iter_mut() {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        interpolate_value(v, &path, env)?;
    }
    Ok(())
}

fn interpolate_value(v: &mut toml::Value, path: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    match v {
        toml::Value::String(s) => *s = interpolate_str(s, path, env)?,
        toml::Value::Table(t) => interpolate_table(t, path, env)?,
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let label = match item.get("name").and_then(|n| n.as_str()) {
                    Some(name) => format!("{path}.{name}"),
                    None => format!("{path}[{i}]"),
                };
                interpolate_value(item, &label, env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Resolve `${NAME}` in one string. `$$` is a literal `$`.
pub(crate) fn interpolate_str(s: &str, key: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| ConfigError::invalid(key, "has an unterminated `${`"))?;
            let var = &body[..end];
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(ConfigError::invalid(key, format!("has an invalid variable name `${{{var}}}`")));
            }
            let value =
                env(var).ok_or_else(|| ConfigError::MissingEnv { var: var.to_string(), key: key.to_string() })?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}
