/**
 * Keeping credentials out of messages. Every error, log line and probe answer that may quote a database URL
 * or connection string goes through here, whatever its shape: a parser cannot help, because the text to hide
 * is in the values that failed to parse (`jdbc:sqlserver://…;password=…`, `user:pass@host` without a scheme,
 * `p@ss/w;rd` unencoded in a URL, an unclosed `{…}`). So the rules over-approximate: they may hide more than
 * the password, never less.
 *
 * - URL userinfo: from the first `:` after `scheme://` (or after the start, without a scheme) to the **last**
 *   `@`, so `@ : / ? # ;` in a password are covered: `mssql://sa:p@ss/w@h/db` → `mssql://sa:***@h/db`.
 * - `key=value` secrets (`password`, `pwd`, `passwd`, `pass`, `sslpassword`, `accessToken`, `token`, `secret`;
 *   JDBC, ADO.NET, libpq, query strings): a `{…}` value to its closing brace (`}}` is an escaped `}`), a quoted
 *   one to its closing quote (doubled quotes are escaped ones), any other to the next `key=` of its own list
 *   (`;key=` after `;password=`, `&key=` after `?password=` / `&password=`) or the end (in free text: or the next
 *   white space, so the rest of a message stays readable).
 * - In free text ({@link redactText}): the URLs quoted in it (each run between spaces and quotes), and the
 *   secrets of the URLs the caller names wherever they appear (raw, percent-decoded, unbraced), as well as any
 *   `"quoted"` fragment of one (a parser that split a password names a piece of it).
 * @module
 */

/** What a secret is replaced with. */
export const REDACTED = '***';

const SCHEME = /^[a-z][a-z0-9+.-]*(?::[a-z][a-z0-9+.-]*)*:\/\//i;
const SECRET_KEY =
  /(^|[^A-Za-z0-9_])\s*((?:ssl)?password|pwd|passwd|pass|access_?token|token|secret)\s*=\s*/gi;
/** The next `key=` of a list whose separator is the captured character (`;` JDBC / ADO.NET, `&` query). */
const NEXT_KEY: Record<Separator, RegExp> = {
  ';': /^;\s*[A-Za-z_][\w .-]*=/,
  '&': /^&\s*[A-Za-z_][\w .-]*=/,
};
type Separator = ';' | '&';
const TOKEN = /[^\s"'`<>()]+/g;
/** Known secrets shorter than this are masked only where a rule finds them, not wherever they occur. */
const MIN_KNOWN_LENGTH = 3;

type Span = [start: number, end: number];

/**
 * `value` (one URL or connection string, valid or not) with its credentials replaced by `***`.
 * @example
 * redactUrl('sqlserver://db;user=sa;password={a;b}') // 'sqlserver://db;user=sa;password=***'
 * redactUrl('sa:p@ss@db/orders')                     // 'sa:***@db/orders'
 */
export function redactUrl(value: string): string {
  return mask(value, secretSpans(value));
}

export interface RedactTextOptions {
  /** Connection strings the text may quote in part: their secrets are masked wherever they appear. */
  urls?: readonly (string | undefined)[];
  /** Secrets known as such (e.g. a parsed password). */
  secrets?: readonly (string | undefined)[];
}

/**
 * Free text (an error message, a log line, a readiness check) with every credential replaced by `***`.
 * @example
 * redactText('login to mssql://sa:pw@db/orders failed')              // 'login to mssql://sa:***@db/orders failed'
 * redactText('option "b" is unknown', { urls: ['sqlserver://h;password=a;b'] }) // 'option "***" is unknown'
 */
export function redactText(text: string, options: RedactTextOptions = {}): string {
  const known = knownSecrets(options);
  let result = text;
  for (const secret of known)
    if (secret.length >= MIN_KNOWN_LENGTH) result = result.split(secret).join(REDACTED);
  result = result.replace(/"([^"]*)"/g, (quoted, inner: string) =>
    inner !== '' && known.some((secret) => secret.includes(inner)) ? `"${REDACTED}"` : quoted,
  );
  const spans = keyValueSpans(result, true);
  for (const token of result.matchAll(TOKEN)) {
    const span = userinfoSpan(token[0]);
    if (span !== undefined) spans.push([token.index + span[0], token.index + span[1]]);
  }
  return mask(result, spans);
}

/** The secret texts of `urls` and `secrets`, longest first, with their decoded and unbraced forms. */
function knownSecrets(options: RedactTextOptions): string[] {
  const found = new Set<string>();
  const add = (secret: string) => {
    for (const form of [secret, unbrace(secret), tryDecode(secret)]) if (form !== '') found.add(form);
  };
  for (const url of options.urls ?? []) {
    if (url === undefined) continue;
    for (const [start, end] of secretSpans(url)) add(url.slice(start, end));
  }
  for (const secret of options.secrets ?? []) if (secret !== undefined) add(secret);
  return [...found].sort((a, b) => b.length - a.length);
}

function secretSpans(value: string): Span[] {
  const spans = keyValueSpans(value, false);
  const userinfo = userinfoSpan(value);
  if (userinfo !== undefined) spans.push(userinfo);
  return spans;
}

/** `scheme://user:secret@host`, `user:secret@host`: the secret, up to the last `@`. */
function userinfoSpan(value: string): Span | undefined {
  const start = SCHEME.exec(value)?.[0].length ?? 0;
  const at = value.lastIndexOf('@');
  const colon = value.indexOf(':', start);
  if (colon < 0 || at <= colon + 1) return undefined;
  return [colon + 1, at];
}

/** `inText`: a bare value also ends at white space (the text goes on after it). */
function keyValueSpans(value: string, inText: boolean): Span[] {
  const spans: Span[] = [];
  for (const match of value.matchAll(SECRET_KEY)) {
    const start = match.index + match[0].length;
    const before = match[1];
    const list: Separator | undefined =
      before === ';' ? ';' : before === '&' || before === '?' ? '&' : undefined;
    const end = valueEnd(value, start, list === undefined ? [';', '&'] : [list], inText);
    if (end > start) spans.push([start, end]);
  }
  return spans;
}

function valueEnd(value: string, start: number, separators: readonly Separator[], inText: boolean): number {
  const open = value[start];
  if (open === '{') {
    for (let i = start + 1; i < value.length; i++) {
      if (value[i] !== '}') continue;
      if (value[i + 1] === '}') i++;
      else return i + 1;
    }
    return value.length;
  }
  if (open === '"' || open === "'") {
    for (let i = start + 1; i < value.length; i++) {
      if (value[i] !== open) continue;
      if (value[i + 1] === open)
        i++; // a doubled quote stands for one
      else return i + 1;
    }
    return value.length;
  }
  for (let i = start; i < value.length; i++) {
    const separator = separators.find((s) => s === value[i]);
    if (separator !== undefined && NEXT_KEY[separator].test(value.slice(i))) return i;
    if (inText && /\s/.test(value[i]!)) return i;
  }
  return value.length;
}

/** Replaces each run covered by `spans` (overlapping or adjacent ones merged) with `***`. */
function mask(value: string, spans: Span[]): string {
  const merged: Span[] = [];
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let result = '';
  let at = 0;
  for (const [start, end] of merged) {
    result += value.slice(at, start) + REDACTED;
    at = end;
  }
  return result + value.slice(at);
}

function unbrace(secret: string): string {
  return /^\{.*\}$/s.test(secret) ? secret.slice(1, -1).replaceAll('}}', '}') : secret;
}

function tryDecode(secret: string): string {
  try {
    return decodeURIComponent(secret);
  } catch {
    return secret;
  }
}
