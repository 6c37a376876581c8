import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';

// Server-rendered pages: escaped by construction, no JavaScript, strict CSP, never framed.
// Every page has the same layout (a header with the site's navigation, then `main`) and one
// small stylesheet served from this origin, so the CSP allows styles from 'self' and nothing
// else: no inline style, no script at all.
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

// ---- dates ---------------------------------------------------------------------------------------

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1],
];

/** "3 minutes ago", "in 2 hours", "just now": how far `at` is from `now` (both epoch ms). */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 10) return 'just now';
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
  return RELATIVE.format(Math.trunc(seconds / size), unit);
}

/** The one absolute format of every page: `2026-12-02 03:33:17 UTC`. */
export function absoluteTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * A moment as every page shows it: the absolute time in UTC, then how long ago (or how soon),
 * server-rendered so it needs no script. Empty for a missing or unreadable value.
 */
export function when(at: string | number | undefined, now: number): SafeHtml {
  const ms = typeof at === 'number' ? at : at ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(ms)) return html``;
  return html`<span class="when"><time datetime="${new Date(ms).toISOString()}">${absoluteTime(ms)}</time> <span class="ago">(${relativeTime(ms, now)})</span></span>`;
}

// ---- tables -------------------------------------------------------------------------------------

export interface Column<T> {
  /** The column's header. */
  label: string;
  /** The cell of one row (escaped unless SafeHtml). */
  cell: (row: T) => unknown;
  /** This column's cells head their rows (`<th scope="row">`): on a phone, the title of each card. */
  rowHeader?: boolean;
  /** A class on the column's header and cells (`who-col`). */
  class?: string;
  /** A column of buttons: its header is read to assistive tech but not shown as a label on a phone. */
  actions?: boolean;
}

/**
 * A table of rows in the one style: whole-width columns on a wide screen; on a phone each row
 * becomes a card, its header cell the title and every other cell under its column's label.
 */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, options: { caption?: unknown } = {}): SafeHtml {
  const cls = (c: Column<T>) => (c.class ? html` class="${c.class}"` : '');
  return html`<table class="cards">${options.caption ? html`<caption class="muted">${options.caption}</caption>` : ''}
    <thead><tr>${columns.map((c) => html`<th scope="col"${cls(c)}>${c.actions ? html`<span class="muted">${c.label}</span>` : c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((row) => html`<tr>${columns.map((c) => c.rowHeader
      ? html`<th scope="row"${cls(c)}>${c.cell(row)}</th>`
      : html`<td data-label="${c.actions ? '' : c.label}"${cls(c)}>${c.cell(row)}</td>`)}</tr>`)}</tbody>
  </table>`;
}

// ---- the stylesheet ------------------------------------------------------------------------------

const STYLE = `
:root { --ink: #1b1b1f; --muted: #53535d; --line: #d6d6de; --soft: #f4f4f7; --accent: #2342a0; --danger: #a40000; --bar: #1e2636; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #e8a100; outline-offset: 2px; }
.skip { position: absolute; left: .5rem; top: -3rem; background: #fff; color: var(--ink); padding: .4rem .8rem; z-index: 1; }
.skip:focus { top: .5rem; }

.site { background: var(--bar); color: #fff; }
.site .bar { max-width: 90rem; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1.5rem; }
.site a { color: #fff; }
.site .brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; letter-spacing: .02em; }
.site nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.1rem; }
.site nav a { text-underline-offset: .3em; }
.site nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.site .who { margin-left: auto; display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .8rem; color: #e8e8ee; font-size: .95rem; }
.site .who form { margin: 0; }
.site .who button { margin: 0; padding: .2rem .8rem; background: transparent; border-color: #c9cede; }

main { max-width: 42rem; margin: 1.5rem auto 3rem; padding: 0 1rem; }
main.wide { max-width: 90rem; }
h1 { font-size: 1.55rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; }
h3 { font-size: 1.05rem; }
.muted { color: var(--muted); }
.error { color: var(--danger); border-left: 3px solid var(--danger); padding-left: .6rem; }
[role="status"] { border-left: 3px solid var(--accent); padding: .3rem .6rem; background: var(--soft); }

label { display: block; margin-top: .8rem; font-weight: 600; }
input[type=text], input[type=password], input[type=datetime-local], select { width: 100%; max-width: 32rem; padding: .45rem .5rem; font: inherit; border: 1px solid #7d7d8a; border-radius: 4px; background: #fff; color: var(--ink); }
button { margin: 1rem .5rem 0 0; padding: .45rem 1.1rem; font: inherit; cursor: pointer; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; }
button.secondary, button[value="deny"] { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
td form, th form { margin: 0; }
td button, th button { margin: 0; padding: .25rem .8rem; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0 1.2rem; align-items: end; }
.filters label { margin-top: .8rem; }
.filters input, .filters select { height: 2.4rem; }
.filters .actions { display: flex; align-items: center; gap: 1rem; }

table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
caption { text-align: left; padding: .2rem 0 .4rem; caption-side: top; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
thead th { background: var(--soft); font-size: .92rem; white-space: nowrap; }
td ul, th ul { margin: 0; padding-left: 1.1rem; }
code { background: var(--soft); padding: 0 .2rem; border-radius: 3px; font-size: .92em; }
.when time { white-space: nowrap; }
.ago { color: var(--muted); white-space: nowrap; }
.who-col { min-width: 16rem; }
.denied { color: var(--danger); font-weight: 600; }
dt { font-weight: 600; } dd { margin: 0 0 .3rem 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dd { margin: 0; }

@media (max-width: 40rem) {
  .site .bar { padding: .5rem .75rem; }
  .site .who { margin-left: 0; }
  main { margin-top: 1rem; padding: 0 .75rem; }
  h1 { font-size: 1.3rem; }
  th, td { padding: .35rem .3rem; }
  code { overflow-wrap: anywhere; }
  thead th { white-space: normal; }
  .who-col { min-width: 0; }
  .when time, .ago { white-space: normal; }
  table.cards, .cards tbody, .cards tr, .cards td, .cards th[scope="row"] { display: block; }
  .cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  .cards tr { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; margin-bottom: .75rem; }
  .cards td, .cards th[scope="row"] { border: 0; padding: .2rem 0; }
  .cards td:empty { display: none; }
  .cards caption { display: block; }
  .cards td[data-label]:not([data-label=""])::before { content: attr(data-label); display: block; font-size: .85rem; font-weight: 600; color: var(--muted); }
  button { width: 100%; margin-right: 0; }
  td button, th button, .site .who button { width: auto; }
}
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64url').slice(0, 12);
/** Where the stylesheet is served; the name changes with its content, so browsers may keep it. */
export const STYLESHEET_PATH = `/assets/writ-${STYLE_HASH}.css`;

/** Serves the pages' stylesheet (GET and HEAD of STYLESHEET_PATH). */
export async function serveStylesheet(ctx: Context, next: Next): Promise<void> {
  if (ctx.path !== STYLESHEET_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
  ctx.set('content-type', 'text/css; charset=utf-8');
  ctx.set('cache-control', 'public, max-age=31536000, immutable');
  ctx.body = STYLE;
}

// ---- the layout ----------------------------------------------------------------------------------

export interface NavLink {
  href: string;
  label: string;
  /** Marked `aria-current="page"`. */
  current?: boolean | undefined;
}

/** The header of a signed-in person's pages: where they can go, who they are, and a way out. */
export interface PageNav {
  /** Names the navigation for assistive tech ("Console", "Your account"). */
  label: string;
  links: NavLink[];
  /** "alice at XCorp (admin)". */
  signedInAs?: string | undefined;
  /** The CSRF token of the sign-out form (`POST /account/signout`); no button without it. */
  signOutCsrf?: string | undefined;
}

export interface Page {
  title: string;
  body: SafeHtml;
  /** The header's navigation; pages for people not signed in (sign-in, consent, errors) have none. */
  nav?: PageNav | undefined;
  /** Tables of many columns (console, account) get the whole width; forms stay narrow. */
  wide?: boolean | undefined;
}

/**
 * The pages a signed-in person has, in the header's order (`admin`: only for org admins). One
 * list for every room's pages: a new page for people adds its link here.
 */
export const ACCOUNT_LINKS: ReadonlyArray<{ href: string; label: string; admin?: boolean }> = [
  { href: '/account', label: 'Your agents' },
  { href: '/connect', label: 'Your connections' },
  { href: '/account/approvals', label: 'Approvals' },
  { href: '/console', label: 'Admin console', admin: true },
];

/** The header of a signed-in person's own pages, with `current` (a path of ACCOUNT_LINKS) marked. */
export function accountNav(current: string, who: { username: string; orgName: string; admin: boolean }, signOutCsrf: string): PageNav {
  return {
    label: 'Your account',
    links: ACCOUNT_LINKS.filter((l) => !l.admin || who.admin).map((l) => ({ href: l.href, label: l.label, current: l.href === current })),
    signedInAs: `${who.username} at ${who.orgName}`,
    signOutCsrf,
  };
}

function header(nav: PageNav | undefined): SafeHtml {
  return html`<header class="site"><div class="bar">
    <span class="brand">Writ</span>
    ${nav ? html`<nav aria-label="${nav.label}"><ul>${nav.links.map((l) => html`<li><a href="${l.href}"${l.current ? html` aria-current="page"` : ''}>${l.label}</a></li>`)}</ul></nav>
    ${nav.signedInAs || nav.signOutCsrf ? html`<div class="who">${nav.signedInAs ? html`<span>Signed in as ${nav.signedInAs}</span>` : ''}
      ${nav.signOutCsrf ? html`<form method="post" action="/account/signout"><input type="hidden" name="csrf" value="${nav.signOutCsrf}"><button type="submit">Sign out</button></form>` : ''}</div>` : ''}` : ''}
  </div></header>`;
}

/** Full document plus the headers every page carries. */
export function renderPage(page: Page): { body: string; headers: Record<string, string> } {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · Writ</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head>
<body><a class="skip" href="#main">Skip to content</a>
${header(page.nav).value}
<main id="main"${page.wide ? ' class="wide"' : ''}>${page.body.value}</main></body></html>`;
  return {
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
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
