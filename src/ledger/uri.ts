/**
 * Resource URIs as label values. A URI can carry credentials (`postgres://admin:password@db/x`) and query
 * parameters (`?api_key=…`); a label keeps neither. Pure; shared by the REST classifier, the JSON-RPC
 * reader and the event mapper, so a URI is reduced the same way whichever source saw it.
 */

/** What replaces a URI over its length bound (the spelling of the label overflow value). */
export const URI_TOO_LONG = '__other__';

const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/;

/** `uri` without query string, fragment and `user:password@`, or {@link URI_TOO_LONG} when longer than `max`. */
export function resourceUriLabel(uri: string, max: number): string {
  let end = uri.length;
  const q = uri.indexOf('?');
  if (q !== -1) end = q;
  const h = uri.indexOf('#');
  if (h !== -1 && h < end) end = h;
  let bare = end === uri.length ? uri : uri.slice(0, end);
  if (bare.includes('@')) bare = bare.replace(USERINFO, '$1');
  return bare.length > max ? URI_TOO_LONG : bare;
}
