// Special tokens in Qwen's layout: right after the regular vocabulary come <|endoftext|>,
// <|im_start|>, <|im_end|>, then <|extra_0|>… (Qwen has 205 extras: ids 151643…151850).
export const ENDOFTEXT = '<|endoftext|>';
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const QWEN_EXTRA_TOKENS = 205;

export function qwenSpecialTokens(regularCount: number, extras = QWEN_EXTRA_TOKENS): Record<string, number> {
  const specials: Record<string, number> = { [ENDOFTEXT]: regularCount, [IM_START]: regularCount + 1, [IM_END]: regularCount + 2 };
  for (let i = 0; i < extras; i++) specials[`<|extra_${i}|>`] = regularCount + 3 + i;
  return specials;
}
