//! ryanuber/columnize as Consul's CLI uses it: every column but the last padded to its widest
//! cell, columns joined by two spaces, no trailing newline.

/// Formats `rows` (the first is usually the header).
pub fn columnize(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            line
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell_and_the_last_is_not() {
        let rows = vec![
            vec!["Node".to_string(), "ID".to_string(), "State".to_string()],
            vec!["alice".to_string(), "1".to_string(), "leader".to_string()],
        ];
        assert_eq!(columnize(&rows), "Node   ID  State\nalice  1   leader");
    }
}
