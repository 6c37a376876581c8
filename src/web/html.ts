import { randomBytes } from 'node:crypto';

// Server-rendered pages: escaped by construction, no JavaScript, strict CSP, never framed.
// No form-action directive: browsers apply it to the redirect after consent, which goes to the
// agent's registered redirect_uri on another origin.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A string that is already safe HTML. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) { this.value = value; }
  toString() { return this.value; }
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Tagged template: interpolated values are escaped unless they are SafeHtml (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const render = (x: unknown): string =>
      x instanceof SafeHtml ? x.value : Array.isArray(x) ? x.map(render).join('') : x === undefined || x === null || x === false ? '' : escapeHtml(x);
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1f; }
  h1 { font-size: 1.4rem; } .muted { color: #5b5b66; } .error { color: #a00; border-left: 3px solid #a00; padding-left: .5rem; }
  label { display: block; margin-top: .75rem; } input[type=text], input[type=password] { width: 100%; padding: .4rem; font: inherit; }
  button { margin-top: 1rem; margin-right: .5rem; padding: .4rem 1rem; font: inherit; cursor: pointer; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  code { background: #f3f3f6; padding: 0 .2rem; }
`;

export interface Page {
  title: string;
  body: SafeHtml;
}

/** Full document plus the headers every page carries. */
export function renderPage(page: Page): { body: string; headers: Record<string, string> } {
  const nonce = randomBytes(16).toString('base64');
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · Writ</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${page.body.value}</main></body></html>`;
  return {
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      // Not no-referrer: under it browsers send `Origin: null` on a form post, and the site
      // check then cannot tell the page's own forms from another site's. Other sites still get
      // no Referer (query strings can carry codes).
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
    },
  };
}
