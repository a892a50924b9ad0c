// `loom tokenize stats`: how well a vocabulary compresses each language, against cl100k.

export interface LanguageStats {
  docs: number;
  chars: number;
  bytes: number;
  tokens: number;
  reference_tokens: number;
  bytes_per_token: number;
  chars_per_token: number;
  /** tokens / reference tokens: below 1 means fewer tokens than the reference vocabulary. */
  ratio: number;
}

const HAN = /\p{Script=Han}/gu;
const LETTER = /\p{L}/gu;

/** The document's `lang`, else `zh` when Han characters make up at least 30% of the letters. */
export function languageOf(lang: unknown, text: string): string {
  if (typeof lang === 'string' && lang !== '') return lang;
  const letters = text.match(LETTER)?.length ?? 0;
  const han = text.match(HAN)?.length ?? 0;
  return letters > 0 && han / letters >= 0.3 ? 'zh' : 'und';
}

export class TokenStats {
  private readonly byLang = new Map<string, Omit<LanguageStats, 'bytes_per_token' | 'chars_per_token' | 'ratio'>>();

  add(lang: string, text: string, tokens: number, referenceTokens: number): void {
    const entry = this.byLang.get(lang) ?? { docs: 0, chars: 0, bytes: 0, tokens: 0, reference_tokens: 0 };
    entry.docs += 1;
    let chars = 0;
    for (const _ of text) chars += 1;
    entry.chars += chars;
    entry.bytes += Buffer.byteLength(text);
    entry.tokens += tokens;
    entry.reference_tokens += referenceTokens;
    this.byLang.set(lang, entry);
  }

  report(): Record<string, LanguageStats> {
    const out: Record<string, LanguageStats> = {};
    const all = { docs: 0, chars: 0, bytes: 0, tokens: 0, reference_tokens: 0 };
    const finish = (e: typeof all): LanguageStats => ({
      ...e,
      bytes_per_token: round(e.bytes / Math.max(1, e.tokens)),
      chars_per_token: round(e.chars / Math.max(1, e.tokens)),
      ratio: round(e.tokens / Math.max(1, e.reference_tokens)),
    });
    for (const [lang, e] of [...this.byLang].sort((a, b) => b[1].bytes - a[1].bytes)) {
      out[lang] = finish(e);
      for (const key of Object.keys(all) as (keyof typeof all)[]) all[key] += e[key];
    }
    out.all = finish(all);
    return out;
  }
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

export function formatStats(report: Record<string, LanguageStats>, name: string, reference: string): string {
  const header = ['lang', 'docs', 'bytes', 'tokens', 'bytes/token', 'chars/token', `${reference} tokens`, `${name}/${reference}`];
  const rows = Object.entries(report).map(([lang, s]) => [lang, s.docs, s.bytes, s.tokens, s.bytes_per_token.toFixed(2), s.chars_per_token.toFixed(2), s.reference_tokens, s.ratio.toFixed(3)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
