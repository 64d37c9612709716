/** Every fuzz target, in the order they are run and reported. */
import type { FuzzTarget } from './harness.ts';
import { HTTP_TARGETS } from './targets-http.ts';
import { SCAN_TARGETS, SPAN_TARGETS } from './targets-scan.ts';
import { SKIP_TARGETS } from './targets-skip.ts';
import { TEXT_TARGETS } from './targets-text.ts';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [...TEXT_TARGETS, ...SCAN_TARGETS, ...SPAN_TARGETS, ...SKIP_TARGETS, ...HTTP_TARGETS];
