/**
 * Resource URIs as label values. A URI can carry credentials (`postgres://admin:password@db/x`) and query
 * parameters (`?api_key=…`); a label keeps neither. Pure; shared by the REST classifier, the JSON-RPC
 * reader and the event mapper, so a URI is reduced the same way whichever source saw it.
 */

import { cutPast } from './name-bounds.ts';

const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/;

/**
 * `uri` without query string, fragment and `user:password@`; one longer than `max` is cut to `max + 1`
 * characters, which its label folds as too long (ledger/name-bounds.ts).
 */
export function resourceUriLabel(uri: string, max: number): string {
  let end = uri.length;
  const q = uri.indexOf('?');
  if (q !== -1) end = q;
  const h = uri.indexOf('#');
  if (h !== -1 && h < end) end = h;
  let bare = end === uri.length ? uri : uri.slice(0, end);
  if (bare.includes('@')) bare = bare.replace(USERINFO, '$1');
  return cutPast(bare, max);
}
