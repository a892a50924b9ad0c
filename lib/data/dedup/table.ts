// An open-addressing hash table from 64-bit keys (two uint32 halves) to non-negative int32
// values: 12 bytes a slot, no object per entry. It maps band hashes and exact-content hashes to
// the first document that had them; keys are already uniform hashes, so the low half indexes.
const MAX_LOAD = 0.7;

export class HashTable64 {
  private keys: Uint32Array;
  private values: Int32Array; // value + 1; 0 marks an empty slot
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.keys = new Uint32Array(capacity * 2);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** The value stored under the key, or -1 after storing `value` there (the key was new). */
  getOrInsert(hi: number, lo: number, value: number): number {
    hi >>>= 0;
    lo >>>= 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const stored = this.values[slot]!;
      if (stored === 0) break;
      if (this.keys[2 * slot] === hi && this.keys[2 * slot + 1] === lo) return stored - 1;
      slot = (slot + 1) & this.mask;
    }
    this.keys[2 * slot] = hi;
    this.keys[2 * slot + 1] = lo;
    this.values[slot] = value + 1;
    if (++this.size > MAX_LOAD * (this.mask + 1)) this.grow();
    return -1;
  }

  get(hi: number, lo: number): number {
    hi >>>= 0;
    lo >>>= 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const stored = this.values[slot]!;
      if (stored === 0) return -1;
      if (this.keys[2 * slot] === hi && this.keys[2 * slot + 1] === lo) return stored - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Replaces the value of an existing key (no-op when absent). */
  set(hi: number, lo: number, value: number): void {
    hi >>>= 0;
    lo >>>= 0;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const stored = this.values[slot]!;
      if (stored === 0) return;
      if (this.keys[2 * slot] === hi && this.keys[2 * slot + 1] === lo) {
        this.values[slot] = value + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  get bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Uint32Array(capacity * 2);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
    for (let slot = 0; slot < oldValues.length; slot++) {
      const stored = oldValues[slot]!;
      if (stored !== 0) this.getOrInsert(oldKeys[2 * slot]!, oldKeys[2 * slot + 1]!, stored - 1);
    }
  }
}
