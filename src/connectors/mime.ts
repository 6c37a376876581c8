import { ToolInputError } from './request.ts';

// An email built from structured input (RFC 5322 with RFC 2045 and RFC 2047), for providers that
// take a whole message (Gmail's `raw`). The agent names the recipients, the subject and the text;
// the executor writes the headers, so every recipient is a field that argument constraints see
// and no input can add a header of its own.

/** One address: local@domain, without display names, comments, quotes, brackets, commas or whitespace. */
export const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Which input fields make the message. */
export interface MimeFields { to: string; cc?: string | undefined; bcc?: string | undefined; subject: string; text: string; into: string }

export interface Email { to: string[]; cc: string[]; bcc: string[]; subject: string; text: string }

function addresses(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((a, i) => {
    if (typeof a !== 'string' || !ADDRESS.test(a)) throw new ToolInputError(field, `${field}${Array.isArray(value) ? `[${i}]` : ''} is not an email address`);
    return a;
  });
}

/** The message the input describes; refuses anything that is not an address where one belongs. */
export function emailFrom(fields: MimeFields, input: Record<string, unknown>): Email {
  const to = addresses(fields.to, input[fields.to]);
  if (!to.length) throw new ToolInputError(fields.to, `${fields.to} is required`);
  const subject = input[fields.subject];
  const text = input[fields.text];
  if (typeof subject !== 'string') throw new ToolInputError(fields.subject, `${fields.subject} must be a string`);
  if (typeof text !== 'string') throw new ToolInputError(fields.text, `${fields.text} must be a string`);
  return { to, cc: fields.cc ? addresses(fields.cc, input[fields.cc]) : [], bcc: fields.bcc ? addresses(fields.bcc, input[fields.bcc]) : [], subject, text };
}

/** Every recipient of the message, for the argument constraints on the recipient fields. */
export function recipients(email: Email): string[] {
  return [...email.to, ...email.cc, ...email.bcc];
}

/** RFC 2047 encoded-words, each at most 75 characters, never splitting a character. */
function encodedWords(text: string): string {
  if (text === '') return '';
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 45) { words.push(chunk); chunk = ''; }
    chunk += ch;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** The message as RFC 5322 text: CRLF lines, UTF-8 text in base64, the subject always encoded. */
export function renderEmail(email: Email): string {
  const body = Buffer.from(email.text, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return [
    `To: ${email.to.join(', ')}`,
    ...(email.cc.length ? [`Cc: ${email.cc.join(', ')}`] : []),
    ...(email.bcc.length ? [`Bcc: ${email.bcc.join(', ')}`] : []),
    `Subject: ${encodedWords(email.subject)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

/** The request body's fields: the message in `into` (base64url), and the input fields the message does not use. */
export function mimeBody(fields: MimeFields, input: Record<string, unknown>, used: ReadonlySet<string>): Record<string, unknown> {
  const own = new Set([fields.to, fields.cc, fields.bcc, fields.subject, fields.text].filter((f): f is string => f !== undefined));
  const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !own.has(k) && !used.has(k)));
  return { ...rest, [fields.into]: Buffer.from(renderEmail(emailFrom(fields, input)), 'utf8').toString('base64url') };
}
