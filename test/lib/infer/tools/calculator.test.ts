import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calculator, evaluate, formatNumber } from '../../../../lib/infer/tools/calculator.js';

const signal = new AbortController().signal;

test('evaluate: precedence, right-associative powers, unary minus, functions and constants', () => {
  assert.equal(evaluate('1 + 2 * 3'), 7);
  assert.equal(evaluate('(1 + 2) * 3'), 9);
  assert.equal(evaluate('2 ^ 3 ^ 2'), 512);
  assert.equal(evaluate('2 ** 10'), 1024);
  assert.equal(evaluate('-2 ^ 2'), -4);
  assert.equal(evaluate('7 % 4 - -1'), 4);
  assert.equal(evaluate('sqrt(16) + max(1, 5, 3) + abs(-2)'), 11);
  assert.equal(evaluate('1.5e3 / .5'), 3000);
  assert.equal(evaluate('cos(pi)'), -1);
  assert.equal(evaluate('ln(e)'), 1);
});

test('evaluate refuses anything but arithmetic, saying where', () => {
  assert.throws(() => evaluate('process.exit(1)'), /cannot read "\.exit\(1\)"/);
  assert.throws(() => evaluate('process'), /unknown name "process"/);
  assert.throws(() => evaluate('toString(1)'), /unknown name "toString"/);
  assert.throws(() => evaluate('constructor'), /unknown name "constructor"/);
  assert.throws(() => evaluate('2 +'), /expected more at the end/);
  assert.throws(() => evaluate('(1 + 2'), /expected \) at the end/);
  assert.throws(() => evaluate('1 2'), /unexpected "2"/);
  assert.throws(() => evaluate('1 + "a"'), /cannot read "\\"a\\""/);
  assert.throws(() => evaluate('  '), /empty expression/);
});

test('calculator tool: the value as short text', async () => {
  assert.equal(await calculator.call({ expression: '17 * 23' }, { signal }), '391');
  assert.equal(await calculator.call({ expression: '1 / 3' }, { signal }), '0.333333333333');
  assert.equal(await calculator.call({ expression: '0.1 + 0.2' }, { signal }), '0.3');
  assert.equal(formatNumber(1 / 0), 'Infinity');
  await assert.rejects(calculator.call({ expression: 3 }, { signal }), /"expression" must be a string/);
});
