//! A small JSON reader shared by the tests: enough for the files our Go
//! programs write (no escapes, unsigned integers kept exact as u64).
#![allow(dead_code)]

#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Num(u64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, k: &str) -> &Json {
        match self {
            Json::Obj(v) => v.iter().find(|(n, _)| n == k).map(|(_, j)| j).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            j => panic!("not a string: {j:?}"),
        }
    }
    pub fn num(&self) -> usize {
        match self {
            Json::Num(n) => *n as usize,
            j => panic!("not a number: {j:?}"),
        }
    }
    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            j => panic!("not a bool: {j:?}"),
        }
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            j => panic!("not an array: {j:?}"),
        }
    }
    /// A "0x..." string as a number.
    pub fn hexnum(&self) -> u64 {
        u64::from_str_radix(self.str().trim_start_matches("0x"), 16).unwrap()
    }
    /// A hex string as bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let s = self.str().as_bytes();
        assert!(s.len() % 2 == 0);
        s.chunks(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap()).collect()
    }
}

pub struct Parser<'a> {
    pub s: &'a [u8],
    pub i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s[self.i], c, "JSON: expected {:?} at {}", c as char, self.i);
        self.i += 1;
    }
    pub fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(v);
                }
                loop {
                    self.ws();
                    let k = match self.value() {
                        Json::Str(s) => s,
                        j => panic!("JSON: key {j:?}"),
                    };
                    self.eat(b':');
                    v.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b'}' {
                        return Json::Obj(v);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b']' {
                        return Json::Arr(v);
                    }
                }
            }
            b'"' => {
                let start = self.i + 1;
                let len = self.s[start..].iter().position(|&c| c == b'"').unwrap();
                let s = std::str::from_utf8(&self.s[start..start + len]).unwrap();
                assert!(!s.contains('\\'), "JSON: escapes are not used by the generator");
                self.i = start + len + 1;
                Json::Str(s.to_owned())
            }
            b't' => {
                self.i += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Json::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                Json::Num(std::str::from_utf8(&self.s[start..self.i]).unwrap().parse().unwrap())
            }
        }
    }
}

impl Json {
    /// A number as u64 (exact: draws use the full range).
    pub fn u64(&self) -> u64 {
        match self {
            Json::Num(n) => *n,
            j => panic!("not a number: {j:?}"),
        }
    }
    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
    /// The fields of an object.
    pub fn fields(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(v) => v,
            j => panic!("not an object: {j:?}"),
        }
    }
}

/// Parses one JSON text.
pub fn parse(text: &[u8]) -> Json {
    Parser { s: text, i: 0 }.value()
}
