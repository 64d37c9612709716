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
 * escape every few bytes costs no branch per escape. A container is read in two passes per 64-byte
 * block (skip_container): masks find its tokens, then the grammar checks only those. A number or a
 * literal is a plain loop over its bytes.
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

/* Containers open in skip_container: 1 an object, 2 an array (the 513th may open, to be closed at once). */
static uint8_t stack[MAX_DEPTH + 2];

/* Where json-skip.ts writes the document: past the module's own data, 64-aligned. */
__attribute__((export_name("doc_base"))) uint32_t doc_base(void) {
  return ((uint32_t)(uintptr_t)&__heap_base + 63u) & ~63u;
}

static inline const uint8_t *doc(void) { return (const uint8_t *)(uintptr_t)doc_base(); }

static inline int is_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * The backslash-run arithmetic of a block's backslashes `s` (simdjson's escape scanner): `code ^ (s | in)`
 * are the escaped bytes, `code & s` the backslashes that escape one; `in` is 1 when the block before ended
 * with an escaping backslash (its bit 0 is escaped). For a 16-bit block the low 16 bits are the same.
 */
static inline uint64_t escape_code(uint64_t s, uint64_t in) {
  const uint64_t odd = 0xaaaaaaaaaaaaaaaaull;
  const uint64_t potential = s & ~in;
  return (((potential << 1) | odd) - potential) ^ odd;
}

/* The bytes of 16 that may follow a backslash, but '"' and '\\': b f n r t / and u (also in *u). */
static inline uint32_t escape_letters16(v128_t v, uint32_t *u) {
  const v128_t letters = wasm_v128_or(
      wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('b')), wasm_i8x16_eq(v, wasm_i8x16_splat('f'))),
                   wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('n')), wasm_i8x16_eq(v, wasm_i8x16_splat('r')))),
      wasm_v128_or(wasm_i8x16_eq(v, wasm_i8x16_splat('t')), wasm_i8x16_eq(v, wasm_i8x16_splat('/'))));
  const v128_t uv = wasm_i8x16_eq(v, wasm_i8x16_splat('u'));
  *u = wasm_i8x16_bitmask(uv);
  return wasm_i8x16_bitmask(wasm_v128_or(letters, uv));
}

/* b[p] is the 'u' of an escape: four hex digits follow it, within the document. */
static inline int hex4(const uint8_t *b, int32_t p, int32_t n) {
  return p + 4 < n && is_hex(b[p + 1]) && is_hex(b[p + 2]) && is_hex(b[p + 3]) && is_hex(b[p + 4]);
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
    const uint64_t code = escape_code(s, carry);
    const uint32_t escaped = (uint32_t)(code ^ (s | carry)) & 0xffffu;
    const uint32_t endq = q & ~escaped;
    const uint32_t inside = endq ? (endq & (0u - endq)) - 1u : valid;
    if (c & inside) return BAD;
    /* Escaped bytes other than a quote or a backslash (rarer: a JSON text quoted as text has only those). */
    const uint32_t esc = escaped & inside & ~(q | s);
    if (esc) {
      uint32_t u;
      if (esc & ~escape_letters16(v, &u)) return BAD;
      for (u &= esc; u; u &= u - 1u)
        if (!hex4(b, i + (int32_t)__builtin_ctz(u), n)) return BAD;
    }
    if (endq) return i + (int32_t)__builtin_ctz(endq);
    carry = (uint32_t)((code & s) >> 15) & 1u;
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

/* i just past an opening quote of the document at doc_base() of n bytes: the closing quote's index, or BAD. */
__attribute__((export_name("string_end"))) int32_t string_end_at(int32_t i, int32_t n) {
  return string_end(doc(), i, n);
}

/* Every bit from the first set bit of each pair of set bits (inclusive) to the next (exclusive). */
static inline uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

/* A 64-byte block's classes, one bit per byte. */
typedef struct {
  uint64_t quote, backslash, control, space, op;
} block_t;

/*
 * Whitespace and the six structural characters by two 16-entry lookups, on the low and the high nibble
 * of each byte (simdjson's classifier): a byte is in a class when both of its entries have the class's bit.
 * Bits: 0x01 tab, LF, CR (high nibble 0); 0x02 space; 0x04 ','; 0x08 ':'; 0x10 '[' ']'; 0x20 '{' '}'.
 */
static inline void classify(const uint8_t *p, block_t *out) {
  const v128_t lo = wasm_i8x16_make(0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x09, 0x30, 0x04, 0x31, 0, 0);
  const v128_t hi = wasm_i8x16_make(0x01, 0, 0x06, 0x08, 0, 0x10, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0);
  const v128_t nibble = wasm_i8x16_splat(0x0f);
  const v128_t zero = wasm_i8x16_splat(0);
  uint64_t q = 0, s = 0, c = 0, w = 0, o = 0;
  for (int k = 0; k < 4; k++) {
    const v128_t v = wasm_v128_load(p + 16 * k);
    const v128_t cls = wasm_v128_and(wasm_i8x16_swizzle(lo, wasm_v128_and(v, nibble)), wasm_i8x16_swizzle(hi, wasm_u8x16_shr(v, 4)));
    q |= (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_eq(v, wasm_i8x16_splat('"'))) << (16 * k);
    s |= (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_eq(v, wasm_i8x16_splat('\\'))) << (16 * k);
    c |= (uint64_t)wasm_i8x16_bitmask(wasm_u8x16_lt(v, wasm_i8x16_splat(0x20))) << (16 * k);
    w |= (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_ne(wasm_v128_and(cls, wasm_i8x16_splat(0x03)), zero)) << (16 * k);
    o |= (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_ne(wasm_v128_and(cls, wasm_i8x16_splat(0x3c)), zero)) << (16 * k);
  }
  out->quote = q;
  out->backslash = s;
  out->control = c;
  out->space = w;
  out->op = o;
}

/* escape_letters16 of a 64-byte block. */
static inline uint64_t escape_letters(const uint8_t *p, uint64_t *u) {
  uint64_t l = 0, x = 0;
  for (int k = 0; k < 4; k++) {
    uint32_t uk;
    l |= (uint64_t)escape_letters16(wasm_v128_load(p + 16 * k), &uk) << (16 * k);
    x |= (uint64_t)uk << (16 * k);
  }
  *u = x;
  return l;
}

static inline int is_end_of_scalar(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == ':' || c == ']' || c == '}' || c == '[' || c == '{' || c == '"';
}

enum { S_VALUE, S_FIRST_ELEMENT, S_FIRST_MEMBER, S_NAME, S_COLON, S_AFTER };

/*
 * b[i] is '{' or '[': the index past the container, BAD or TOO_DEEP. Two passes per 64-byte block: masks
 * find every structural character, every string (its quotes, with the escaped bytes resolved from the
 * backslash runs) and the first byte of every number or literal; then those tokens alone are checked
 * against the grammar, one by one. A string's content is judged by the masks (no raw control byte, only
 * the escapes JSON has, four hex digits after \u); a fault counts only when it lies before the end of
 * the container, as the byte loop would meet it.
 *
 * Depth as the JavaScript skip counts it: a container counts when it is not empty, and a value nested in
 * MAX_DEPTH of them is TOO_DEEP (so the 513th may be opened, and must close at its next token).
 */
static int32_t skip_container(const uint8_t *b, int32_t i, int32_t n) {
  uint64_t escaped_in = 0; /* 1 when the block's first byte is escaped */
  uint64_t in_string = 0;  /* all ones when the block starts inside a string */
  uint64_t scalar_in = 0;  /* 1 when the block starts inside a number or literal */
  int32_t depth = 0;
  int state = S_VALUE;
  block_t m;
  for (int32_t base = i; base < n; base += 64) {
    const uint64_t valid = n - base >= 64 ? ~0ull : (1ull << (n - base)) - 1u;
    classify(b + base, &m);
    const uint64_t s = m.backslash & valid;
    const uint64_t code = escape_code(s, escaped_in);
    const uint64_t escaped = (code ^ (s | escaped_in)) & valid;
    escaped_in = (code & s) >> 63;
    const uint64_t quotes = m.quote & ~escaped & valid;
    const uint64_t inside = prefix_xor(quotes) ^ in_string; /* an opening quote and the bytes up to its closing one */
    in_string = (uint64_t)((int64_t)inside >> 63);
    const uint64_t scalar = ~(m.space | m.op | quotes) & ~inside & valid;
    const uint64_t starts = scalar & ~((scalar << 1) | scalar_in);
    scalar_in = scalar >> 63;
    uint64_t tokens = (m.op & ~inside & valid) | (quotes & inside) | starts;
    uint64_t fault = m.control & inside & valid;
    const uint64_t letters = escaped & inside & ~(m.quote | m.backslash);
    if (letters) {
      uint64_t u;
      fault |= letters & ~escape_letters(b + base, &u);
      for (uint64_t x = letters & u; x; x &= x - 1)
        if (!hex4(b, base + (int32_t)__builtin_ctzll(x), n)) fault |= x & (0 - x);
    }
    while (tokens) {
      const uint64_t bit = tokens & (0 - tokens);
      tokens ^= bit;
      const int32_t at = base + (int32_t)__builtin_ctzll(bit);
      const uint8_t c = b[at];
      int closed = 0;
      switch (state) {
        case S_FIRST_ELEMENT:
        case S_FIRST_MEMBER:
          if (c == (state == S_FIRST_MEMBER ? '}' : ']')) {
            closed = 1;
            break;
          }
          if (depth > MAX_DEPTH) return fault & (bit - 1) ? BAD : TOO_DEEP;
          if (state == S_FIRST_MEMBER) {
            if (c != '"') return BAD;
            state = S_COLON;
            break;
          }
          /* fall through: an array's first element is a value */
        case S_VALUE:
          if (c == '{' || c == '[') {
            stack[++depth] = c == '{' ? 1 : 2;
            state = c == '{' ? S_FIRST_MEMBER : S_FIRST_ELEMENT;
          } else if (c == '"') {
            state = S_AFTER;
          } else {
            const int32_t e = skip_bare(b, at, n, c);
            if (e < 0 || (e < n && !is_end_of_scalar(b[e]))) return BAD;
            state = S_AFTER;
          }
          break;
        case S_NAME:
          if (c != '"') return BAD;
          state = S_COLON;
          break;
        case S_COLON:
          if (c != ':') return BAD;
          state = S_VALUE;
          break;
        default: /* S_AFTER */
          if (c == ',') state = stack[depth] == 1 ? S_NAME : S_VALUE;
          else if (c == (stack[depth] == 1 ? '}' : ']')) closed = 1;
          else return BAD;
      }
      if (closed) {
        if (--depth == 0) return fault & (bit - 1) ? BAD : at + 1;
        state = S_AFTER;
      }
    }
    if (fault) return BAD;
  }
  return depth > MAX_DEPTH ? TOO_DEEP : BAD;
}

/* One value from i (after optional whitespace), validated: the index past it, BAD or TOO_DEEP. */
__attribute__((export_name("skip_value"))) int32_t skip_value(int32_t i, int32_t n) {
  const uint8_t *b = doc();
  if (b[i] <= 0x20) i = skip_ws(b, i, n);
  if (i >= n) return BAD;
  const uint8_t c = b[i];
  if (c == '{' || c == '[') return skip_container(b, i, n);
  if (c == '"') {
    i = string_end(b, i + 1, n);
    return i < 0 ? BAD : i + 1;
  }
  return skip_bare(b, i, n, c);
}
