#!/usr/bin/env node
// Builds the kernel libraries into kernels/build/:
//   node kernels/build.mjs        CPU library (always) + CUDA library when nvcc is on PATH
//   node kernels/build.mjs cpu    CPU library only
//   node kernels/build.mjs cuda   CUDA library only (fails when nvcc is missing)
// Environment: CXX (default g++), NVCC (default nvcc), LOOM_CXXFLAGS / LOOM_NVCCFLAGS (extra flags),
// LOOM_CUDA_ARCHS (default "80;90": sm_80 and newer, sm_90 = H100/H200, built as sm_90a).
// Any failure exits non-zero with the compiler's output: a build never fails silently.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'build');
const ext = process.platform === 'darwin' ? 'dylib' : 'so';
const sources = (dir, suffix) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(root, dir, f));
const flags = (name) => (process.env[name] ?? '').split(/\s+/).filter(Boolean);

function onPath(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function failed(label, cmd, args, why) {
  process.stderr.write(`kernels: ${label} build FAILED (${cmd}: ${why}).\n` +
    `  Command: ${cmd} ${args.join(' ')}\n` +
    (label === 'cpu'
      ? '  The CPU library needs a C++17 compiler with OpenMP (Debian/Ubuntu: apt-get install g++; macOS: brew install gcc libomp).\n'
      : '  The CUDA library needs CUDA 12+ (nvcc, cuBLASLt). Set LOOM_CUDA_ARCHS to match your GPU, or build the CPU library only: node kernels/build.mjs cpu\n'));
  process.exit(1);
}

function run(label, cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error || r.status !== 0) failed(label, cmd, args, r.error ? r.error.message : `exit code ${r.status}`);
}

// Build to a temporary name and rename, so a running process never loads a half-written library.
function link(label, cmd, args, target) {
  const tmp = `${target}.tmp`;
  run(label, cmd, [...args, '-o', tmp]);
  renameSync(tmp, target);
  process.stderr.write(`kernels: wrote ${target}\n`);
}

function buildCpu() {
  const cxx = process.env.CXX || 'g++';
  if (!onPath(cxx)) {
    process.stderr.write(`kernels: no C++ compiler '${cxx}' found; install g++ (with OpenMP) or set CXX.\n`);
    process.exit(1);
  }
  process.stderr.write('kernels: building cpu\n');
  link('cpu', cxx, [
    '-std=c++17', '-O3', '-march=native', '-ffp-contract=fast', '-fopenmp', '-fPIC', '-shared',
    '-fvisibility=hidden', '-Wl,-z,nodelete', '-Wall', '-Wextra', '-Wno-unused-parameter',
    ...flags('LOOM_CXXFLAGS'), ...sources('cpu', '.cpp'),
  ], join(out, `libloom_cpu.${ext}`));
}

// Compiles each .cu file in parallel (the attention kernels dominate), then links.
async function buildCuda() {
  const nvcc = process.env.NVCC || 'nvcc';
  if (!onPath(nvcc)) {
    process.stderr.write(`kernels: '${nvcc}' not found; the CUDA library needs the CUDA toolkit (nvcc) on PATH.\n`);
    process.exit(1);
  }
  // sm_90 code is built as sm_90a where nvcc knows it (CUDA 12+): the attention kernels use Hopper's
  // wgmma, which has no portable form; an older nvcc builds plain sm_90 and the mma.sync kernels
  const archs = (process.env.LOOM_CUDA_ARCHS ?? '80;90').split(/[;,\s]+/).filter(Boolean)
    .map((a) => (a === '90' && compiles(nvcc, '90a') ? '90a' : a));
  const common = [
    '-std=c++17', '-O3', '-Xcompiler', '-fPIC,-fvisibility=hidden',
    ...archs.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]), ...flags('LOOM_NVCCFLAGS'),
    ...(archs.includes('90a') ? ['-DLK_HAVE_SM90A'] : []),
  ];
  const objDir = join(out, 'cuda-obj');
  mkdirSync(objDir, { recursive: true });
  process.stderr.write(`kernels: building cuda (sm_${archs.join(', sm_')})\n`);
  const objects = await Promise.all(
    sources('cuda', '.cu').map(
      (src) =>
        new Promise((resolve) => {
          const obj = join(objDir, basename(src).replace(/\.cu$/, '.o'));
          const args = [...common, '-c', src, '-o', obj];
          const child = spawn(nvcc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
          child.on('error', (err) => failed('cuda', nvcc, args, err.message));
          child.on('exit', (code) => (code === 0 ? resolve(obj) : failed('cuda', nvcc, args, `exit code ${code}`)));
        }),
    ),
  );
  link('cuda', nvcc, ['-shared', '-Xlinker', '-z,nodelete', ...common, ...objects, '-lcublasLt', '-lcublas', '-ldl'],
    join(out, `libloom_cuda.${ext}`));
}

// Whether this nvcc can generate code for sm_<arch>.
function compiles(nvcc, arch) {
  const probe = spawnSync(nvcc, ['-gencode', `arch=compute_${arch},code=sm_${arch}`, '-x', 'cu', '-c', '-o', '/dev/null', '-'], {
    input: '__global__ void probe() {}\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return probe.status === 0;
}

// nvcc alone is not a CUDA toolkit: some images ship the compiler without cuBLAS.
function hasCublasLt() {
  const probe = spawnSync(process.env.NVCC || 'nvcc', ['-x', 'cu', '-E', '-o', '/dev/null', '-'], {
    input: '#include <cublasLt.h>\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return probe.status === 0;
}

const what = process.argv[2] ?? 'auto';
if (!['auto', 'cpu', 'cuda'].includes(what)) {
  process.stderr.write(`kernels: unknown target '${what}' (expected cpu, cuda or nothing)\n`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });
if (what === 'cpu' || what === 'auto') buildCpu();
if (what === 'cuda') await buildCuda();
if (what === 'auto') {
  if (!onPath(process.env.NVCC || 'nvcc')) {
    process.stderr.write('kernels: nvcc not on PATH, so only the CPU library was built (npm run build:cuda builds the CUDA one)\n');
  } else if (!hasCublasLt()) {
    process.stderr.write(
      '\nkernels: WARNING: nvcc is on PATH but cuBLASLt (cublasLt.h) is not, so the CUDA library was NOT built;\n' +
        '  loom will run on the CPU. Install the CUDA toolkit with cuBLAS, then run `npm run build:cuda`.\n\n',
    );
  } else {
    await buildCuda();
  }
}
