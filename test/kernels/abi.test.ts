// The C ABI is written twice: in kernels/include/loom_kernels.h, which both libraries implement,
// and as koffi signatures in kernels/native.ts, which TypeScript calls. A mismatch is silent
// memory corruption at run time, so this test holds the two to the same functions and arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SIGNATURES } from '../../kernels/native.js';

const HEADER = new URL('../../kernels/include/loom_kernels.h', import.meta.url);

interface Declaration {
  name: string;
  returns: string;
  params: string[];
}

/** One C declaration `ret name(type a, type b)` with types normalized across the two spellings. */
function parse(decl: string): Declaration {
  const m = /^\s*([\w\s*]+?)\s*\b(lk_\w+)\s*\(([^)]*)\)\s*;?\s*$/.exec(decl.replace(/\s+/g, ' '));
  if (!m) throw new Error(`cannot parse: ${decl}`);
  const params = m[3]!.trim() === '' || m[3]!.trim() === 'void' ? [] : m[3]!.split(',').map(normalizeParam);
  return { name: m[2]!, returns: normalizeType(m[1]!), params };
}

function normalizeParam(param: string): string {
  // drop the parameter name: the last identifier
  return normalizeType(param.trim().replace(/\b\w+\s*$/, ''));
}

/** lk_ptr, lk_stream, lk_event and lk_graph travel as uint64_t; koffi's `_Out_` and `const` do not change the ABI. */
function normalizeType(type: string): string {
  const t = type
    .replace(/\b_Out_\b|\bconst\b|\bLK_API\b/g, '')
    .replace(/\blk_(ptr|stream|event|graph)\b/g, 'uint64_t')
    .replace(/\s+/g, '')
    .trim();
  // host buffers: char*, void* and uint8_t* are all one pointer
  return /^(char|void|uint8_t)\*$/.test(t) ? 'host*' : t;
}

function headerDeclarations(): Map<string, Declaration> {
  const text = readFileSync(HEADER, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map<string, Declaration>();
  for (const m of text.matchAll(/^LK_API\s+([^;#]+);/gm)) {
    const d = parse(m[1]!);
    out.set(d.name, d);
  }
  return out;
}

test('the koffi declarations in native.ts match loom_kernels.h function for function', () => {
  const header = headerDeclarations();
  assert.ok(header.size > 40, `found only ${header.size} declarations in the header`);
  const bound = new Map(Object.entries(SIGNATURES).map(([key, sig]) => [key, parse(sig)]));
  assert.deepEqual([...bound.keys()].sort(), [...header.keys()].sort(), 'the same function names');
  for (const [key, d] of bound) {
    assert.equal(d.name, key, `native.ts: the key ${key} declares ${d.name}`);
    const h = header.get(key)!;
    assert.equal(d.returns, h.returns, `${key}: return type`);
    assert.deepEqual(d.params, h.params, `${key}: parameter types`);
  }
});

test('the parser sees a changed argument list', () => {
  const a = parse('int lk_x(uint64_t a, int64_t n, float s)');
  const b = parse('LK_API int lk_x(lk_ptr a, int64_t n, int s)');
  assert.notDeepEqual(a.params, b.params);
  assert.deepEqual(parse('int lk_y(_Out_ uint64_t *out)').params, parse('int lk_y(lk_stream *out)').params);
});
