import type { IncomingMessage } from 'node:http';
import { WritError } from '../errors/index.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a request body, refusing (413) anything over `limit` bytes without buffering it all. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw new WritError('payload_too_large', `request body exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new WritError('payload_too_large', `request body exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  const raw = await readBody(req, limit);
  if (raw.length === 0) return {};
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new WritError('unsupported_media_type', 'request body must be application/json');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WritError('invalid_request', 'request body is not valid JSON');
  }
}

export async function readForm(req: IncomingMessage, limit = 64 * 1024): Promise<URLSearchParams> {
  const raw = await readBody(req, limit);
  return new URLSearchParams(raw.toString('utf8'));
}
