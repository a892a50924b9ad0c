import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FALLBACK_COLUMNS, terminalColumns } from '../../../lib/ui/terminal.js';

test('a terminal that reports 0 columns (or none) is drawn 80 wide; a real width is used as it is', () => {
  assert.equal(terminalColumns({ columns: 0 }), FALLBACK_COLUMNS);
  assert.equal(terminalColumns({}), FALLBACK_COLUMNS);
  assert.equal(terminalColumns({ columns: 132 }), 132);
});
