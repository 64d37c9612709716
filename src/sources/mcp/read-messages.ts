/**
 * The one way the MCP tap reads a body or an SSE event's data: the envelope scanner on the bytes
 * (envelope-scan.ts: only what is counted, no objects, no strings decoded), and the full parser
 * (`parseMessages`) only where the scanner cannot decide cheaply — each such body counted by its reason
 * (`sidecar_mcp_scan_fallbacks_total{reason}`). Both give the same answer: the fuzzing holds the scanner
 * to the parser as its oracle.
 */
import { isScanFallback, scanMessages } from './envelope-scan.ts';
import type { ScanFallbackReason } from './envelope-read.ts';
import { parseMessages, type ParsedMessages } from './jsonrpc.ts';

/** Reads the JSON-RPC messages of one body (or one event's data). */
export type MessageReader = (bytes: Buffer) => ParsedMessages;

/** @param onFallback told of each body the scanner left to the full parser, with why. */
export function messageReader(onFallback: (reason: ScanFallbackReason) => void): MessageReader {
  return (bytes) => {
    const scanned = scanMessages(bytes);
    if (!isScanFallback(scanned)) return scanned;
    onFallback(scanned.fallback);
    return parseMessages(bytes.toString('utf8'));
  };
}
