// The shape of a region's control flow for structured WebAssembly: reverse postorder, dominators,
// loop headers and merge nodes, as Ramsey's "Beyond Relooper" (ICFP 2022) needs them to turn a
// reducible control-flow graph into nested block/loop/if with plain branches (no dispatch loop,
// so V8 sees ordinary loops and keeps guest registers in machine registers across them).
// An edge that would make the graph irreducible (a retreating edge to a node that does not
// dominate its source) is not followed: it leaves the region instead.

export interface Shape {
  /** Nodes reachable from the entry (node 0), in reverse postorder. */
  rpo: number[];
  /** Position of each node in rpo (-1: unreachable). */
  rpoIndex: number[];
  /** Immediate dominator of each reachable node (the entry's is itself). */
  idom: number[];
  loopHeader: boolean[];
  /** Nodes with two or more forward edges into them: they follow a `block` their predecessors leave. */
  merge: boolean[];
  /** The in-region successors each node's terminator may reach (after dropping irreducible edges). */
  succs: number[][];
  /** Dominator-tree children, each list in increasing reverse postorder. */
  children: number[][];
}

function reversePostorder(n: number, succs: number[][]): number[] {
  const seen = new Array<boolean>(n).fill(false);
  const post: number[] = [];
  const stack: [number, number][] = [[0, 0]];
  seen[0] = true;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [v, i] = top;
    if (i < succs[v]!.length) {
      top[1]++;
      const w = succs[v]![i]!;
      if (!seen[w]) {
        seen[w] = true;
        stack.push([w, 0]);
      }
    } else {
      post.push(v);
      stack.pop();
    }
  }
  return post.reverse();
}

/** Cooper, Harvey and Kennedy's iterative dominators, over reverse postorder. */
function dominators(n: number, rpo: number[], rpoIndex: number[], succs: number[][]): number[] {
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const v of rpo) for (const w of succs[v]!) preds[w]!.push(v);
  const idom = new Array<number>(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (rpoIndex[a]! > rpoIndex[b]!) a = idom[a]!;
      while (rpoIndex[b]! > rpoIndex[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const v of rpo) {
      if (v === 0) continue;
      let d = -1;
      for (const p of preds[v]!) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== idom[v]) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return idom;
}

function dominates(idom: number[], a: number, b: number): boolean {
  for (let v = b; ; v = idom[v]!) {
    if (v === a) return true;
    if (v === 0 || v === -1) return a === 0 && v === 0;
  }
}

/** The shape of the graph of `n` nodes (node 0 the entry) with successor lists `succsIn`. */
export function analyze(n: number, succsIn: readonly (readonly number[])[]): Shape {
  const succs = succsIn.map((s) => [...new Set(s)]);
  for (;;) {
    const rpo = reversePostorder(n, succs);
    const rpoIndex = new Array<number>(n).fill(-1);
    rpo.forEach((v, i) => (rpoIndex[v] = i));
    const idom = dominators(n, rpo, rpoIndex, succs);
    // Retreating edges must be back edges (to a dominator); drop those that are not and retry.
    let dropped = false;
    for (const v of rpo) {
      succs[v] = succs[v]!.filter((w) => {
        const ok = rpoIndex[w]! > rpoIndex[v]! || dominates(idom, w, v);
        if (!ok) dropped = true;
        return ok;
      });
    }
    if (dropped) continue;
    const loopHeader = new Array<boolean>(n).fill(false);
    const forwardIn = new Array<number>(n).fill(0);
    for (const v of rpo) {
      for (const w of succs[v]!) {
        if (rpoIndex[w]! <= rpoIndex[v]!) loopHeader[w] = true;
        else forwardIn[w]!++;
      }
    }
    const children: number[][] = Array.from({ length: n }, () => []);
    for (const v of rpo) if (v !== 0) children[idom[v]!]!.push(v);
    return { rpo, rpoIndex, idom, loopHeader, merge: forwardIn.map((c) => c >= 2), succs, children };
  }
}
