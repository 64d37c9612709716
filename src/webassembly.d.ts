/**
 * The part of the WebAssembly JavaScript API that src/sources/mcp/json-skip.ts uses. Node has all of it;
 * the libraries this project compiles against (es2023 and @types/node) do not declare it.
 */
declare namespace WebAssembly {
  interface Exports {
    readonly [name: string]: unknown;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: object);
    readonly exports: Exports;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
