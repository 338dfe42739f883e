//! Text reports of scores for the terminal.

use backprop::metrics::{ClassificationMetrics, RegressionMetrics};

/// A text report of classification scores: accuracy, a per-class table and the confusion
/// matrix.
pub fn classification_text(m: &ClassificationMetrics) -> String {
    let width = m
        .per_class
        .iter()
        .map(|s| s.class.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "accuracy  {:.4}\nmacro F1  {:.4}\n\n",
        m.accuracy, m.macro_f1
    );
    out += &format!("{:>width$}  precision  recall      f1  support\n", "class");
    for s in &m.per_class {
        out += &format!(
            "{:>width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}\n",
            s.class, s.precision, s.recall, s.f1, s.support
        );
    }
    // Each predicted-class column as wide as its name or its largest count.
    let cells: Vec<usize> = m
        .per_class
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let count = m.confusion.iter().map(|row| row[c].to_string().len()).max();
            count.unwrap_or(1).max(s.class.chars().count())
        })
        .collect();
    out += "\nconfusion matrix (rows: true class, columns: predicted)\n";
    out += &format!("{:>width$}", "");
    for (s, cell) in m.per_class.iter().zip(&cells) {
        out += &format!(" {:>cell$}", s.class);
    }
    out.push('\n');
    for (s, row) in m.per_class.iter().zip(&m.confusion) {
        out += &format!("{:>width$}", s.class);
        for (count, cell) in row.iter().zip(&cells) {
            out += &format!(" {count:>cell$}");
        }
        out.push('\n');
    }
    out
}

/// A text report of regression scores.
pub fn regression_text(m: &RegressionMetrics) -> String {
    format!(
        "rmse  {:.6}\nmae   {:.6}\nr2    {:.6}\n",
        m.rmse, m.mae, m.r2
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::metrics;

    #[test]
    fn reports_name_every_score() {
        let classes: Vec<String> = ["a", "versicolor"].iter().map(|s| s.to_string()).collect();
        let text = classification_text(&metrics::classification(&[0, 1, 1], &[0, 1, 0], &classes));
        assert!(text.contains("accuracy  0.6667"), "{text}");
        assert!(text.contains("confusion matrix"), "{text}");
        let header = text
            .lines()
            .find(|l| l.contains("a versicolor"))
            .unwrap_or_default();
        assert!(
            header.ends_with("         a versicolor"),
            "class names are whole: {text}"
        );
        let text = regression_text(&metrics::regression(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(text.contains("rmse") && text.contains("r2"), "{text}");
    }
}
