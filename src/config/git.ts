// Git URLs as flux.url spells them, and the SSH host keys an ssh:// URL is checked against. Pure.

/**
 * GitHub's published SSH host keys (docs.github.com, "GitHub's SSH key fingerprints"). Pinned here
 * rather than fetched with ssh-keyscan at plan time, which would trust whatever answers.
 */
export const GITHUB_KNOWN_HOSTS = [
  "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
  "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=",
] as const;

export interface GitUrl {
  readonly scheme: "ssh" | "https";
  /** Host name without user or port. */
  readonly host: string;
  readonly port: number | undefined;
}

/** Splits an ssh:// or https:// Git URL. Throws for anything else (the schema admits only those). */
export function parseGitUrl(url: string): GitUrl {
  const m = /^(ssh|https):\/\/(?:[^@/]+@)?([^:/]+)(?::(\d+))?\//.exec(url);
  if (!m) throw new Error(`flux.url: ${JSON.stringify(url)} is not an ssh:// or https:// Git URL with a path`);
  return { scheme: m[1] as GitUrl["scheme"], host: m[2].toLowerCase(), port: m[3] === undefined ? undefined : Number(m[3]) };
}

/**
 * The known_hosts file for an ssh:// URL: GitHub's published keys for github.com (port 22), else the
 * configured lines. Undefined when neither applies (fluxChecks reports that as a config error).
 */
export function knownHostsFor(url: string, configured: readonly string[] | undefined): string | undefined {
  const git = parseGitUrl(url);
  if (configured !== undefined && configured.length > 0) return `${configured.join("\n")}\n`;
  if (git.host === "github.com" && (git.port === undefined || git.port === 22)) return `${GITHUB_KNOWN_HOSTS.join("\n")}\n`;
  return undefined;
}
