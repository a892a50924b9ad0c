// Types for scripts/patch-deps.mjs (imported by its test).
export const MARKER: string;
export const PATCHES: { file: string; edits: [string, string][] }[];
export function patchFile(path: string, edits: [string, string][]): boolean;
