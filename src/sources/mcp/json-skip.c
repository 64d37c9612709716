/*
 * The envelope scanner's skip of large values, for WebAssembly with SIMD (json-skip.ts loads it).
 *
 * The same contract as JsonCursor's string and value skips in json-scan.ts, byte for byte: it accepts
 * exactly what JSON.parse accepts of the UTF-8 text (RFC 8259 grammar; whitespace is space, tab, LF, CR;
 * the eight one-letter escapes and \uXXXX; no raw byte below 0x20 inside a string; any byte >= 0x80
 * inside a string, none outside one) and answers the index past the value, BAD, or TOO_DEEP past
 * MAX_DEPTH open containers.
 *
 * Strings are read 16 bytes at a time: three compares give the quote, backslash and control-character
 * masks, and the positions a backslash escapes come from the masks by arithmetic (a run of backslashes
 * escapes the byte after it when its length is odd; simdjson's escape scanner), so a string with an
 * escape every few bytes costs no branch per escape. Everything else is a plain loop over bytes.
 *
 * The document is at doc_base(), written there by json-skip.ts, followed by at least PAD zero bytes: a
 * load or a look at b[n] past the end reads zeros, which no rule accepts.
 *
 * Build: npm run build:wasm (clang and lld, target wasm32, -msimd128); json-skip-wasm.ts is its output.
 */

#include <stdint.h>
#include <wasm_simd128.h>

#define BAD (-1)
#define TOO_DEEP (-2)
#define MAX_DEPTH 512

extern unsigned char __heap_base;

/* Containers open in skip_value: 1 an object, 2 an array. */
static uint8_t stack[MAX_DEPTH + 1];

/* Where json-skip.ts writes the document: past the module's own data, 64-aligned. */
__attribute__((export_name("doc_base"))) uint32_t doc_base(void) {
  return ((uint32_t)(uintptr_t)&__heap_base + 63u) & ~63u;
}

static inline const uint8_t *doc(void) { return (const uint8_t *)(uintptr_t)doc_base(); }

static inline int is_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* i just past an opening quote: the index of the closing one, or BAD. */
static int32_t string_end(const uint8_t *b, int32_t i, int32_t n) {
  const v128_t quote = wasm_i8x16_splat('"');
  const v128_t backslash = wasm_i8x16_splat('\\');
  const v128_t space = wasm_i8x16_splat(0x20);
  uint32_t carry = 0; /* 1 when b[i] is escaped by a backslash run that ended the block before. */
  for (; i < n; i += 16) {
    const v128_t v = wasm_v128_load(b + i);
    const uint32_t valid = n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u;
    const v128_t qv = wasm_i8x16_eq(v, quote);
    const v128_t sv = wasm_i8x16_eq(v, backslash);
    const v128_t cv = wasm_u8x16_lt(v, space);
    if (carry == 0 && (wasm_i8x16_bitmask(wasm_v128_or(wasm_v128_or(qv, sv), cv)) & valid) == 0) continue;
    const uint32_t q = wasm_i8x16_bitmask(qv) & valid;
    const uint32_t s = wasm_i8x16_bitmask(sv) & valid;
    const uint32_t c = wasm_i8x16_bitmask(cv) & valid;
    /* The escaped positions: the byte after each backslash run of odd length (carry: bit 0 is one). */
    const uint32_t potential = s & ~carry;
    const uint32_t code = (((potential << 1) | 0xaaaaaaaau) - potential) ^ 0xaaaaaaaau;
    const uint32_t escaped = (code ^ (s | carry)) & 0xffffu;
    const uint32_t endq = q & ~escaped;
    const uint32_t inside = endq ? (endq & (0u - endq)) - 1u : valid;
    if (c & inside) return BAD;
    /* Escaped bytes other than a quote or a backslash (rarer: a JSON text quoted as text has only those). */
    const uint32_t esc = escaped & inside & ~(q | s);
    if (esc) {
      const v128_t letters = wasm_v128_or(
          wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('b')), wasm_i8x16_eq(v, wasm_i8x16_splat('f'))),
                       wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('n')), wasm_i8x16_eq(v, wasm_i8x16_splat('r')))),
          wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('t')), wasm_i8x16_eq(v, wasm_i8x16_splat('/'))));
      const v128_t uv = wasm_i8x16_eq(v, wasm_i8x16_splat('u'));
      const uint32_t ok = wasm_i8x16_bitmask(wasm_v128_or(letters, uv));
      if (esc & ~ok) return BAD;
      for (uint32_t u = esc & wasm_i8x16_bitmask(uv); u; u &= u - 1u) {
        const int32_t p = i + (int32_t)__builtin_ctz(u);
        if (p + 4 >= n || !is_hex(b[p + 1]) || !is_hex(b[p + 2]) || !is_hex(b[p + 3]) || !is_hex(b[p + 4])) return BAD;
      }
    }
    if (endq) return i + (int32_t)__builtin_ctz(endq);
    carry = (code & s) >> 15 & 1u;
  }
  return BAD;
}

static inline int32_t skip_ws(const uint8_t *b, int32_t i, int32_t n) {
  while (i < n) {
    const uint8_t c = b[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') i++;
    else break;
  }
  return i;
}

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* b[i] starts a number: the index past it, or BAD. */
static int32_t skip_number(const uint8_t *b, int32_t i, int32_t n) {
  if (b[i] == '-') i++;
  if (i >= n) return BAD;
  if (b[i] == '0') i++;
  else if (b[i] > '0' && b[i] <= '9') {
    do i++;
    while (i < n && is_digit(b[i]));
  } else return BAD;
  if (i < n && b[i] == '.') {
    i++;
    if (i >= n || !is_digit(b[i])) return BAD;
    do i++;
    while (i < n && is_digit(b[i]));
  }
  if (i < n && (b[i] == 'e' || b[i] == 'E')) {
    i++;
    if (i < n && (b[i] == '+' || b[i] == '-')) i++;
    if (i >= n || !is_digit(b[i])) return BAD;
    do i++;
    while (i < n && is_digit(b[i]));
  }
  return i;
}

static int32_t skip_word(const uint8_t *b, int32_t i, int32_t n, const char *word, int32_t len) {
  if (i + len > n) return BAD;
  for (int32_t k = 0; k < len; k++)
    if (b[i + k] != (uint8_t)word[k]) return BAD;
  return i + len;
}

/* A number or a literal b[i] starts: the index past it, or BAD. */
static int32_t skip_bare(const uint8_t *b, int32_t i, int32_t n, uint8_t c) {
  if (c == '-' || is_digit(c)) return skip_number(b, i, n);
  if (c == 't') return skip_word(b, i, n, "true", 4);
  if (c == 'f') return skip_word(b, i, n, "false", 5);
  if (c == 'n') return skip_word(b, i, n, "null", 4);
  return BAD;
}

/* b[i] should open a member name: the index past its colon, or BAD. */
static int32_t member_name(const uint8_t *b, int32_t i, int32_t n) {
  if (i >= n || b[i] != '"') return BAD;
  i = string_end(b, i + 1, n);
  if (i < 0) return BAD;
  i++;
  if (b[i] <= 0x20) i = skip_ws(b, i, n);
  return i < n && b[i] == ':' ? i + 1 : BAD;
}

/* i just past an opening quote of the document at doc_base() of n bytes: the closing quote's index, or BAD. */
__attribute__((export_name("string_end"))) int32_t string_end_at(int32_t i, int32_t n) {
  return string_end(doc(), i, n);
}

/* One value from i (after optional whitespace), validated: the index past it, BAD or TOO_DEEP. */
__attribute__((export_name("skip_value"))) int32_t skip_value(int32_t i, int32_t n) {
  const uint8_t *b = doc();
  int32_t depth = 0;
  for (;;) {
    if (b[i] <= 0x20) i = skip_ws(b, i, n);
    if (i >= n) return BAD;
    const uint8_t c = b[i];
    if (c == '"') {
      i = string_end(b, i + 1, n);
      if (i < 0) return BAD;
      i++;
    } else if (c == '{' || c == '[') {
      i++;
      if (b[i] <= 0x20) i = skip_ws(b, i, n);
      if (i < n && b[i] == (c == '{' ? '}' : ']')) {
        i++;
      } else {
        if (depth == MAX_DEPTH) return TOO_DEEP;
        stack[++depth] = c == '{' ? 1 : 2;
        if (c == '{') {
          i = member_name(b, i, n);
          if (i < 0) return BAD;
        }
        continue;
      }
    } else {
      i = skip_bare(b, i, n, c);
      if (i < 0) return BAD;
    }
    /* A value ended here: close the containers it ends, then go on to the next member or element. */
    for (;;) {
      if (depth == 0) return i;
      if (b[i] <= 0x20) i = skip_ws(b, i, n);
      if (i >= n) return BAD;
      const uint8_t d = b[i];
      const int in_object = stack[depth] == 1;
      if (d == ',') {
        i++;
        if (in_object) {
          if (b[i] <= 0x20) i = skip_ws(b, i, n);
          i = member_name(b, i, n);
          if (i < 0) return BAD;
        }
        break;
      }
      if (d != (in_object ? '}' : ']')) return BAD;
      i++;
      depth--;
    }
  }
}
