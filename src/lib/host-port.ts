// `host:port` as a URL or a socket address writes it: an IPv6 host in brackets.

/** `127.0.0.1:8787`, `[::1]:8787`. */
export function formatHostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
