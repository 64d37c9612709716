/**
 * How long a name taken from traffic may be as a label value, and how a longer one is kept until its
 * label folds it. Pure; shared by every reader of names (REST paths, MCP JSON-RPC, resource URIs) and by
 * the label bounds of telemetry/instruments.ts, so a name is judged the same way whichever source saw it.
 *
 * A reader never keeps more than `max + 1` characters of a name: {@link cutPast} keeps a longer one as its
 * first `max + 1` characters — still too long, so its label records it as `__other__` and counts it in
 * `sidecar_label_overflow_total{reason="too_long"}` — and a 16 KiB path or JSON string never reaches a
 * label, a map key or a span. No spelling is reserved for "too long": a client's own `__other__` stays
 * its own value (the label escapes it), and only the label decides what is folded.
 */

/** Tool names and ids, prompt names, MCP method names. */
export const MAX_NAME_LENGTH = 256;
/** Resource URIs, after their query, fragment and credentials are removed (ledger/uri.ts). */
export const MAX_URI_LENGTH = 1024;
/** Server ids. */
export const MAX_SERVER_ID_LENGTH = 128;

/** `value` itself, or its first `max + 1` characters when it is longer than `max`. */
export function cutPast(value: string, max: number): string {
  return value.length > max ? value.slice(0, max + 1) : value;
}
