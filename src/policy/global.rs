//! Tools' global options before their verb (`git -C dir push`, `kubectl --context x
//! delete`, `cargo +nightly install`), removed so the verb is where the patterns look.

use super::words::basename;

const KUBE: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-s",
    "--server",
    "--cluster",
    "--user",
    "--token",
    "--as",
    "--as-group",
    "--certificate-authority",
    "--client-certificate",
    "--client-key",
    "--request-timeout",
    "--cache-dir",
    "-v",
];
const DOCKER: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--connection",
    "--url",
    "--root",
    "--runroot",
];
const COMPOSE: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "--env-file",
    "--project-directory",
    "--ansi",
    "--parallel",
    "--progress",
];

/// Each tool and its global options that take a value.
const GLOBALS: &[(&str, &[&str])] = &[
    (
        "git",
        &[
            "-C",
            "-c",
            "--git-dir",
            "--work-tree",
            "--namespace",
            "--config-env",
            "--super-prefix",
        ],
    ),
    ("kubectl", KUBE),
    ("oc", KUBE),
    (
        "helm",
        &[
            "-n",
            "--namespace",
            "--kube-context",
            "--kubeconfig",
            "--kube-token",
            "--kube-apiserver",
            "--registry-config",
            "--repository-cache",
            "--repository-config",
        ],
    ),
    ("docker", DOCKER),
    ("podman", DOCKER),
    ("docker-compose", COMPOSE),
    ("cargo", &["-C", "--config", "-Z", "--color"]),
    (
        "npm",
        &[
            "--prefix",
            "-C",
            "-w",
            "--workspace",
            "--registry",
            "--userconfig",
            "--cache",
            "--loglevel",
        ],
    ),
    ("pnpm", &["-C", "--dir", "--filter", "-F"]),
    ("yarn", &["--cwd"]),
    ("bun", &["--cwd", "-c", "--config"]),
    (
        "uv",
        &["--directory", "--project", "--cache-dir", "--config-file"],
    ),
    ("terraform", &[]),
    ("tofu", &[]),
];

/// The words with the tool's global options before its verb removed.
pub fn strip(words: &[String]) -> Vec<String> {
    let Some(first) = words.first() else {
        return Vec::new();
    };
    let base = basename(first);
    let Some((_, valued)) = GLOBALS.iter().find(|(t, _)| *t == base) else {
        return words.to_vec();
    };
    let mut out = vec![first.clone()];
    let mut i = skip(words, 1, valued, base == "cargo");
    if matches!(base, "docker" | "podman") && words.get(i).is_some_and(|w| w == "compose") {
        out.push("compose".into());
        i = skip(words, i + 1, COMPOSE, false);
    }
    out.extend(words[i.min(words.len())..].iter().cloned());
    out
}

/// The index of the first word from `i` that is not a global option or its value.
fn skip(words: &[String], mut i: usize, valued: &[&str], plus: bool) -> usize {
    while let Some(w) = words.get(i) {
        if !(w.starts_with('-') || (plus && w.starts_with('+'))) || w == "-" {
            break;
        }
        if w == "--" {
            return i + 1;
        }
        i += if valued.contains(&w.as_str()) { 2 } else { 1 };
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> String {
        let words: Vec<String> = line.split(' ').map(str::to_string).collect();
        strip(&words).join(" ")
    }

    #[test]
    fn global_options_before_the_verb_go() {
        assert_eq!(s("git -C D -c a=b push --force"), "git push --force");
        assert_eq!(s("kubectl --context x delete pod"), "kubectl delete pod");
        assert_eq!(s("docker -H tcp://h rm -f c"), "docker rm -f c");
        assert_eq!(
            s("docker --context x compose -f y.yml down"),
            "docker compose down"
        );
        assert_eq!(s("cargo +nightly install x"), "cargo install x");
        assert_eq!(s("npm --prefix web install"), "npm install");
        assert_eq!(s("ls -l x"), "ls -l x");
    }
}
