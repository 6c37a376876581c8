import type { Context } from 'koa';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';

/** The org named by the route's `:org`, or `not_found`. */
export async function orgOfRoute(directory: DirectoryStore, ctx: Context): Promise<string> {
  const found = await directory.getOrg(String(ctx.params.org));
  if (!found) throw new WritError('not_found', 'no such org');
  return found.id;
}
