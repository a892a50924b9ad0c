// Union-find over dense document indices in an Int32Array (4 bytes per document). The root of a
// set is always its smallest index, i.e. the cluster's first document in input order, so the
// result does not depend on the order in which unions happen.
export class UnionFind {
  private parent = new Int32Array(1024);
  size = 0;

  /** Adds one singleton set and returns its index. */
  add(): number {
    if (this.size === this.parent.length) {
      const grown = new Int32Array(this.parent.length * 2);
      grown.set(this.parent);
      this.parent = grown;
    }
    this.parent[this.size] = this.size;
    return this.size++;
  }

  find(i: number): number {
    const parent = this.parent;
    while (parent[i] !== i) {
      const grand = parent[parent[i]!]!;
      parent[i] = grand; // path halving
      i = grand;
    }
    return i;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  get bytes(): number {
    return this.parent.byteLength;
  }
}
