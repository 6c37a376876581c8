import type { IncomingMessage } from 'node:http';
import { WritError } from '../../errors/index.ts';

export class BodyTooLarge extends WritError {
  constructor(description: string) {
    super('payload_too_large', description);
    this.name = 'BodyTooLarge';
  }
}

/** Reads a request body as UTF-8, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
