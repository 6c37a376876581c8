import type { z } from 'zod';
import { WritError } from '../errors/index.ts';

/** Parses with a strict schema; the first issue becomes the `invalid_request` description. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'body';
  throw new WritError('invalid_request', `${where}: ${issue.message}`);
}
