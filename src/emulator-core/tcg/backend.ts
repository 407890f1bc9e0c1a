// The WebAssembly back end: a region's IR -> one function of type (budget: i32) -> i64 that runs
// until it leaves the region, sharing the core's memory (hart state at address 0, guest RAM, the
// TLB). Inside, guest registers live in wasm locals (loaded at entry, written back where the code
// leaves or calls the interpreter), control flow is structured (structure.ts), loads and stores
// inline the TLB hit and call the core for the rest. Every exit goes through one tail that writes
// registers back and then tries, in order: the chaining slot of a same-page direct exit, the jump
// cache (inline) or the core's lookup for other exits (both tail-call the target through the
// core's table: no return to the run loop), and finally a return to the run loop with the next pc.
import {
  CONT, ExitKind, JC_ENTRIES, JC_ENTRY_BYTES, JV_BUDGET, JV_EPOCH, JV_JC_GEN, JV_TLB_X, JV_EXIT, JV_LINK, JV_LINK_PC, JV_STATUS, JV_TLB_R, JV_TLB_W,
  SLOW_STOP, ST_X, TLB_ENTRIES, TLB_ENTRY_BYTES,
} from './core-abi';
import { FIRST_LOCAL, isConst, isGuestReg, type Arg, type BinOp, type IrBlock, type Op, type Terminator } from './ir';
import type { Shape } from './structure';
import { FunctionBuilder, I32, I64, VOID, type Local } from './wasm/function-builder';
import type { FuncType, HelperFunc } from './wasm/module-builder';

/** The type of every translated function. */
export const TRANSLATED: FuncType = { params: [I32], results: [I64] };

/**
 * The core's helpers translated code calls (wasm/jit.ts), with their types: they sit in the core's
 * function table at HELPER_BASE + their position (translator.ts puts them there).
 */
export const HELPERS: readonly HelperFunc[] = [
  { name: 'jitLoad', type: { params: [I64, I32], results: [I64] } },
  { name: 'jitStore', type: { params: [I64, I64, I32], results: [] } },
  { name: 'jitSlowExit', type: { params: [I64, I64], results: [I64] } },
  { name: 'jitExec', type: { params: [I32, I64, I32], results: [I64] } },
  { name: 'jitLookup', type: { params: [I64], results: [I32] } },
  { name: 'jitMulh', type: { params: [I64, I64, I32], results: [I64] } },
];
/** Table index of HELPERS[0]. */
export const HELPER_BASE = 1;
const H_LOAD = 0;
const H_STORE = 1;
const H_SLOW_EXIT = 2;
const H_EXEC = 3;
const H_LOOKUP = 4;
const H_MULH = 5;

export interface BackendContext {
  /** Address of MEM_JIT_VARS and of the jump cache in the core's memory. */
  vars: number;
  jumpCache: number;
  /** The index of a function type in the module being built. */
  typeIndex(t: FuncType): number;
  /** Places data in the core's memory (the batch's arena) and says where. */
  allocData(bytes: Uint8Array): number;
  /** A fresh chaining slot (a u32 in the core's memory, 0 until the run loop links it). */
  allocSlot(): number;
  /** Keep the text rendering (golden tests, -d tcg-wat). */
  text?: boolean;
}

const PAGE_MASK = ~0xfffn & ((1n << 64n) - 1n);
/** Bytes of a slow-tail row: u64 pc, u64 next pc, u32 refund, padding. */
const SLOW_ROW = 24;
const M64 = (1n << 64n) - 1n;

/** Compiles the region's blocks (blocks[0] is the entry; `shape` from structure.analyze). */
export function compileRegion(
  blocks: readonly IrBlock[],
  shape: Shape,
  ctx: BackendContext,
  name = 'region',
): { body: Uint8Array; hints: readonly [number, 0 | 1][]; text?: string } {
  return new RegionCompiler(blocks, shape, ctx).compile(name);
}

class RegionCompiler {
  private readonly fb: FunctionBuilder;
  private readonly budget = 0 as Local;
  private readonly regs = new Map<number, Local>();
  private readonly temps = new Map<number, Local>();
  /** Guest registers the region writes: written back at every exit and before every exec. */
  private readonly written: number[];
  private readonly index = new Map<bigint, number>();
  private readonly entryPage: bigint;
  private tlbR: Local | undefined;
  private tlbW: Local | undefined;
  private tlbX: Local | undefined;
  private readonly addr: Local;
  private readonly val: Local;
  private readonly e: Local;
  private readonly exitPc: Local;
  private readonly exitKind: Local;
  private readonly exitSlot: Local;
  private readonly scratch: Local[] = [];
  /** Builder depth just inside the function-wide `block` every exit branches out of. */
  private exitDepth = 0;
  /** Builder depth just inside the `block` slow-path events branch out of (to the slow tail). */
  private slowDepth = 0;
  /** The slow tail's table: per instruction with a slow path, its pc, next pc and refund. */
  private readonly slowTable: { pc: bigint; npc: bigint; refund: number }[] = [];
  private slowIdx: Local | undefined;
  /** Label depths: loop headers (their loop) and merge nodes (the block they follow). */
  private readonly loopLabel = new Map<number, number>();
  private readonly mergeLabel = new Map<number, number>();

  constructor(
    private readonly blocks: readonly IrBlock[],
    private readonly shape: Shape,
    private readonly ctx: BackendContext,
  ) {
    this.fb = new FunctionBuilder(TRANSLATED.params, ctx.text);
    blocks.forEach((b, i) => this.index.set(b.pc, i));
    this.entryPage = blocks[0]!.pc & PAGE_MASK;
    const used = new Set<number>();
    const written = new Set<number>();
    let memory = false;
    let fetch = false;
    const use = (a: Arg): void => {
      if (!isConst(a) && isGuestReg(a)) used.add(a);
    };
    const def = (d: number): void => {
      if (isGuestReg(d)) {
        used.add(d);
        written.add(d);
      }
    };
    for (const i of shape.rpo) {
      const b = blocks[i]!;
      for (const op of b.ops) {
        switch (op.kind) {
          case 'mov': use(op.a); def(op.d); break;
          case 'bin': use(op.a); use(op.b); def(op.d); break;
          case 'load': use(op.addr); def(op.d); memory = true; break;
          case 'store': use(op.addr); use(op.v); memory = true; break;
          case 'exec': if (op.writes) used.add(op.writes); break;
          case 'guard': fetch = true; break;
        }
      }
      if (b.end.kind === 'branch') {
        use(b.end.a);
        use(b.end.b);
      } else if (b.end.kind === 'indirect') use(b.end.target);
    }
    for (const r of [...used].sort((a, b) => a - b)) this.regs.set(r, this.fb.local(I64));
    this.written = [...written].sort((a, b) => a - b);
    if (memory) {
      this.tlbR = this.fb.local(I32);
      this.tlbW = this.fb.local(I32);
    }
    if (fetch) this.tlbX = this.fb.local(I32);
    this.addr = this.fb.local(I64);
    this.val = this.fb.local(I64);
    this.e = this.fb.local(I32);
    this.exitPc = this.fb.local(I64);
    this.exitKind = this.fb.local(I32);
    this.exitSlot = this.fb.local(I32);
  }

  compile(name: string): { body: Uint8Array; hints: readonly [number, 0 | 1][]; text?: string } {
    const fb = this.fb;
    const vars = this.ctx.vars;
    if (this.tlbR !== undefined && this.tlbW !== undefined) {
      fb.i32Const(0).i32Load(vars + JV_TLB_R).set(this.tlbR);
      fb.i32Const(0).i32Load(vars + JV_TLB_W).set(this.tlbW);
    }
    if (this.tlbX !== undefined) fb.i32Const(0).i32Load(vars + JV_TLB_X).set(this.tlbX);
    for (const [r, l] of this.regs) fb.i32Const(0).i64Load(ST_X + r * 8).set(l);
    fb.block();
    this.exitDepth = fb.depth;
    fb.block();
    this.slowDepth = fb.depth;
    this.doTree(0);
    fb.unreachable();
    fb.end();
    this.emitSlowTail();
    fb.end();
    this.emitExitTail();
    const body = fb.finish();
    return { body, hints: fb.branchHints(), text: this.ctx.text ? fb.text(name) : undefined };
  }

  // ---- structured control flow (Ramsey, "Beyond Relooper") ----

  private doTree(x: number): void {
    const s = this.shape;
    const merges = s.children[x]!.filter((y) => s.merge[y]).sort((a, b) => s.rpoIndex[b]! - s.rpoIndex[a]!);
    if (s.loopHeader[x]) {
      this.fb.loop();
      this.loopLabel.set(x, this.fb.depth);
      this.nodeWithin(x, merges);
      this.fb.end();
    } else this.nodeWithin(x, merges);
  }

  private nodeWithin(x: number, merges: number[]): void {
    if (merges.length) {
      const [y, ...rest] = merges as [number, ...number[]];
      this.fb.block();
      this.mergeLabel.set(y, this.fb.depth);
      this.nodeWithin(x, rest);
      this.fb.end();
      this.doTree(y);
      return;
    }
    const b = this.blocks[x]!;
    this.emitBudget(b);
    for (const op of b.ops) this.emitOp(op, b);
    this.emitTerminator(x, b.end);
  }

  private doBranch(x: number, target: bigint): void {
    const y = this.index.get(target);
    if (y === undefined || !this.shape.succs[x]!.includes(y)) {
      this.exitDirect(target);
      return;
    }
    const s = this.shape;
    if (s.rpoIndex[y]! <= s.rpoIndex[x]!) this.fb.br(this.fb.depth - this.loopLabel.get(y)!);
    else if (s.merge[y]) this.fb.br(this.fb.depth - this.mergeLabel.get(y)!);
    else this.doTree(y);
  }

  private emitTerminator(x: number, t: Terminator): void {
    const fb = this.fb;
    switch (t.kind) {
      case 'jump':
        this.doBranch(x, t.target);
        return;
      case 'indirect':
        this.push(t.target);
        fb.set(this.exitPc);
        this.exit(ExitKind.Indirect, 0);
        return;
      case 'branch': {
        if (t.taken === t.next) {
          this.doBranch(x, t.next);
          return;
        }
        this.push(t.a);
        this.push(t.b);
        this.compare(t.cond);
        fb.if_();
        this.doBranch(x, t.taken);
        fb.else_();
        this.doBranch(x, t.next);
        fb.end();
      }
    }
  }

  // ---- exits ----

  /** Leaves for a known pc: chained through a slot when it is in this page, else looked up. */
  private exitDirect(pc: bigint): void {
    this.fb.i64Const(pc).set(this.exitPc);
    if ((pc & PAGE_MASK) === this.entryPage) this.exit(ExitKind.SamePage, this.ctx.allocSlot());
    else this.exit(ExitKind.Direct, 0);
  }

  /** Branches to the exit tail with exitPc set. */
  private exit(kind: number, slot: number): void {
    this.fb.i32Const(kind).set(this.exitKind).i32Const(slot).set(this.exitSlot);
    this.fb.br(this.fb.depth - this.exitDepth);
  }

  /** Gives back the budget of the instructions after `index` in a block of `n` (they did not run). */
  private refund(b: IrBlock, index: number): void {
    const k = b.insns - 1 - index;
    if (k > 0) this.fb.get(this.budget).i32Const(k).i32Add().set(this.budget);
  }

  private writeBack(): void {
    for (const r of this.written) this.fb.i32Const(0).get(this.regs.get(r)!).i64Store(ST_X + r * 8);
  }

  private emitExitTail(): void {
    const fb = this.fb;
    const vars = this.ctx.vars;
    this.writeBack();
    // Chaining needs budget left (else the target would only return at once).
    fb.i32Const(0).get(this.budget).i32LtS().if_();
    fb.get(this.exitSlot).if_();
    {
      // A same-page direct exit: chain if its slot is linked for this memory epoch.
      fb.get(this.exitSlot).i32Load(4).i32Const(0).i32Load(vars + JV_EPOCH).i32Eq().if_();
      fb.get(this.exitSlot).i32Load().tee(this.e).if_();
      this.chainTo();
      fb.end();
      fb.end();
    }
    fb.else_();
    {
      fb.get(this.exitKind).i32Const(ExitKind.Direct).i32Eq();
      fb.get(this.exitKind).i32Const(ExitKind.Indirect).i32Eq().i32Or().if_();
      // The jump cache, inline: { u64 pc, u32 generation, u32 fetch table, u32 table index }.
      fb.get(this.exitPc).i32WrapI64().i32Const(1).i32ShrU().i32Const(JC_ENTRIES - 1).i32And();
      fb.i32Const(Math.log2(JC_ENTRY_BYTES)).i32Shl().tee(this.e);
      fb.i64Load(this.ctx.jumpCache).get(this.exitPc).i64Eq();
      fb.get(this.e).i32Load(this.ctx.jumpCache + 8).i32Const(0).i32Load(vars + JV_JC_GEN).i32Eq().i32And();
      fb.get(this.e).i32Load(this.ctx.jumpCache + 12).i32Const(0).i32Load(vars + JV_TLB_X).i32Eq().i32And();
      fb.if_(I32);
      fb.get(this.e).i32Load(this.ctx.jumpCache + 16);
      fb.else_();
      fb.get(this.exitPc);
      this.callHelper(H_LOOKUP);
      fb.end();
      fb.tee(this.e).if_();
      this.chainTo();
      fb.end();
      fb.end();
    }
    fb.end();
    fb.end();
    // Back to the run loop (a same-page direct exit asks it to link the slot).
    fb.get(this.exitSlot).if_();
    fb.i32Const(0).get(this.exitSlot).i32Store(vars + JV_LINK);
    fb.i32Const(0).get(this.exitPc).i64Store(vars + JV_LINK_PC);
    fb.end();
    fb.i32Const(0).get(this.budget).i32Store(vars + JV_BUDGET);
    fb.i32Const(0).get(this.exitKind).i32Store(vars + JV_EXIT);
    fb.get(this.exitPc);
  }

  /** Tail-calls the translation whose table index is in `e`, passing the budget. */
  private chainTo(): void {
    this.fb.get(this.budget).get(this.e).returnCallIndirect(this.ctx.typeIndex(TRANSLATED), 'chain');
  }

  /** Calls helper h (its arguments are on the stack) through the helper table. */
  private callHelper(h: number): void {
    this.fb.i32Const(HELPER_BASE + h).callIndirect(this.ctx.typeIndex(HELPERS[h]!.type), HELPERS[h]!.name);
  }

  // ---- blocks and ops ----

  /** A block starts by taking its instructions from the budget, or leaves if they do not fit. */
  private emitBudget(b: IrBlock): void {
    const fb = this.fb;
    fb.get(this.budget).i32Const(b.insns).i32LtS().if_(VOID, false);
    fb.i64Const(b.pc).set(this.exitPc);
    this.exit(ExitKind.Budget, 0);
    fb.end();
    fb.get(this.budget).i32Const(b.insns).i32Sub().set(this.budget);
  }

  private local(t: number): Local {
    if (isGuestReg(t)) return this.regs.get(t)!;
    let l = this.temps.get(t);
    if (l === undefined) {
      l = this.fb.local(I64);
      this.temps.set(t, l);
    }
    return l;
  }

  private push(a: Arg): void {
    if (isConst(a)) this.fb.i64Const(a);
    else this.fb.get(this.local(a));
  }

  private scratchLocal(i: number): Local {
    while (this.scratch.length <= i) this.scratch.push(this.fb.local(I64));
    return this.scratch[i]!;
  }

  private emitOp(op: Op, b: IrBlock): void {
    const fb = this.fb;
    switch (op.kind) {
      case 'mov':
        this.push(op.a);
        fb.set(this.local(op.d));
        return;
      case 'bin':
        this.emitBin(op.op, op.a, op.b);
        fb.set(this.local(op.d));
        return;
      case 'load':
        this.emitLoad(op, b);
        return;
      case 'store':
        this.emitStore(op, b);
        return;
      case 'exec':
        this.emitExec(op, b);
        return;
      case 'guard':
        this.emitGuard(op, b);
    }
  }

  /** Leaves before a page-crossing instruction unless its upper half is still what was translated. */
  private emitGuard(op: Extract<Op, { kind: 'guard' }>, b: IrBlock): void {
    const fb = this.fb;
    const e = this.e;
    const slot = Number((op.va >> 12n) & BigInt(TLB_ENTRIES - 1)) * TLB_ENTRY_BYTES;
    fb.get(this.tlbX!).i32Const(slot).i32Add().tee(e).i64Load().i64Const(op.va).i64Eq().if_(I32);
    fb.i32Const(Number(op.va & 0xffff_ffffn)).get(e).i32Load(8).i32Add().i32Load16U().i32Const(op.half).i32Ne();
    fb.else_();
    fb.i32Const(1);
    fb.end();
    fb.if_(VOID, false);
    // Not run: its whole cost goes back.
    const k = b.insns - op.insn.index;
    fb.get(this.budget).i32Const(k).i32Add().set(this.budget);
    fb.i64Const(op.insn.pc).set(this.exitPc);
    this.exit(ExitKind.Guard, 0);
    fb.end();
  }

  private compare(c: string): void {
    const fb = this.fb;
    switch (c) {
      case 'eq': fb.i64Eq(); break;
      case 'ne': fb.i64Ne(); break;
      case 'lt': fb.i64LtS(); break;
      case 'ge': fb.i64GeS(); break;
      case 'ltu': fb.i64LtU(); break;
      case 'geu': fb.i64GeU(); break;
      default: throw new Error(`compare ${c}`);
    }
  }

  private emitBin(op: BinOp, a: Arg, b: Arg): void {
    const fb = this.fb;
    const both = (): void => {
      this.push(a);
      this.push(b);
    };
    switch (op) {
      case 'add': both(); fb.i64Add(); return;
      case 'sub': both(); fb.i64Sub(); return;
      case 'and': both(); fb.i64And(); return;
      case 'or': both(); fb.i64Or(); return;
      case 'xor': both(); fb.i64Xor(); return;
      case 'shl': both(); fb.i64Shl(); return;
      case 'shr': both(); fb.i64ShrU(); return;
      case 'sar': both(); fb.i64ShrS(); return;
      case 'mul': both(); fb.i64Mul(); return;
      case 'add32': both(); fb.i64Add().i64Extend32S(); return;
      case 'sub32': both(); fb.i64Sub().i64Extend32S(); return;
      case 'mul32': both(); fb.i64Mul().i64Extend32S(); return;
      case 'shl32': this.both32(a, b); fb.i32Shl().i64ExtendI32S(); return;
      case 'shr32': this.both32(a, b); fb.i32ShrU().i64ExtendI32S(); return;
      case 'sar32': this.both32(a, b); fb.i32ShrS().i64ExtendI32S(); return;
      case 'lt': case 'ltu': case 'eq': case 'ne': case 'ge': case 'geu':
        both();
        this.compare(op);
        fb.i64ExtendI32U();
        return;
      case 'mulh': case 'mulhsu': case 'mulhu':
        both();
        fb.i32Const(op === 'mulh' ? 0 : op === 'mulhsu' ? 1 : 2);
        this.callHelper(H_MULH);
        return;
      default:
        this.emitDivRem(op, a, b);
    }
  }

  private both32(a: Arg, b: Arg): void {
    this.push(a);
    this.fb.i32WrapI64();
    this.push(b);
    this.fb.i32WrapI64();
  }

  /** RISC-V division: no traps (by zero: all ones / the dividend; MIN / -1: MIN / 0). */
  private emitDivRem(op: BinOp, a: Arg, b: Arg): void {
    const fb = this.fb;
    const wide = !op.endsWith('32');
    const base = wide ? op : op.slice(0, -2);
    const signed = base === 'div' || base === 'rem';
    const isDiv = base === 'div' || base === 'divu';
    const la = this.scratchLocal(0);
    const lb = this.scratchLocal(1);
    this.push(a);
    fb.set(la);
    this.push(b);
    fb.set(lb);
    // The divisor as the operation sees it (low 32 bits for the W forms).
    const divisor = (): void => {
      fb.get(lb);
      if (!wide) fb.i32WrapI64();
    };
    const quotientOrRemainder = (): void => {
      fb.get(la);
      if (!wide) fb.i32WrapI64();
      divisor();
      if (wide) {
        if (isDiv) {
          if (signed) fb.i64DivS();
          else fb.i64DivU();
        } else if (signed) fb.i64RemS();
        else fb.i64RemU();
      } else {
        if (isDiv) {
          if (signed) fb.i32DivS();
          else fb.i32DivU();
        } else if (signed) fb.i32RemS();
        else fb.i32RemU();
        fb.i64ExtendI32S();
      }
    };
    const byZero = (): void => {
      if (isDiv) fb.i64Const(M64);
      else {
        fb.get(la);
        if (!wide) fb.i64Extend32S();
      }
    };
    const knownDivisor = isConst(b) ? (wide ? BigInt.asIntN(64, b) : BigInt.asIntN(32, b)) : undefined;
    if (knownDivisor !== undefined && knownDivisor !== 0n && !(signed && knownDivisor === -1n)) {
      quotientOrRemainder();
      return;
    }
    divisor();
    if (wide) fb.i64Eqz();
    else fb.i32Eqz();
    fb.if_(I64);
    byZero();
    fb.else_();
    if (signed) {
      // x / -1 = -x (wraps at MIN, where the wasm instruction would trap); x % -1 = 0.
      divisor();
      if (wide) fb.i64Const(M64).i64Eq();
      else fb.i32Const(-1).i32Eq();
      fb.if_(I64);
      if (isDiv) {
        fb.i64Const(0n).get(la).i64Sub();
        if (!wide) fb.i64Extend32S();
      } else fb.i64Const(0n);
      fb.else_();
      quotientOrRemainder();
      fb.end();
    } else quotientOrRemainder();
    fb.end();
  }

  /** Leaves `addr + off` in the addr local. */
  private emitAddress(addr: Arg, off: bigint): void {
    const fb = this.fb;
    if (isConst(addr)) fb.i64Const((addr + off) & M64);
    else {
      fb.get(this.local(addr));
      if (off !== 0n) fb.i64Const(off).i64Add();
    }
    fb.set(this.addr);
  }

  /** Pushes (tag == page of addr with the low alignment bits) for the TLB table in `table`; tees the entry to e. */
  private tlbProbe(table: Local, size: number): void {
    const fb = this.fb;
    fb.get(this.addr).i32WrapI64().i32Const(12 - Math.log2(TLB_ENTRY_BYTES)).i32ShrU();
    fb.i32Const((TLB_ENTRIES - 1) * TLB_ENTRY_BYTES).i32And().get(table).i32Add().tee(this.e);
    fb.i64Load().get(this.addr).i64Const(PAGE_MASK | BigInt(size - 1)).i64And().i64Eq();
  }

  /** Pushes the host address of a TLB hit (addr + the entry's addend). */
  private hostAddress(): void {
    this.fb.get(this.addr).i32WrapI64().get(this.e).i32Load(8).i32Add();
  }

  private statusSet(): void {
    this.fb.i32Const(0).i32Load(this.ctx.vars + JV_STATUS);
  }

  /**
   * After a slow path reported an event: the fault (or a stop after the instruction) leaves,
   * through the one slow tail (each site only names its row of the tail's table: the code stays
   * small, which Liftoff, compiling every byte, repays).
   */
  private slowExit(b: IrBlock, insn: { pc: bigint; npc: bigint; index: number }): void {
    this.slowIdx ??= this.fb.local(I32);
    this.slowTable.push({ pc: insn.pc, npc: insn.npc, refund: b.insns - 1 - insn.index });
    this.fb.i32Const(this.slowTable.length - 1).set(this.slowIdx);
    this.fb.br(this.fb.depth - this.slowDepth);
  }

  /** The slow tail: give back the budget of what did not run, take the event (jitSlowExit), leave. */
  private emitSlowTail(): void {
    const fb = this.fb;
    if (!this.slowTable.length) {
      fb.unreachable();
      return;
    }
    const rows = new DataView(new ArrayBuffer(this.slowTable.length * SLOW_ROW));
    this.slowTable.forEach((r, i) => {
      rows.setBigUint64(i * SLOW_ROW, r.pc, true);
      rows.setBigUint64(i * SLOW_ROW + 8, r.npc, true);
      rows.setUint32(i * SLOW_ROW + 16, r.refund, true);
    });
    const table = this.ctx.allocData(new Uint8Array(rows.buffer));
    fb.get(this.slowIdx!).i32Const(SLOW_ROW).i32Mul().tee(this.e);
    fb.i32Load(table + 16).get(this.budget).i32Add().set(this.budget);
    fb.get(this.e).i64Load(table).get(this.e).i64Load(table + 8);
    this.callHelper(H_SLOW_EXIT);
    fb.set(this.exitPc);
    fb.i32Const(ExitKind.Slow).set(this.exitKind).i32Const(0).set(this.exitSlot);
  }

  private emitLoad(op: Extract<Op, { kind: 'load' }>, b: IrBlock): void {
    const fb = this.fb;
    this.emitAddress(op.addr, op.off);
    this.tlbProbe(this.tlbR!, op.size);
    fb.if_(I64, true);
    this.hostAddress();
    fb.i64LoadSized(op.size, op.signed);
    fb.else_();
    fb.get(this.addr).i32Const(op.size);
    this.callHelper(H_LOAD);
    if (op.signed && op.size === 1) fb.i64Extend8S();
    if (op.signed && op.size === 2) fb.i64Extend16S();
    if (op.signed && op.size === 4) fb.i64Extend32S();
    fb.set(this.val);
    this.statusSet();
    fb.if_(VOID, false);
    // A stop (MMIO that changed an interrupt line) completes the load first; a fault does not.
    if (op.d < FIRST_LOCAL) {
      this.statusSet();
      fb.i32Const(SLOW_STOP).i32Eq().if_();
      fb.get(this.val).set(this.local(op.d));
      fb.end();
    }
    this.slowExit(b, op.insn);
    fb.end();
    fb.get(this.val);
    fb.end();
    fb.set(this.local(op.d));
  }

  private emitStore(op: Extract<Op, { kind: 'store' }>, b: IrBlock): void {
    const fb = this.fb;
    this.emitAddress(op.addr, op.off);
    this.tlbProbe(this.tlbW!, op.size);
    fb.if_(VOID, true);
    this.hostAddress();
    this.push(op.v);
    fb.i64StoreSized(op.size);
    fb.else_();
    fb.get(this.addr);
    this.push(op.v);
    fb.i32Const(op.size);
    this.callHelper(H_STORE);
    this.statusSet();
    fb.if_(VOID, false);
    this.slowExit(b, op.insn);
    fb.end();
    fb.end();
  }

  private emitExec(op: Extract<Op, { kind: 'exec' }>, b: IrBlock): void {
    const fb = this.fb;
    // The handler sees the register file in memory, and may trap with it.
    this.writeBack();
    fb.i32Const(op.record).i64Const(op.insn.pc).get(this.budget);
    this.callHelper(H_EXEC);
    fb.set(this.val);
    // What it wrote to rd comes back first: the exit path writes the locals back to memory.
    if (op.writes) fb.i32Const(0).i64Load(ST_X + op.writes * 8).set(this.regs.get(op.writes)!);
    fb.get(this.val).i64Const(CONT).i64Ne().if_(VOID, false);
    this.refund(b, op.insn.index);
    fb.get(this.val).set(this.exitPc);
    this.exit(ExitKind.Helper, 0);
    fb.end();
  }
}
