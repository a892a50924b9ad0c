// Runs every test/**/*.test.ts with node:test under tsx. Node 20's --test has no glob support.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') || name.endsWith('.test.tsx') ? [path] : [];
  });
}

const files = process.argv.length > 2 ? process.argv.slice(2) : find('test');
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
