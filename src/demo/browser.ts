// A small browser for server-rendered pages over real HTTP: a client with a cookie jar that never
// follows redirects by itself, and a scanner for HTML forms. The demo story and the tests use it.

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The `Location` header resolved against the request URL, if any. */
  location: string | undefined;
  text: string;
  /** The parsed body when the response says it is JSON and parses; otherwise undefined. */
  json: unknown;
  url: string;
}

export interface RequestOptions extends Omit<RequestInit, 'body' | 'redirect'> {
  body?: RequestInit['body'];
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /**
   * The page the request comes from, sent as `Origin` on anything but GET and HEAD the way a
   * browser does. Default: the target's own origin (a form posted from the site's own page);
   * null sends none. An `origin` in `headers` wins.
   */
  origin?: string | null;
}

interface StoredCookie {
  name: string;
  value: string;
  origin: string;
  path: string;
  expiresAt: number; // ms since epoch; Infinity for session cookies
}

/** Cookies per origin and path, following RFC 6265 §5.1.4 path matching and expiry. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  store(url: URL, setCookieHeaders: string[]): void {
    for (const header of setCookieHeaders) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        origin: url.origin,
        path: defaultPath(url),
        expiresAt: Infinity,
      };
      for (const attribute of attributes) {
        const [rawName = '', ...rest] = attribute.split('=');
        const name = rawName.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (name === 'path' && value.startsWith('/')) cookie.path = value;
        else if (name === 'max-age' && /^-?\d+$/.test(value)) cookie.expiresAt = Date.now() + Number(value) * 1000;
        else if (name === 'expires' && cookie.expiresAt === Infinity && !Number.isNaN(Date.parse(value))) cookie.expiresAt = Date.parse(value);
      }
      const key = `${cookie.origin} ${cookie.path} ${cookie.name}`;
      if (cookie.expiresAt <= Date.now()) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }

  /** The Cookie header value for a request to `url`, or undefined when nothing matches. */
  headerFor(url: URL): string | undefined {
    const now = Date.now();
    const matching = [...this.#cookies.values()]
      .filter((c) => c.origin === url.origin && c.expiresAt > now && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  names(url: string | URL): string[] {
    const cookie = this.headerFor(new URL(url)) ?? '';
    return cookie ? cookie.split('; ').map((p) => p.slice(0, p.indexOf('='))) : [];
  }

  clear(): void {
    this.#cookies.clear();
  }
}

function defaultPath(url: URL): string {
  const i = url.pathname.lastIndexOf('/');
  return i <= 0 ? '/' : url.pathname.slice(0, i);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export interface HttpClient {
  readonly jar: CookieJar;
  request(url: string | URL, init?: RequestOptions): Promise<HttpResponse>;
  /**
   * Follows redirects with GET from `url` until a response is not a redirect or its location
   * satisfies `stop` (for example, it is the client's redirect_uri). Returns the last response.
   */
  follow(url: string | URL, options?: { stop?: (location: string) => boolean; max?: number }): Promise<HttpResponse>;
}

export function httpClient(): HttpClient {
  const jar = new CookieJar();

  async function request(target: string | URL, init: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(target);
    const { form, json, origin, ...rest } = init;
    const headers = new Headers(rest.headers);
    let body = rest.body;
    if (form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(form).toString();
    } else if (json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(json);
    }
    const cookie = jar.headerFor(url);
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    const method = rest.method ?? (body === undefined ? 'GET' : 'POST');
    if (method !== 'GET' && method !== 'HEAD' && origin !== null && !headers.has('origin')) headers.set('origin', origin ?? url.origin);

    const response = await fetch(url, { ...rest, method, headers, body: body ?? null, redirect: 'manual' });
    jar.store(url, response.headers.getSetCookie());
    const text = await response.text();
    const location = response.headers.get('location');
    return {
      status: response.status,
      headers: response.headers,
      location: location === null ? undefined : new URL(location, url).toString(),
      text,
      json: parseJson(response.headers.get('content-type'), text),
      url: url.toString(),
    };
  }

  async function follow(url: string | URL, options: { stop?: (location: string) => boolean; max?: number } = {}) {
    const max = options.max ?? 10;
    let response = await request(url);
    for (let hops = 0; response.location && response.status >= 300 && response.status < 400; hops++) {
      if (options.stop?.(response.location)) return response;
      if (hops >= max) throw new Error(`more than ${max} redirects from ${String(url)}`);
      response = await request(response.location);
    }
    return response;
  }

  return { jar, request, follow };
}

function parseJson(contentType: string | null, text: string): unknown {
  if (!contentType || !/\bjson\b/i.test(contentType) || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ParsedForm {
  /** As written in the page (often relative); resolve with `new URL(form.action, pageUrl)`. */
  action: string;
  method: string;
  /** Hidden inputs, name -> value. */
  hidden: Record<string, string>;
  /** Names of every named input, select, textarea and button. */
  fields: string[];
}

const FORM = /<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi;
const CONTROL = /<(input|button|select|textarea)\b([^>]*)>/gi;
const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Every form in the page, in document order. */
export function parseForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const [, formAttributes = '', inner = ''] of html.matchAll(FORM)) {
    const attributes = parseAttributes(formAttributes);
    const hidden: Record<string, string> = {};
    const fields: string[] = [];
    for (const [, tag = '', controlAttributes = ''] of inner.matchAll(CONTROL)) {
      const control = parseAttributes(controlAttributes);
      const name = control.name;
      if (!name) continue;
      fields.push(name);
      if (tag.toLowerCase() === 'input' && control.type?.toLowerCase() === 'hidden') hidden[name] = control.value ?? '';
    }
    forms.push({ action: attributes.action ?? '', method: (attributes.method ?? 'get').toLowerCase(), hidden, fields });
  }
  return forms;
}

/** The first form whose action contains `action` (or matches it), or the first form at all. Throws when none. */
export function parseForm(html: string, action?: string | RegExp): ParsedForm {
  const forms = parseForms(html);
  const form = action === undefined
    ? forms[0]
    : forms.find((f) => (typeof action === 'string' ? f.action.includes(action) : action.test(f.action)));
  if (!form) throw new Error(`no form${action === undefined ? '' : ` with action ${String(action)}`} in the page`);
  return form;
}

function parseAttributes(source: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [, name = '', double, single, bare] of source.matchAll(ATTRIBUTE)) {
    const key = name.toLowerCase();
    if (!(key in out)) out[key] = decodeEntities(double ?? single ?? bare ?? '');
  }
  return out;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}
