//! `--name value` (or `--name=value`) flags, each optional with a default. Unknown flags are
//! refused, so a typo never silently runs the default benchmark.

use std::collections::HashMap;

use crate::Error;

/// The flags given on the command line.
#[derive(Debug)]
pub struct Flags(HashMap<String, String>);

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these flags.
    Run(Flags),
    /// `--help`: print the usage and stop.
    Help,
}

impl Flags {
    /// Reads `args` (without the program name), accepting only the flags in `known`.
    pub fn parse(args: impl IntoIterator<Item = String>, known: &[&str]) -> Result<Parsed, Error> {
        let mut values = HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Ok(Parsed::Help);
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}").into());
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args.next().ok_or_else(|| format!("--{flag} needs a value"))?;
                    (flag.to_owned(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name} (known: --{})", known.join(", --")).into());
            }
            values.insert(name, value);
        }
        Ok(Parsed::Run(Self(values)))
    }

    /// A positive whole number.
    pub fn count(&self, name: &str, default: usize) -> Result<usize, Error> {
        match self.0.get(name) {
            None => Ok(default),
            Some(raw) => positive(name, raw),
        }
    }

    /// A whole number, zero allowed.
    pub fn whole(&self, name: &str, default: usize) -> Result<usize, Error> {
        match self.0.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| format!("--{name} must be a whole number, not {raw:?}").into()),
        }
    }

    /// A comma-separated list of positive whole numbers.
    pub fn counts(&self, name: &str, default: &[usize]) -> Result<Vec<usize>, Error> {
        match self.0.get(name) {
            None => Ok(default.to_vec()),
            Some(raw) => raw.split(',').map(|part| positive(name, part.trim())).collect(),
        }
    }
}

fn positive(name: &str, raw: &str) -> Result<usize, Error> {
    raw.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("--{name} must be a positive whole number, not {raw:?}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, Error> {
        Flags::parse(args.iter().map(|a| (*a).to_owned()), &["small", "concurrency"])
    }

    #[test]
    fn both_spellings_and_defaults() {
        let Parsed::Run(flags) = parse(&["--small", "10", "--concurrency=1,4"]).unwrap() else { panic!() };
        assert_eq!(flags.count("small", 1).unwrap(), 10);
        assert_eq!(flags.counts("concurrency", &[1]).unwrap(), [1, 4]);
        let Parsed::Run(flags) = parse(&[]).unwrap() else { panic!() };
        assert_eq!(flags.count("small", 7).unwrap(), 7);
    }

    #[test]
    fn typos_and_nonsense_are_refused() {
        assert!(parse(&["--smal", "10"]).is_err());
        assert!(parse(&["--small"]).is_err());
        assert!(parse(&["small"]).is_err());
        let Parsed::Run(flags) = parse(&["--small", "0"]).unwrap() else { panic!() };
        assert!(flags.count("small", 1).is_err());
        assert_eq!(flags.whole("small", 1).unwrap(), 0);
        assert!(matches!(parse(&["--help"]).unwrap(), Parsed::Help));
    }
}
