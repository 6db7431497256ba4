//! What labs type in pods besides curl and fortio: `sh -c 'A | B; C &&
//! D; exit N'`, and the little programs every image with a shell has —
//! `echo`, `sleep`, `cat /etc/hostname`, `hostname`, `env`, `true`,
//! `false`. Words are split as sh splits them (quotes, backslashes);
//! a program no image has gets the shell's `sh: X: not found` (127).

use crate::exec::Exec;
use crate::k8s::PodId;
use crate::sim::SimDuration;
use crate::world::World;

/// The programs of [`builtin`].
pub(super) fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "echo" | "true" | "false" | "hostname" | "cat" | "env" | "printenv" | "sleep"
    )
}

/// Runs a builtin program, if `name` is one.
pub(super) fn builtin(world: &mut World, pod: PodId, name: &str, args: &[String]) -> Option<Exec> {
    let ok = |stdout: String| Exec {
        stdout: stdout.into_bytes(),
        stderr: Vec::new(),
        code: 0,
    };
    Some(match name {
        "echo" => match args.split_first() {
            Some((flag, rest)) if flag == "-n" => ok(rest.join(" ")),
            _ => ok(format!("{}\n", args.join(" "))),
        },
        "true" => ok(String::new()),
        "false" => Exec {
            code: 1,
            ..ok(String::new())
        },
        "hostname" => ok(format!("{}\n", world.cluster.pod(pod).name)),
        "cat" => cat(world, pod, args),
        "env" | "printenv" => ok(environment(world, pod)),
        "sleep" => match args.first().and_then(|s| duration(s)) {
            Some(d) => {
                // The pod sleeps on the cluster's clock.
                world.advance_by(d);
                ok(String::new())
            }
            None => Exec::fail(
                format!("sleep: invalid time interval '{}'", args.join(" ")),
                1,
            ),
        },
        _ => return None,
    })
}

fn cat(world: &World, pod: PodId, args: &[String]) -> Exec {
    let mut out = String::new();
    for file in args {
        match file.as_str() {
            "/etc/hostname" => out.push_str(&format!("{}\n", world.cluster.pod(pod).name)),
            other => return Exec::fail(format!("cat: {other}: No such file or directory"), 1),
        }
    }
    Exec {
        stdout: out.into_bytes(),
        stderr: Vec::new(),
        code: 0,
    }
}

/// The container's environment: what the kubelet sets (hostname, the
/// `kubernetes` Service, each Service of the namespace as Docker links
/// would — left out here) and the container's own `env` values.
fn environment(world: &World, pod: PodId) -> String {
    let p = world.cluster.pod(pod);
    let mut vars = vec![
        (
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        ),
        ("HOSTNAME".to_string(), p.name.clone()),
        (
            "KUBERNETES_SERVICE_HOST".to_string(),
            "10.96.0.1".to_string(),
        ),
        ("KUBERNETES_SERVICE_PORT".to_string(), "443".to_string()),
    ];
    if let Some(c) = p.template.spec.containers.first() {
        vars.extend(
            c.env
                .iter()
                .filter_map(|e| Some((e.name.clone(), e.value.clone()?))),
        );
    }
    vars.push(("HOME".to_string(), "/root".to_string()));
    vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// `sleep`'s argument: seconds, or with an s/m/h suffix.
fn duration(s: &str) -> Option<SimDuration> {
    let (number, scale) = match s.char_indices().last()? {
        (i, 's') => (&s[..i], 1.0),
        (i, 'm') => (&s[..i], 60.0),
        (i, 'h') => (&s[..i], 3600.0),
        _ => (s, 1.0),
    };
    let secs: f64 = number.parse().ok()?;
    (secs >= 0.0 && secs.is_finite()).then(|| SimDuration::from_secs_f64(secs * scale))
}

/// A token of a script: a word, or an operator.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Pipe,
    /// `;` or a newline.
    Then,
    /// `&&`.
    And,
}

/// Splits a script as sh does: blanks separate words, quotes group them,
/// `|`, `;` and `&&` are operators outside quotes.
fn tokens(script: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = script.chars().peekable();
    let push = |out: &mut Vec<Token>, word: &mut Option<String>| {
        if let Some(w) = word.take() {
            out.push(Token::Word(w));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => push(&mut out, &mut word),
            '\n' | ';' => {
                push(&mut out, &mut word);
                out.push(Token::Then);
            }
            '|' => {
                push(&mut out, &mut word);
                out.push(Token::Pipe);
            }
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                push(&mut out, &mut word);
                out.push(Token::And);
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("sh: syntax error: unterminated quoted string".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => {
                                return Err("sh: syntax error: unterminated quoted string".into());
                            }
                        },
                        Some(c) => w.push(c),
                        None => return Err("sh: syntax error: unterminated quoted string".into()),
                    }
                }
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    word.get_or_insert_with(String::new).push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    push(&mut out, &mut word);
    Ok(out)
}

/// `sh -c SCRIPT`: each command (a pipeline) in turn; `&&` runs the next
/// only after a success; `exit N` ends the script.
pub(super) fn sh(world: &mut World, pod: PodId, image: &str, args: &[String]) -> Exec {
    let script = match args {
        [flag, script, ..] if flag == "-c" => script,
        _ => return Exec::fail("sh: meshsim's sh runs scripts given with -c".into(), 2),
    };
    let tokens = match tokens(script) {
        Ok(t) => t,
        Err(e) => return Exec::fail(e, 2),
    };
    let mut out = Exec {
        stdout: Vec::new(),
        stderr: Vec::new(),
        code: 0,
    };
    let mut skip = false;
    for (command, joiner) in commands(&tokens) {
        if !skip && !command.is_empty() {
            let words: Vec<String> = command.iter().map(|w| w.to_string()).collect();
            if let [exit, rest @ ..] = words.as_slice()
                && exit == "exit"
            {
                out.code = rest
                    .first()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(out.code);
                return out;
            }
            let place = super::Place::Container {
                pod,
                image,
                shell: true,
            };
            let ran = super::pipeline(world, place, &words);
            out.stdout.extend(ran.stdout);
            out.stderr.extend(ran.stderr);
            out.code = ran.code;
        }
        skip = match joiner {
            Some(Token::And) => skip || out.code != 0,
            _ => false,
        };
    }
    out
}

/// The commands of a script, each with the operator that follows it;
/// a command keeps its `|` so it runs as a pipeline.
fn commands(tokens: &[Token]) -> Vec<(Vec<&str>, Option<Token>)> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        match t {
            Token::Word(w) => current.push(w.as_str()),
            Token::Pipe => current.push("|"),
            Token::Then | Token::And => out.push((std::mem::take(&mut current), Some(t.clone()))),
        }
    }
    out.push((current, None));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn words(ts: &[Token]) -> Vec<String> {
        ts.iter()
            .map(|t| match t {
                Token::Word(w) => w.clone(),
                Token::Pipe => "|".into(),
                Token::Then => ";".into(),
                Token::And => "&&".into(),
            })
            .collect()
    }

    #[test_case("echo hi | grep h", &["echo", "hi", "|", "grep", "h"]; "pipe")]
    #[test_case("a 'b c' \"d\\\"e\"", &["a", "b c", "d\"e"]; "quotes")]
    #[test_case("a;b && c\nd", &["a", ";", "b", "&&", "c", ";", "d"]; "operators")]
    #[test_case("grep -o \"<title>.*</title>\"", &["grep", "-o", "<title>.*</title>"]; "course grep")]
    fn splits_as_sh_does(script: &str, want: &[&str]) {
        assert_eq!(words(&tokens(script).unwrap()), want);
    }

    #[test]
    fn unterminated_quotes_are_syntax_errors() {
        assert!(tokens("echo 'oops").is_err());
    }

    #[test_case("5", 5.0; "seconds")]
    #[test_case("0.5", 0.5; "fraction")]
    #[test_case("2m", 120.0; "minutes")]
    fn sleep_reads_its_suffixes(s: &str, secs: f64) {
        assert_eq!(duration(s), Some(SimDuration::from_secs_f64(secs)));
        assert_eq!(duration("x"), None);
    }
}
