// The `calculator` tool: arithmetic read by a small recursive-descent parser, never eval, so an
// expression can only compute a number. Grammar, loosest binding first:
//   sum     = product (("+" | "-") product)*
//   product = unary (("*" | "/" | "%") unary)*
//   unary   = ("-" | "+") unary | power
//   power   = atom (("^" | "**") unary)?        right-associative; -2^2 = -4 as in mathematics
//   atom    = number | constant | function "(" sum ("," sum)* ")" | "(" sum ")"
import type { Tool } from './types.js';

const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  sqrt: Math.sqrt,
  cbrt: Math.cbrt,
  abs: Math.abs,
  exp: Math.exp,
  ln: Math.log,
  log: Math.log10,
  log2: Math.log2,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  floor: Math.floor,
  ceil: Math.ceil,
  round: Math.round,
  min: Math.min,
  max: Math.max,
  pow: Math.pow,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };
const TOKEN = /\s*(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|\*\*|[-+*/%^(),]|[a-z_]\w*)/iy;

/** The value of an arithmetic expression; throws an Error saying where it is not one. */
export function evaluate(expression: string): number {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`expected ${expected ?? 'more'} ${token === undefined ? 'at the end' : `before ${JSON.stringify(token)}`}`);
    at += 1;
    return token;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  const product = (): number => {
    let value = unary();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      take();
      const right = unary();
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  };
  const unary = (): number => {
    const sign = peek();
    if (sign !== '-' && sign !== '+') return power();
    take();
    return sign === '-' ? -unary() : unary();
  };
  const power = (): number => {
    const base = atom();
    if (peek() !== '^' && peek() !== '**') return base;
    take();
    return base ** unary();
  };
  const atom = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      take(')');
      return value;
    }
    if (/^[\d.]/.test(token)) return Number(token);
    const name = token.toLowerCase();
    // Own properties only: `constructor` or `__proto__` must not reach Object's.
    if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name]!;
    const fn = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (!fn) throw new Error(`unknown name ${JSON.stringify(token)} (functions: ${Object.keys(FUNCTIONS).join(', ')}; constants: pi, e)`);
    take('(');
    const args = [sum()];
    while (peek() === ',') {
      take();
      args.push(sum());
    }
    take(')');
    return fn(...args);
  };
  const value = sum();
  if (at < tokens.length) throw new Error(`unexpected ${JSON.stringify(tokens[at])}`);
  return value;
}

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    const from = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match) {
      if (expression.slice(from).trim() === '') break;
      throw new Error(`cannot read ${JSON.stringify(expression.slice(from).trim().slice(0, 20))}`);
    }
    tokens.push(match[1]!);
  }
  if (tokens.length === 0) throw new Error('empty expression');
  return tokens;
}

/** Shortest text of a value: integers exactly, other numbers to 12 significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

export const calculator: Tool = {
  name: 'calculator',
  description: 'Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt, ln, log, sin, cos, min, max, pi, e and similar.',
  parameters: { type: 'object', properties: { expression: { type: 'string', description: 'The expression, e.g. (3 + 4) * 2 ^ 10' } }, required: ['expression'] },
  async call(args) {
    if (typeof args.expression !== 'string') throw new Error('"expression" must be a string');
    return formatNumber(evaluate(args.expression));
  },
};
