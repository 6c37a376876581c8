// Browser tests drive Debian's Chromium through playwright-core. Where Chromium is not installed
// the tests skip and say why (CI installs it); screenshots go to test-artifacts/ for people.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/browser');

/** A headless Chromium, closed after the test; undefined (and the test skipped) when there is none. */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed (apt-get install chromium); CI installs it`);
    return undefined;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  return browser;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * A small accessibility smoke check run inside the page: a language, one h1, one main, a label
 * for every form control, alt text on images, names on buttons and links, unique ids. `strict`
 * adds what the console promises beyond that: header cells with a scope, no skipped heading
 * levels, and a visible outline on the first keyboard focus.
 */
export async function accessibilityProblems(page: Page, options: { strict?: boolean } = {}): Promise<string[]> {
  const problems = await page.evaluate((strict: boolean) => {
    const out: string[] = [];
    const describe = (el: Element) => `<${el.tagName.toLowerCase()}${el.id ? ` id="${el.id}"` : ''}${el.getAttribute('name') ? ` name="${el.getAttribute('name')}"` : ''}>`;
    if (!document.documentElement.lang) out.push('the html element has no lang');
    if (!document.title.trim()) out.push('the page has no title');
    const h1 = document.querySelectorAll('h1').length;
    if (h1 !== 1) out.push(`${h1} h1 elements (want exactly one)`);
    const mains = document.querySelectorAll('main, [role="main"]').length;
    if (mains !== 1) out.push(`${mains} main landmarks (want exactly one)`);
    for (const el of document.querySelectorAll('input, select, textarea')) {
      const type = (el.getAttribute('type') ?? '').toLowerCase();
      if (['hidden', 'submit', 'button', 'reset'].includes(type)) continue;
      const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby');
      if (!labelled) out.push(`${describe(el)} has no label`);
    }
    for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) out.push(`${describe(img)} has no alt`);
    for (const b of document.querySelectorAll('button')) {
      if (!(b.textContent?.trim() || b.getAttribute('aria-label')?.trim())) out.push(`${describe(b)} has no accessible name`);
    }
    for (const a of document.querySelectorAll('a[href]')) {
      if (!(a.textContent?.trim() || a.getAttribute('aria-label')?.trim())) out.push(`a link to ${a.getAttribute('href')} has no text`);
    }
    const ids = new Map<string, number>();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    for (const [id, n] of ids) if (n > 1) out.push(`id "${id}" is used ${n} times`);
    if (strict) {
      for (const th of document.querySelectorAll('th')) {
        if (!th.getAttribute('scope')) out.push(`a header cell "${th.textContent?.trim().slice(0, 30)}" has no scope`);
      }
      let level = 0;
      for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
        const next = Number(h.tagName[1]);
        if (next > level + 1) out.push(`heading "${h.textContent?.trim().slice(0, 30)}" skips from h${level} to h${next}`);
        level = next;
      }
    }
    return out;
  }, options.strict === true);
  if (options.strict) {
    // The first Tab stop must show where the keyboard is.
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return 'nothing takes the keyboard focus';
      const style = getComputedStyle(el);
      const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      return visible ? '' : `the focused ${el.tagName.toLowerCase()} has no visible outline`;
    });
    if (focus) problems.push(focus);
  }
  return problems;
}
