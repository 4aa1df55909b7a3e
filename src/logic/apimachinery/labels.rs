//! Label keys, values and selectors with the rules of apimachinery's `pkg/labels` and
//! `pkg/util/validation` (`IsQualifiedName`, `IsValidLabelValue`, `labels.Parse`), so a selector
//! kubectl rejects is rejected here before anything is sent.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

const NAME_MAX: usize = 63;
const PREFIX_MAX: usize = 253;

/// One syntactically valid name part: `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', starting and ending alphanumeric.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= PREFIX_MAX
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// Why a label key is invalid (`IsQualifiedName`), or `None` when it is valid.
pub fn label_key_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if name.contains('/') {
        return Some(format!(
            "invalid label key {key:?}: a qualified name has at most one '/'"
        ));
    }
    if prefix.is_some_and(|p| !is_dns1123_subdomain(p)) {
        return Some(format!(
            "invalid label key {key:?}: prefix part must be a lowercase DNS-1123 subdomain"
        ));
    }
    if name.is_empty() || name.len() > NAME_MAX || !is_name_part(name) {
        return Some(format!(
            "invalid label key {key:?}: name part must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric character"
        ));
    }
    None
}

/// Why a label value is invalid (`IsValidLabelValue`), or `None` when it is valid.
pub fn label_value_error(value: &str) -> Option<String> {
    if value.is_empty() || (value.len() <= NAME_MAX && is_name_part(value)) {
        None
    } else {
        Some(format!(
            "invalid label value {value:?}: must be empty or 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric character"
        ))
    }
}

/// Operators of a label requirement (`k8s.io/apimachinery/pkg/selection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

/// One requirement: `key op values`. `Equals`/`NotEquals` are stored as one-value `In`/`NotIn`,
/// which `Requirement.Matches` treats identically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    pub values: Vec<String>,
}

impl Requirement {
    /// Builds a requirement with the checks of `labels.NewRequirement`.
    pub fn new(key: &str, op: Op, values: Vec<String>) -> Result<Self, String> {
        if let Some(e) = label_key_error(key) {
            return Err(e);
        }
        match op {
            Op::In | Op::NotIn if values.is_empty() => {
                return Err(format!(
                    "{key}: for 'in', 'notin' operators, values set can't be empty"
                ));
            }
            Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                return Err(format!(
                    "{key}: values set must be empty for exists and does not exist"
                ));
            }
            Op::Gt | Op::Lt => {
                if values.len() != 1 {
                    return Err(format!(
                        "{key}: for 'Gt', 'Lt' operators, exactly one value is required"
                    ));
                }
                if parse_go_int(&values[0]).is_none() {
                    return Err(format!(
                        "{key}: for 'Gt', 'Lt' operators, the value must be an integer, not {:?}",
                        values[0]
                    ));
                }
            }
            _ => {}
        }
        if let Some(e) = values.iter().find_map(|v| label_value_error(v)) {
            return Err(e);
        }
        Ok(Requirement {
            key: key.to_string(),
            op,
            values,
        })
    }

    /// `Requirement.Matches`: NotIn and DoesNotExist match a missing key; Gt/Lt need an integer label.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            Op::In => value.is_some_and(|v| self.values.contains(v)),
            Op::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::Gt | Op::Lt => {
                let (Some(have), Some(want)) = (
                    value.and_then(|v| parse_go_int(v)),
                    self.values.first().and_then(|v| parse_go_int(v)),
                ) else {
                    return false;
                };
                if self.op == Op::Gt {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Op::In if self.values.len() == 1 => write!(f, "{}={}", self.key, self.values[0]),
            Op::NotIn if self.values.len() == 1 => write!(f, "{}!={}", self.key, self.values[0]),
            Op::In => write!(f, "{} in ({})", self.key, self.values.join(",")),
            Op::NotIn => write!(f, "{} notin ({})", self.key, self.values.join(",")),
            Op::Exists => write!(f, "{}", self.key),
            Op::DoesNotExist => write!(f, "!{}", self.key),
            Op::Gt => write!(f, "{}>{}", self.key, self.values.join(",")),
            Op::Lt => write!(f, "{}<{}", self.key, self.values.join(",")),
        }
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, no spaces.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A parsed selector: requirements ANDed. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

impl Selector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// `metav1.LabelSelectorAsSelector`: matchLabels as equalities plus matchExpressions.
    pub fn from_label_selector(sel: &LabelSelector) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            requirements.push(Requirement::new(k, Op::In, vec![v.clone()])?);
        }
        for e in sel.match_expressions.iter().flatten() {
            let op = match e.operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            };
            requirements.push(Requirement::new(
                &e.key,
                op,
                e.values.clone().unwrap_or_default(),
            )?);
        }
        Ok(Selector { requirements })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Comma,
    Bang,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    In,
    NotIn,
    Open,
    Close,
    End,
}

impl Token {
    fn literal(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::Comma => ",".into(),
            Token::Bang => "!".into(),
            Token::Eq => "=".into(),
            Token::DoubleEq => "==".into(),
            Token::NotEq => "!=".into(),
            Token::Gt => ">".into(),
            Token::Lt => "<".into(),
            Token::In => "in".into(),
            Token::NotIn => "notin".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::End => String::new(),
        }
    }

    /// In value position the keywords `in`/`notin` are ordinary identifiers.
    fn into_value(self) -> Token {
        match self {
            Token::In => Token::Ident("in".into()),
            Token::NotIn => Token::Ident("notin".into()),
            t => t,
        }
    }
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn symbol(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::Close,
        b"," => Token::Comma,
        b"!" => Token::Bang,
        b"==" => Token::DoubleEq,
        b"=" => Token::Eq,
        b">" => Token::Gt,
        b"<" => Token::Lt,
        b"!=" => Token::NotEq,
        b"(" => Token::Open,
        _ => return None,
    })
}

/// The lexer of `labels.Parse`: greedy special symbols, identifiers up to a symbol or space.
fn lex(input: &str) -> Result<Vec<Token>, String> {
    let b = input.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        if i >= b.len() {
            out.push(Token::End);
            return Ok(out);
        }
        if is_special(b[i]) {
            let start = i;
            let mut last: Option<(Token, usize)> = None;
            while i < b.len() && is_special(b[i]) {
                match symbol(&b[start..=i]) {
                    Some(t) => last = Some((t, i + 1)),
                    None if last.is_some() => break,
                    None => {}
                }
                i += 1;
            }
            match last {
                Some((t, end)) => {
                    out.push(t);
                    i = end;
                }
                None => {
                    return Err(format!(
                        "error expected: keyword found '{}'",
                        String::from_utf8_lossy(&b[start..i])
                    ));
                }
            }
        } else {
            let start = i;
            while i < b.len() && !is_special(b[i]) && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n')
            {
                i += 1;
            }
            let word = &input[start..i];
            out.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                w => Token::Ident(w.to_string()),
            });
        }
    }
}

/// Parses a selector string as `kubectl -l` does (`labels.Parse`): `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`.
pub fn parse_selector(input: &str) -> Result<Selector, String> {
    let tokens = lex(input).map_err(|e| format!("unable to parse requirement: {e}"))?;
    let mut p = Parser { tokens, pos: 0 };
    let mut requirements = Vec::new();
    loop {
        match p.peek_value() {
            Token::Ident(_) | Token::Bang => {
                let r = p
                    .requirement()
                    .map_err(|e| format!("unable to parse requirement: {e}"))?;
                requirements.push(r);
                match p.next_value() {
                    Token::End => return Ok(Selector { requirements }),
                    Token::Comma => match p.peek_value() {
                        Token::Ident(_) | Token::Bang => {}
                        t => {
                            return Err(format!(
                                "found '{}', expected: identifier after ','",
                                t.literal()
                            ));
                        }
                    },
                    t => {
                        return Err(format!(
                            "found '{}', expected: ',' or 'end of string'",
                            t.literal()
                        ));
                    }
                }
            }
            Token::End => return Ok(Selector { requirements }),
            t => {
                return Err(format!(
                    "found '{}', expected: !, identifier, or 'end of string'",
                    t.literal()
                ));
            }
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_value(&self) -> Token {
        self.tokens
            .get(self.pos)
            .cloned()
            .unwrap_or(Token::End)
            .into_value()
    }

    fn next_raw(&mut self) -> Token {
        let t = self.tokens.get(self.pos).cloned().unwrap_or(Token::End);
        self.pos += 1;
        t
    }

    fn next_value(&mut self) -> Token {
        self.next_raw().into_value()
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut negated = false;
        let mut tok = self.next_value();
        if tok == Token::Bang {
            negated = true;
            tok = self.next_value();
        }
        let Token::Ident(key) = tok else {
            return Err(format!("found '{}', expected: identifier", tok.literal()));
        };
        if let Some(e) = label_key_error(&key) {
            return Err(e);
        }
        if matches!(self.peek_value(), Token::End | Token::Comma) {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Requirement::new(&key, op, vec![]);
        }
        let op_tok = self.next_raw();
        let op = match op_tok {
            Token::In => Op::In,
            Token::NotIn => Op::NotIn,
            Token::Eq | Token::DoubleEq => Op::In,
            Token::NotEq => Op::NotIn,
            Token::Gt => Op::Gt,
            Token::Lt => Op::Lt,
            t => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.literal()
                ));
            }
        };
        // `!key op ...` is not valid: DoesNotExist takes no operator.
        if negated {
            return Err(format!(
                "found '{}', expected: ',' or 'end of string'",
                op_tok.literal()
            ));
        }
        let mut values = match op_tok {
            Token::In | Token::NotIn => self.values()?,
            _ => self.exact_value()?,
        };
        values.sort();
        values.dedup();
        Requirement::new(&key, op, values)
    }

    fn values(&mut self) -> Result<Vec<String>, String> {
        let tok = self.next_value();
        if tok != Token::Open {
            return Err(format!("found '{}' expected: '('", tok.literal()));
        }
        match self.peek_value() {
            Token::Close => {
                self.next_value();
                Ok(vec![String::new()])
            }
            Token::Ident(_) | Token::Comma => {
                let list = self.identifiers()?;
                let close = self.next_value();
                if close != Token::Close {
                    return Err(format!("found '{}', expected: ')'", close.literal()));
                }
                Ok(list)
            }
            t => Err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            )),
        }
    }

    fn identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = Vec::new();
        loop {
            match self.next_value() {
                Token::Ident(v) => {
                    out.push(v);
                    match self.peek_value() {
                        Token::Comma => continue,
                        Token::Close => return Ok(out),
                        t => {
                            return Err(format!("found '{}', expected: ',' or ')'", t.literal()));
                        }
                    }
                }
                Token::Comma => {
                    if out.is_empty() {
                        out.push(String::new());
                    }
                    match self.peek_value() {
                        Token::Close => {
                            out.push(String::new());
                            return Ok(out);
                        }
                        Token::Comma => out.push(String::new()),
                        _ => {}
                    }
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    ));
                }
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, String> {
        if matches!(self.peek_value(), Token::End | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.next_value() {
            Token::Ident(v) => Ok(vec![v]),
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator_kubectl_accepts() {
        let s = parse_selector("a=b,c==d,e!=f,g in (x, y),h notin (z),i,!j,k>3,l<10").unwrap();
        assert_eq!(s.requirements.len(), 9);
        let l = labels(&[
            ("a", "b"),
            ("c", "d"),
            ("e", "q"),
            ("g", "y"),
            ("i", ""),
            ("k", "4"),
            ("l", "9"),
        ]);
        assert!(s.matches(&l));
        assert_eq!(s.to_string(), "a=b,c=d,e!=f,g in (x,y),h!=z,i,!j,k>3,l<10");
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = parse_selector("  ").unwrap();
        assert!(s.is_empty());
        assert!(s.matches(&labels(&[])));
    }

    #[test]
    fn rejects_what_kubectl_rejects() {
        for bad in [
            "a=b,", ",a", "a b", "a in b", "a in (b", "a>x", "a=(b)", "!a=b", "a=b=c", "=b",
            "a in ()x", "-a=b", "a=-b", "a/b/c=d", "A.B/c=d", "a<>b", "a~b", "a!b",
        ] {
            assert!(parse_selector(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn accepts_empty_values_like_kubectl() {
        assert!(parse_selector("a=").unwrap().matches(&labels(&[("a", "")])));
        assert!(parse_selector("a in (,b)").is_ok());
        assert!(parse_selector("a in ()").is_ok());
        assert!(parse_selector("example.com/role in (in, notin)").is_ok());
    }

    #[test]
    fn gt_lt_need_integers_on_both_sides() {
        let r = Requirement::new("n", Op::Gt, vec!["5".into()]).unwrap();
        assert!(r.matches(&labels(&[("n", "6")])));
        assert!(!r.matches(&labels(&[("n", "5")])));
        assert!(!r.matches(&labels(&[("n", "six")])));
        assert!(!r.matches(&labels(&[])));
        assert!(Requirement::new("n", Op::Lt, vec!["five".into()]).is_err());
        assert!(Requirement::new("n", Op::Lt, vec!["1".into(), "2".into()]).is_err());
    }

    #[test]
    fn notin_and_doesnotexist_match_missing_keys() {
        let l = labels(&[]);
        assert!(
            Requirement::new("a", Op::NotIn, vec!["x".into()])
                .unwrap()
                .matches(&l)
        );
        assert!(
            Requirement::new("a", Op::DoesNotExist, vec![])
                .unwrap()
                .matches(&l)
        );
        assert!(
            !Requirement::new("a", Op::In, vec!["x".into()])
                .unwrap()
                .matches(&l)
        );
    }

    #[test]
    fn key_and_value_validation() {
        assert!(label_key_error("kubernetes.io/hostname").is_none());
        assert!(label_key_error("a_b.c-d").is_none());
        assert!(label_key_error("Example.com/x").is_some());
        assert!(label_key_error(&"a".repeat(64)).is_some());
        assert!(label_value_error("").is_none());
        assert!(label_value_error("v1.2_3-a").is_none());
        assert!(label_value_error("-x").is_some());
    }
}
