// A tool the model may call in the ReAct loop (lib/infer/react.ts): what the prompt tells the model
// about it (name, description, the JSON schema of its arguments), and the call itself. Built-ins
// live next to this file; users add their own with `--tool ./my-tool.ts` (tools/load.ts).

/** A JSON schema, as written in the prompt (`{"type":"object","properties":{…},"required":[…]}`). */
export type JsonSchema = { [key: string]: unknown };

export interface ToolContext {
  /** Aborted when the answer is cancelled (Ctrl-C in chat): a long call should stop. */
  signal: AbortSignal;
}

export interface Tool {
  /** What the model writes after `Action:`: one word, unique among the tools of a run. */
  name: string;
  /** What the tool is useful for, in a sentence or two the model reads. */
  description: string;
  /** The schema of the arguments object the model writes after `Action Input:`. */
  parameters: JsonSchema;
  /**
   * Runs the tool; the text returned is the Observation the model reads next. A thrown error also
   * becomes the Observation (`Error: …`), so the model can correct itself.
   */
  call(args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
}
